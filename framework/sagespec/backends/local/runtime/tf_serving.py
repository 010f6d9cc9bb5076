"""TensorFlow Serving's REST contract for one SavedModel, as the tensorflow-inference image serves it.

The body is raw feature rows, as text/csv (one row per line, no header) or application/json
([[...], ...], one row [...], or {"instances": [...]}); the answer is TensorFlow Serving's
{"predictions": [[y], ...]}. The model is the highest numeric version folder of the archive
(TensorFlow Serving's layout), called through its serving_default signature.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sagespec.backends.local.serving import BadRequest, unpack

FLOAT32_MAX = 3.4028234663852886e38  # numpy.finfo(numpy.float32).max: the SavedModel's input type


@dataclass
class SavedModel:
    name: str
    signature: Any  # a concrete function (TensorFlow's): float32 [n, features] -> {output: [n, ...]}
    input_name: str
    features: int | None

    def invoke(self, body: bytes, content_type: str, accept: str) -> tuple[bytes, str]:
        if accept and not any(a.split(";")[0].strip() in ("application/json", "*/*", "application/*") for a in accept.split(",")):
            raise BadRequest(406, f"Accept '{accept[:80]}' cannot be served; responses are application/json")
        rows = parse_rows(body, content_type, self.features)
        return json.dumps({"predictions": predict(self, rows)}).encode(), "application/json"


def _tensorflow() -> Any:
    import tensorflow as tf  # ~2 s: only to serve a SavedModel, never when an endpoint serves another framework

    return tf


def load(name: str, archive: bytes, folder: Path) -> SavedModel:
    """Unpack model.tar.gz and load its SavedModel as TensorFlow Serving would (highest numeric version)."""
    tf = _tensorflow()

    unpack(archive, folder)
    versions = sorted((p for p in folder.iterdir() if p.is_dir() and p.name.isdigit()), key=lambda p: int(p.name))
    saved = versions[-1] if versions else folder
    signature = tf.saved_model.load(str(saved)).signatures["serving_default"]
    inputs = signature.structured_input_signature[1]
    if len(inputs) != 1:
        raise ValueError(f"{name}: the serving signature takes {len(inputs)} inputs; one feature matrix is supported")
    input_name, spec = next(iter(inputs.items()))
    features = spec.shape[-1] if spec.shape.rank == 2 else None
    return SavedModel(name, signature, input_name, features)


def parse_rows(body: bytes, content_type: str, features: int | None) -> list[list[float]]:
    if not body.strip():
        raise BadRequest(400, "the request body is empty; send feature rows")
    kind = content_type.split(";")[0].strip().lower()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest(400, "the request body is not UTF-8 text") from None
    if kind == "text/csv":
        rows = []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                rows.append([float(cell) for cell in line.split(",")])
            except ValueError:
                raise BadRequest(400, f"CSV line {number} has a value that is not a number: {line[:80]!r}") from None
    elif kind == "application/json":
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise BadRequest(400, f"the body is not valid JSON: {exc}") from None
        except RecursionError:
            raise BadRequest(400, "the JSON nests too deeply; send a list of feature rows") from None
        if isinstance(data, dict):
            if "instances" not in data:
                raise BadRequest(400, 'a JSON object needs an "instances" list of feature rows')
            data = data["instances"]
        if isinstance(data, list) and data and not isinstance(data[0], list):
            data = [data]
        if not isinstance(data, list) or not all(isinstance(r, list) for r in data):
            raise BadRequest(400, "JSON input must be a list of feature rows ([[...], ...]) or one row ([...])")
        rows = data
        for number, row in enumerate(rows, 1):
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in row):
                raise BadRequest(400, f"row {number} has a value that is not a number")
    else:
        raise BadRequest(415, f"content type '{content_type}' is not supported; use text/csv or application/json")
    if not rows:
        raise BadRequest(400, "no feature rows in the request")
    for number, row in enumerate(rows, 1):
        if features is not None and len(row) != features:
            raise BadRequest(400, f"row {number} has {len(row)} values; the model takes {features} values per row")
        for value in row:
            if isinstance(value, float) and not math.isfinite(value):
                raise BadRequest(400, f"row {number} has a value that is not finite (NaN or infinity)")
            if abs(value) > FLOAT32_MAX:  # an exact comparison, also for a 400-digit JSON integer
                raise BadRequest(400, f"row {number} has a value beyond float32's range (the model's input type)")
    return rows


def predict(model: SavedModel, rows: list[list[float]]) -> list[Any]:
    tf = _tensorflow()

    outputs = model.signature(**{model.input_name: tf.constant(np.asarray(rows, dtype=np.float32))})
    predictions: list[Any] = next(iter(outputs.values())).numpy().tolist()
    return predictions
