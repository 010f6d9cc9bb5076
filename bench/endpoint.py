"""Benchmark: the local endpoint over loopback HTTP, single-row and 100-row requests.

Set-up (not timed): `sagespec run` of the California housing pipeline in a fresh workspace
(one network, 2 epochs on the first 5,000 rows: the model's size is what matters, not its
quality), approve version 1, `sagespec promote --stage qa`.

Measured: POST /invocations with text/csv rows of the test split, over one keep-alive
connection (latency) and from 4 client threads (throughput), each run bounded by a request
count and a time limit, whichever comes first.

Baseline: the same SavedModel signature called in this process on the same rows, no HTTP:
the ratio is what serving over HTTP costs on top of the model itself.

    python bench/endpoint.py [--requests 2000] [--seconds 20] [--smoke]

--smoke: the same path in seconds: 1,000 rows (the fewest that make one 100-row request of the
test split), 1 epoch, 20 requests or 2 s per measurement, 8 concurrent clients.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
PACKAGE = "arn:aws:sagemaker:us-east-1:222222222222:model-package/california-housing/1"
CONCURRENT_CLIENTS = 50


def sagespec(project: Path, workspace: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "sagespec", *args],
        cwd=project,
        capture_output=True,
        text=True,
        env={**os.environ, "SAGESPEC_WORKSPACE": str(workspace), "NO_COLOR": "1"},
    )
    if done.returncode != 0:
        sys.exit(f"sagespec {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def set_up(folder: Path, rows: int, epochs: int) -> tuple[Path, Path]:
    from _project import project_copy

    project = project_copy(folder / "project", max_rows=rows, ensemble=1)
    workspace = folder / "ws"
    sagespec(
        project,
        workspace,
        "run",
        "pipelines/california_housing.yaml",
        "--param",
        f"TrainingEpochs={epochs}",
        "--param",
        "AccuracyMseThreshold=100",
    )
    sagespec(project, workspace, "models", "approve", PACKAGE, "--as", "deployment", "--reason", "bench")
    sagespec(project, workspace, "promote", "california-housing", "--stage", "qa")
    return project, workspace


def split_features(workspace: Path) -> list[str]:
    from sagespec.backends.local.database import connect
    from sagespec.backends.local.objects import ObjectStore

    store = ObjectStore(workspace, connect(workspace))
    uri = next(u for u in store.list("s3://") if u.endswith("/PreprocessData/output/test/test.csv"))
    return [line.split(",", 1)[1] for line in store.get(uri).decode().splitlines()[1:] if line]


def run_clients(
    port: int, bodies: list[bytes], threads: int, limit: int, seconds: float, errors: list | None = None
) -> tuple[list[float], float]:
    """Latencies (s) of up to `limit` requests within `seconds`, spread over `threads` keep-alive
    connections; with `errors`, a failed request (reset, timeout, non-200) is counted there
    instead of ending the run."""
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds
    per_thread = limit // threads

    def client(offset: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = []
        for i in range(per_thread):
            if time.perf_counter() > deadline:
                break
            body = bodies[(offset + i) % len(bodies)]
            started = time.perf_counter()
            try:
                connection.request("POST", "/invocations", body, {"Content-Type": "text/csv"})
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    raise RuntimeError(f"HTTP {response.status}")
            except Exception as exc:
                if errors is None:
                    raise
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}")
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                continue
            mine.append(time.perf_counter() - started)
        connection.close()
        with lock:
            latencies.extend(mine)

    started = time.perf_counter()
    workers = [threading.Thread(target=client, args=(n * 997,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return latencies, time.perf_counter() - started


def in_process(workspace: Path, batches: list[list[str]], limit: int, seconds: float) -> list[float]:
    import numpy as np
    import tensorflow as tf

    from sagespec.backends.local.database import connect
    from sagespec.backends.local.objects import ObjectStore

    conn = connect(workspace)
    uri = json.loads(conn.execute("SELECT primary_container FROM models WHERE account = '444444444444'").fetchone()[0])["ModelDataUrl"]
    folder = Path(tempfile.mkdtemp())
    with tarfile.open(fileobj=io.BytesIO(ObjectStore(workspace, conn).get(uri)), mode="r:gz") as tar:
        tar.extractall(folder)
    signature = tf.saved_model.load(str(folder / "1")).signatures["serving_default"]
    name = next(iter(signature.structured_input_signature[1]))
    latencies, deadline = [], time.perf_counter() + seconds
    for i in range(limit):
        if time.perf_counter() > deadline:
            break
        rows = batches[i % len(batches)]
        started = time.perf_counter()
        matrix = np.asarray([[float(v) for v in r.split(",")] for r in rows], dtype=np.float32)  # parsing, as the server does
        signature(**{name: tf.constant(matrix)})
        latencies.append(time.perf_counter() - started)
    return latencies


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="at most this many requests per measurement")
    parser.add_argument("--seconds", type=float, default=20.0, help="and at most this long")
    parser.add_argument("--smoke", action="store_true", help="seconds-long check of the same path (1,000 rows, 1 epoch, 20 requests)")
    args = parser.parse_args()
    rows_used, epochs, clients = 5000, 2, CONCURRENT_CLIENTS
    if args.smoke:
        args.requests, args.seconds, rows_used, epochs, clients = 20, 2.0, 1000, 1, 8

    with tempfile.TemporaryDirectory() as folder:
        print("set-up: run the pipeline, approve, promote to qa ...", flush=True)
        project, workspace = set_up(Path(folder), rows_used, epochs)
        endpoint = json.loads(sagespec(project, workspace, "endpoints", "list", "--output", "json"))[0]
        rows = split_features(workspace)
        singles = [[r] for r in rows]
        hundreds = [rows[i : i + 100] for i in range(0, len(rows) - 100, 100)]
        table = []
        try:
            for label, batches, limit in [("1 row", singles, args.requests), ("100 rows", hundreds, max(1, args.requests // 4))]:
                bodies = ["\n".join(b).encode() for b in batches]
                sequential, elapsed = run_clients(endpoint["Port"], bodies, 1, limit, args.seconds)
                parallel, p_elapsed = run_clients(endpoint["Port"], bodies, 4, limit, args.seconds)
                baseline = in_process(workspace, batches, limit, args.seconds)
                table.append(
                    (
                        label,
                        len(sequential),
                        len(sequential) / elapsed,
                        len(parallel) / p_elapsed,
                        percentile(sequential, 0.5),
                        percentile(sequential, 0.99),
                        statistics.median(baseline),
                    )
                )
            errors: list[str] = []
            bodies = ["\n".join(b).encode() for b in singles]
            crowd, crowd_elapsed = run_clients(endpoint["Port"], bodies, clients, args.requests * 5, args.seconds, errors)
        finally:
            sagespec(project, workspace, "endpoints", "delete", endpoint["EndpointName"])

    print(
        f"\nlocal endpoint on 127.0.0.1 ({os.cpu_count()} CPUs), text/csv, keep-alive; "
        f"each measurement bounded by {args.requests} requests (100-row: {max(1, args.requests // 4)}) and {args.seconds:g} s"
    )
    print(
        f"{'request':<10} {'n':>6} {'req/s (1 client)':>17} {'req/s (4 clients)':>18} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'in-process p50 ms':>18} {'p50 / in-process':>17}"
    )
    for label, n, rps, rps4, p50, p99, base in table:
        print(
            f"{label:<10} {n:>6} {rps:>17.0f} {rps4:>18.0f} {1000 * p50:>8.2f} {1000 * p99:>8.2f} {1000 * base:>18.2f} {p50 / base:>16.1f}x"
        )

    print(f"\n{clients} concurrent keep-alive clients, 1-row requests, bounded by {args.requests * 5} requests and {args.seconds:g} s")
    print(f"{'clients':<10} {'answered':>9} {'errors':>7} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
    print(
        f"{clients:<10} {len(crowd):>9} {len(errors):>7} {len(crowd) / crowd_elapsed:>8.0f} "
        f"{1000 * percentile(crowd, 0.5):>8.2f} {1000 * percentile(crowd, 0.99):>8.2f}"
    )
    if errors:
        print("first errors:", "; ".join(errors[:3]))
    if not crowd or not all(row[1] for row in table):
        raise SystemExit("the endpoint answered no request")


if __name__ == "__main__":
    main()
