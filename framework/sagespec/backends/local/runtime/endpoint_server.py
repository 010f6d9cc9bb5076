"""One local endpoint: SageMaker's inference container contract on 127.0.0.1.

    GET  /ping           200 once the variants are loaded (503 before)
    POST /invocations    the request body, Content-Type and Accept go to the variant's model,
                         served as its image would serve it (sagespec.backends.local.serving): TensorFlow
                         Serving's REST contract, or the inference toolkit's handlers

Requests are routed to a production variant at random by weight (or to the variant named in
X-Amzn-SageMaker-Target-Variant, like InvokeEndpoint's TargetVariant); the answer names it in
X-Amzn-Invoked-Production-Variant. Bad input gets a 4xx with a JSON message and never stops the
server. The process watches its endpoint row: a new generation (UpdateEndpoint, or new weights)
is loaded beside the running one and swapped in; a deleted row stops the process.

Run by LocalHosting as `python -m sagespec.backends.local.runtime.endpoint_server --workspace W --account A --endpoint N`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sagespec.aws.limits import MAX_PAYLOAD_BYTES
from sagespec.backends.local.database import DATABASE_NAME, connect, now, transaction
from sagespec.backends.local.models import containers_of, read_model
from sagespec.backends.local.objects import ObjectStore
from sagespec.backends.local.runtime import inference_toolkit, tf_serving
from sagespec.backends.local.serving import BadRequest, server_for

if TYPE_CHECKING:
    import sqlite3
    from types import FrameType

    from _typeshed.wsgi import StartResponse, WSGIEnvironment
    from waitress.server import BaseWSGIServer, MultiSocketServer

POLL_SECONDS = 0.2


class Container(Protocol):
    """What a served model does with a request: (body, content type) -> (body, content type)."""

    name: str

    def invoke(self, body: bytes, content_type: str, accept: str) -> tuple[bytes, str]: ...


@dataclass
class Variant:
    name: str
    weight: float
    model: Container


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


class InferencePipeline:
    """An inference pipeline's containers, answering in order: the first gets the client's
    request, each next one the previous one's response (with its Content-Type), and SageMaker
    returns the last one's ("Host models along with pre-processing logic as serial inference
    pipeline", SageMaker developer guide). The last container gets the client's Accept; the others
    answer in their default (SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT), as they would on SageMaker,
    where an intermediate container is usually told to answer text/csv that way."""

    def __init__(self, name: str, containers: list[Container]):
        self.name, self.containers = name, containers

    def invoke(self, body: bytes, content_type: str, accept: str) -> tuple[bytes, str]:
        for position, container in enumerate(self.containers, 1):
            last = position == len(self.containers)
            body, content_type = container.invoke(body, content_type, accept if last else "*/*")
        return body, content_type


def load_container(name: str, container: dict[str, Any], archive: bytes, folder: Path, fetch: Callable[[str], bytes]) -> Container:
    """A model container loaded by the server that stands in for its image (sagespec.backends.local.serving)."""
    server = server_for(container)
    if server.kind == "tf_serving":
        return tf_serving.load(name, archive, folder)

    return inference_toolkit.load(server.kind, name, container, archive, folder, fetch)


class Endpoint:
    """The serving state: the current router, swapped whole on each update."""

    def __init__(self, workspace: Path, account: str, name: str):
        self.workspace, self.account, self.name = workspace, account, name
        self.conn = connect(workspace)
        self.store = ObjectStore(workspace, self.conn)
        self.models: dict[str, Container] = {}
        self.router: Router | None = None
        self.stopping = threading.Event()

    def row(self) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.conn.execute(
            "SELECT * FROM endpoints WHERE account = ? AND name = ?", (self.account, self.name)
        ).fetchone()
        return row

    def _model(self, model_name: str) -> Container:
        if model_name not in self.models:
            model = read_model(self.conn, self.account, model_name)
            if model is None:
                raise ValueError(f"model {model_name} does not exist in account {self.account}")
            folder = self.workspace / "endpoints" / self.account / self.name / "models" / model_name
            loaded = [
                load_container(model_name, c, self.store.get(c["ModelDataUrl"]), folder / str(i), self.store.get)
                for i, c in enumerate(containers_of(model))
            ]
            self.models[model_name] = loaded[0] if len(loaded) == 1 else InferencePipeline(model_name, loaded)
        return self.models[model_name]

    def apply(self, row: sqlite3.Row) -> None:
        """Load generation `row['generation']` beside the current one, then swap it in."""

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

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        variant, answer, answer_type = None, b"", "application/json"
        try:
            if path == "/ping" and method in ("GET", "HEAD"):
                router = self.endpoint.router
                status, payload = (503, {"status": "loading"}) if router is None else (200, {"status": "healthy", "config": router.config})
            elif path == "/invocations" and method == "POST":
                variant, answer, answer_type = self.invoke(environ)
                status, payload = 200, None
            else:
                raise BadRequest(404, f"no route {method} {path}; the container answers GET /ping and POST /invocations")
        except BadRequest as error:
            print(f"{method} {path}: {error.status} {error}", flush=True)
            status, payload = error.status, {"error": str(error)}
        except Exception as exc:  # noqa: BLE001 - a request never takes the server down
            print(f"{method} {path}: 500 {type(exc).__name__}: {exc}", flush=True)
            status, payload = 500, {"error": f"inference failed: {type(exc).__name__}: {exc}"}
        if payload is not None:
            answer, answer_type = json.dumps(payload).encode(), "application/json"
        headers = [("Content-Type", answer_type), ("Content-Length", str(len(answer)))]
        if variant:
            headers.append(("X-Amzn-Invoked-Production-Variant", variant))
        start_response(f"{status} {REASONS.get(status, 'Error')}", headers)
        return [answer]

    def invoke(self, environ: WSGIEnvironment) -> tuple[str, bytes, str]:
        length = environ.get("CONTENT_LENGTH") or ""
        if not length:
            raise BadRequest(411, "Content-Length is required")
        if not length.isdigit():
            raise BadRequest(400, f"Content-Length '{length[:40]}' is not a number")
        if int(length) > MAX_PAYLOAD_BYTES:
            raise BadRequest(413, f"the payload has {int(length)} bytes; the limit is {MAX_PAYLOAD_BYTES} (6 MB)")
        body = environ["wsgi.input"].read(int(length))
        router = self.endpoint.router
        if router is None:
            raise BadRequest(503, "the endpoint is still loading its model")
        variant = router.pick(environ.get("HTTP_X_AMZN_SAGEMAKER_TARGET_VARIANT"))
        if not body.strip():
            raise BadRequest(400, "the request body is empty; send feature rows")
        answer, answer_type = variant.model.invoke(body, environ.get("CONTENT_TYPE", ""), environ.get("HTTP_ACCEPT", ""))
        return variant.name, answer, answer_type


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


def serve(endpoint: Endpoint, port: int = 0) -> MultiSocketServer | BaseWSGIServer:
    """The waitress server of `endpoint` on 127.0.0.1 (not yet running: call .run())."""
    from waitress.server import create_server  # start-up: only to serve; batch transform loads the containers only

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
    parser = argparse.ArgumentParser(prog="python -m sagespec.backends.local.runtime.endpoint_server")
    parser.add_argument("--workspace", required=True, type=Path)
    parser.add_argument("--account", required=True)
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)

    endpoint = Endpoint(args.workspace, args.account, args.endpoint)
    server = serve(endpoint, args.port)
    port = server.effective_port  # type: ignore[union-attr]  # one address: a BaseWSGIServer, whose effective_port types-waitress omits
    with transaction(endpoint.conn):
        endpoint.conn.execute(
            "UPDATE endpoints SET port = ?, pid = ? WHERE account = ? AND name = ?", (port, os.getpid(), args.account, args.endpoint)
        )
    print(f"endpoint {args.endpoint} (account {args.account}) listening on http://127.0.0.1:{port}", flush=True)

    def stop(signum: int, frame: FrameType | None) -> None:
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
