"""One local endpoint: SageMaker's inference container contract on 127.0.0.1.

    GET  /ping           200 once the variants are loaded (503 before)
    POST /invocations    raw feature rows, as text/csv (one row per line, no header) or
                         application/json ([[...], ...], one row [...], or {"instances": [...]})
                         -> 200 {"predictions": [[y], ...]}, TensorFlow Serving's response format

Requests are routed to a production variant at random by weight (or to the variant named in
X-Amzn-SageMaker-Target-Variant, like InvokeEndpoint's TargetVariant); the answer names it in
X-Amzn-Invoked-Production-Variant. Bad input gets a 4xx with a JSON message and never stops the
server. The process watches its endpoint row: a new generation (UpdateEndpoint, or new weights)
is loaded beside the running one and swapped in; a deleted row stops the process.

Run by LocalHosting as `python -m sagespec.local.endpoint_server --workspace W --account A --endpoint N`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import signal
import sys
import tarfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from sagespec.hosting import MAX_PAYLOAD_BYTES

POLL_SECONDS = 0.2
FLOAT32_MAX = 3.4028234663852886e38  # numpy.finfo(numpy.float32).max: the SavedModel's input type


class BadRequest(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass
class LoadedModel:
    name: str
    predict: object  # a concrete function: float32 [n, features] -> {output: [n, ...]}
    input_name: str
    features: int | None


@dataclass
class Variant:
    name: str
    weight: float
    model: LoadedModel


class Router:
    def __init__(self, config: str, variants: list[Variant]):
        self.config, self.variants = config, variants
        self.by_name = {v.name: v for v in variants}
        self._weights = [v.weight for v in variants]

    def pick(self, target: str | None) -> Variant:
        if target:
            if target not in self.by_name:
                raise BadRequest(400, f"target variant '{target}' is not one of {sorted(self.by_name)}")
            return self.by_name[target]
        return random.choices(self.variants, weights=self._weights)[0]


def load_model(name: str, archive: bytes, folder: Path) -> LoadedModel:
    """Unpack model.tar.gz and load its SavedModel as TensorFlow Serving would (highest numeric version)."""
    import io

    import tensorflow as tf

    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        # The "data" filter refuses absolute paths and links out of the folder (Python >= 3.10.12).
        tar.extractall(folder, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
    versions = sorted((p for p in folder.iterdir() if p.is_dir() and p.name.isdigit()), key=lambda p: int(p.name))
    saved = versions[-1] if versions else folder
    signature = tf.saved_model.load(str(saved)).signatures["serving_default"]
    inputs = signature.structured_input_signature[1]
    if len(inputs) != 1:
        raise ValueError(f"{name}: the serving signature takes {len(inputs)} inputs; one feature matrix is supported")
    input_name, spec = next(iter(inputs.items()))
    features = spec.shape[-1] if spec.shape.rank == 2 else None
    return LoadedModel(name, signature, input_name, features)


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
            raise BadRequest(400, f"row {number} has {len(row)} values; the model takes {features} features")
        for value in row:
            if isinstance(value, float) and not math.isfinite(value):
                raise BadRequest(400, f"row {number} has a value that is not finite (NaN or infinity)")
            if abs(value) > FLOAT32_MAX:  # an exact comparison, also for a 400-digit JSON integer
                raise BadRequest(400, f"row {number} has a value beyond float32's range (the model's input type)")
    return rows


def predict(model: LoadedModel, rows: list[list[float]]) -> list:
    import numpy as np
    import tensorflow as tf

    outputs = model.predict(**{model.input_name: tf.constant(np.asarray(rows, dtype=np.float32))})
    return next(iter(outputs.values())).numpy().tolist()


class Endpoint:
    """The serving state: the current router, swapped whole on each update."""

    def __init__(self, workspace: Path, account: str, name: str):
        from sagespec.local.database import connect
        from sagespec.local.objects import ObjectStore

        self.workspace, self.account, self.name = workspace, account, name
        self.conn = connect(workspace)
        self.store = ObjectStore(workspace, self.conn)
        self.models: dict[str, LoadedModel] = {}
        self.router: Router | None = None
        self.stopping = threading.Event()

    def row(self):
        return self.conn.execute("SELECT * FROM endpoints WHERE account = ? AND name = ?", (self.account, self.name)).fetchone()

    def _model(self, model_name: str) -> LoadedModel:
        if model_name not in self.models:
            row = self.conn.execute(
                "SELECT primary_container FROM models WHERE account = ? AND name = ?", (self.account, model_name)
            ).fetchone()
            if row is None:
                raise ValueError(f"model {model_name} does not exist in account {self.account}")
            uri = json.loads(row["primary_container"])["ModelDataUrl"]
            folder = self.workspace / "endpoints" / self.account / self.name / "models" / model_name
            self.models[model_name] = load_model(model_name, self.store.get(uri), folder)
        return self.models[model_name]

    def apply(self, row) -> None:
        """Load generation `row['generation']` beside the current one, then swap it in."""
        from sagespec.local.database import now, transaction

        generation = row["generation"]
        try:
            config = self.conn.execute(
                "SELECT production_variants FROM endpoint_configs WHERE account = ? AND name = ?", (self.account, row["config_name"])
            ).fetchone()
            if config is None:
                raise ValueError(f"endpoint config {row['config_name']} does not exist")
            weights = json.loads(row["weights"])
            variants = [
                Variant(
                    v["VariantName"], float(weights.get(v["VariantName"], v.get("InitialVariantWeight", 1.0))), self._model(v["ModelName"])
                )
                for v in json.loads(config["production_variants"])
            ]
            if not any(v.weight > 0 for v in variants):
                raise ValueError("every variant has weight 0")
            self.router = Router(row["config_name"], variants)
            failure, status = None, "InService"
        except Exception as exc:  # noqa: BLE001 - reported to the waiting CLI, the old generation keeps serving
            failure = f"{type(exc).__name__}: {exc}"
            status = "InService" if self.router else "Failed"
            print(f"generation {generation} failed: {failure}", flush=True)
        with transaction(self.conn):
            self.conn.execute(
                "UPDATE endpoints SET status = ?, failure_reason = ?, served_generation = ?, serving_config = ?,"
                " last_modified_at = ? WHERE account = ? AND name = ? AND generation = ?",
                (status, failure, generation, self.router.config if self.router else None, now(), self.account, self.name, generation),
            )
        if self.router:
            print(
                f"generation {generation}: serving {self.router.config}: "
                + ", ".join(f"{v.name} ({v.model.name}) weight {v.weight:g}" for v in self.router.variants),
                flush=True,
            )

    def watch(self) -> int:
        from sagespec.local.database import DATABASE_NAME

        served = 0
        while not self.stopping.is_set():
            if not (self.workspace / DATABASE_NAME).exists():
                print("the workspace was removed; stopping", flush=True)  # e.g. `make clean`: no orphan servers
                return 0
            row = self.row()
            if row is None:
                print("endpoint deleted; stopping", flush=True)
                return 0
            if row["generation"] > served:
                served = row["generation"]
                self.apply(row)
                if self.router is None:
                    return 1
            self.stopping.wait(POLL_SECONDS)
        return 0


# Waitress (a well-kept pure-Python WSGI server) reads requests asynchronously and hands complete
# ones to a bounded pool of worker threads: a slow or half-open client holds no thread, an idle
# connection is closed after CHANNEL_TIMEOUT, and bodies over SageMaker's payload limit are refused
# (413) from their Content-Length before being read. It sets TCP_NODELAY on accepted sockets, so a
# keep-alive response never waits for the client's delayed ACK (Nagle's algorithm).
WORKER_THREADS = 4
LISTEN_BACKLOG = 1024
CHANNEL_TIMEOUT = 30  # seconds an idle or stalled connection is kept
CONNECTION_LIMIT = 256


class InferenceApp:
    """SageMaker's inference container contract as a WSGI application."""

    def __init__(self, endpoint: Endpoint):
        self.endpoint = endpoint

    def __call__(self, environ, start_response):
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        variant = None
        try:
            if path == "/ping" and method in ("GET", "HEAD"):
                router = self.endpoint.router
                status, payload = (503, {"status": "loading"}) if router is None else (200, {"status": "healthy", "config": router.config})
            elif path == "/invocations" and method == "POST":
                variant, predictions = self.invoke(environ)
                status, payload = 200, {"predictions": predictions}
            else:
                raise BadRequest(404, f"no route {method} {path}; the container answers GET /ping and POST /invocations")
        except BadRequest as error:
            print(f"{method} {path}: {error.status} {error}", flush=True)
            status, payload = error.status, {"error": str(error)}
        except Exception as exc:  # noqa: BLE001 - a request never takes the server down
            print(f"{method} {path}: 500 {type(exc).__name__}: {exc}", flush=True)
            status, payload = 500, {"error": f"inference failed: {type(exc).__name__}: {exc}"}
        body = json.dumps(payload).encode()
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        if variant:
            headers.append(("X-Amzn-Invoked-Production-Variant", variant))
        start_response(f"{status} {REASONS.get(status, 'Error')}", headers)
        return [body]

    def invoke(self, environ) -> tuple[str, list]:
        length = environ.get("CONTENT_LENGTH") or ""
        if not length:
            raise BadRequest(411, "Content-Length is required")
        if not length.isdigit():
            raise BadRequest(400, f"Content-Length '{length[:40]}' is not a number")
        if int(length) > MAX_PAYLOAD_BYTES:
            raise BadRequest(413, f"the payload has {int(length)} bytes; the limit is {MAX_PAYLOAD_BYTES} (6 MB)")
        body = environ["wsgi.input"].read(int(length))
        accept = environ.get("HTTP_ACCEPT", "application/json")
        if not any(a.split(";")[0].strip() in ("application/json", "*/*", "application/*") for a in accept.split(",")):
            raise BadRequest(406, f"Accept '{accept[:80]}' cannot be served; responses are application/json")
        router = self.endpoint.router
        if router is None:
            raise BadRequest(503, "the endpoint is still loading its model")
        variant = router.pick(environ.get("HTTP_X_AMZN_SAGEMAKER_TARGET_VARIANT"))
        rows = parse_rows(body, environ.get("CONTENT_TYPE", ""), variant.model.features)
        return variant.name, predict(variant.model, rows)


REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    411: "Length Required",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def serve(endpoint: Endpoint, port: int = 0):
    """The waitress server of `endpoint` on 127.0.0.1 (not yet running: call .run())."""
    from waitress.server import create_server

    return create_server(
        InferenceApp(endpoint),
        host="127.0.0.1",
        port=port,
        threads=WORKER_THREADS,
        backlog=LISTEN_BACKLOG,
        channel_timeout=CHANNEL_TIMEOUT,
        connection_limit=CONNECTION_LIMIT,
        max_request_body_size=MAX_PAYLOAD_BYTES,
        ident="sagespec-local-endpoint",
        clear_untrusted_proxy_headers=True,
        expose_tracebacks=False,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sagespec.local.endpoint_server")
    parser.add_argument("--workspace", required=True, type=Path)
    parser.add_argument("--account", required=True)
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)

    from sagespec.local.database import transaction

    endpoint = Endpoint(args.workspace, args.account, args.endpoint)
    server = serve(endpoint, args.port)
    port = server.effective_port
    with transaction(endpoint.conn):
        endpoint.conn.execute(
            "UPDATE endpoints SET port = ?, pid = ? WHERE account = ? AND name = ?", (port, os.getpid(), args.account, args.endpoint)
        )
    print(f"endpoint {args.endpoint} (account {args.account}) listening on http://127.0.0.1:{port}", flush=True)

    def stop(signum, frame) -> None:
        endpoint.stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    threading.Thread(target=server.run, name="http", daemon=True).start()
    started = time.monotonic()
    code = endpoint.watch()
    server.close()
    print(f"stopped after {time.monotonic() - started:.1f} s", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
