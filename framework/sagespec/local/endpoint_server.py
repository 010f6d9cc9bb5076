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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from sagespec.hosting import MAX_PAYLOAD_BYTES

POLL_SECONDS = 0.2


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
        if not all(math.isfinite(v) for v in row):
            raise BadRequest(400, f"row {number} has a value that is not finite (NaN or infinity)")
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


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as SageMaker's front end talks to the container
    # Headers and body go out in two writes; with Nagle's algorithm on, the body then waits for
    # the client's delayed ACK (40 ms on Linux) on every keep-alive request.
    disable_nagle_algorithm = True
    endpoint: Endpoint

    def _send(self, status: int, payload: dict, variant: str | None = None) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if variant:
            self.send_header("X-Amzn-Invoked-Production-Variant", variant)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args) -> None:
        pass  # errors are logged in _fail; an access log per request would dominate the log file

    def _fail(self, status: int, message: str) -> None:
        print(f"{self.command} {self.path}: {status} {message}", flush=True)
        self._send(status, {"error": message})

    def do_GET(self) -> None:
        if self.path != "/ping":
            return self._fail(404, f"no route GET {self.path}; the container answers GET /ping and POST /invocations")
        if self.endpoint.router is None:
            return self._send(503, {"status": "loading"})
        self._send(200, {"status": "healthy", "config": self.endpoint.router.config})

    def do_POST(self) -> None:
        if self.path != "/invocations":
            return self._fail(404, f"no route POST {self.path}; send inference requests to POST /invocations")
        try:
            length = self.headers.get("Content-Length")
            if length is None:
                self.close_connection = True
                raise BadRequest(411, "Content-Length is required")
            if not length.isdigit():
                self.close_connection = True
                raise BadRequest(400, f"Content-Length '{length}' is not a number")
            if int(length) > MAX_PAYLOAD_BYTES:
                self.close_connection = True  # the body is not read; the connection cannot be reused
                raise BadRequest(413, f"the payload has {int(length)} bytes; the limit is {MAX_PAYLOAD_BYTES} (6 MB)")
            body = self.rfile.read(int(length))
            accept = self.headers.get("Accept", "application/json")
            if not any(a.split(";")[0].strip() in ("application/json", "*/*", "application/*") for a in accept.split(",")):
                raise BadRequest(406, f"Accept '{accept}' cannot be served; responses are application/json")
            router = self.endpoint.router
            if router is None:
                raise BadRequest(503, "the endpoint is still loading its model")
            variant = router.pick(self.headers.get("X-Amzn-SageMaker-Target-Variant"))
            rows = parse_rows(body, self.headers.get("Content-Type", ""), variant.model.features)
            predictions = predict(variant.model, rows)
        except BadRequest as error:
            return self._fail(error.status, str(error))
        except Exception as exc:  # noqa: BLE001 - a request never takes the server down
            return self._fail(500, f"inference failed: {type(exc).__name__}: {exc}")
        self._send(200, {"predictions": predictions}, variant.name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sagespec.local.endpoint_server")
    parser.add_argument("--workspace", required=True, type=Path)
    parser.add_argument("--account", required=True)
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)

    from sagespec.local.database import transaction

    endpoint = Endpoint(args.workspace, args.account, args.endpoint)
    handler = type("BoundHandler", (Handler,), {"endpoint": endpoint})
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler)
    server.daemon_threads = True
    with transaction(endpoint.conn):
        endpoint.conn.execute(
            "UPDATE endpoints SET port = ?, pid = ? WHERE account = ? AND name = ?",
            (server.server_address[1], os.getpid(), args.account, args.endpoint),
        )
    print(f"endpoint {args.endpoint} (account {args.account}) listening on http://127.0.0.1:{server.server_address[1]}", flush=True)

    def stop(signum, frame) -> None:
        endpoint.stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    threading.Thread(target=server.serve_forever, name="http", daemon=True).start()
    started = time.monotonic()
    code = endpoint.watch()
    server.shutdown()
    print(f"stopped after {time.monotonic() - started:.1f} s", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
