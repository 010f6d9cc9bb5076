"""Benchmark: the local registry with 10,000 versions in one group.

Measures `list --status Approved --latest` and `approve`, each two ways: the registry call itself
(in one process, median of many calls; this is what the target is about) and the whole
`sagespec models ...` command as a fresh process (interpreter and click start-up included),
beside `python -c "import click"` as the floor any click CLI pays.

Target (issue #5): each under 50 ms (median).

    python bench/registry.py [--versions N] [--calls N] [--runs N]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "framework"))

from sagespec.aws.partitions import partition  # noqa: E402
from sagespec.backends.local.database import connect  # noqa: E402
from sagespec.backends.local.registry import LocalRegistry  # noqa: E402
from sagespec.iam import Principal  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
REGION = "us-east-1"  # the accounts file's
OWNER = Principal.role("222222222222", "sagespec-shared-services-admin", "aws")
GROUP = "arn:aws:sagemaker:us-east-1:222222222222:model-package-group/california-housing"
INFERENCE = {
    "Containers": [
        {
            "Image": "763104351884.dkr.ecr.us-east-1.amazonaws.com/tensorflow-inference:2.13-cpu",
            "ModelDataUrl": "s3://sagespec-shared-artifacts-222222222222/california-housing/m/model.tar.gz",
        }
    ],
    "SupportedContentTypes": ["text/csv"],
    "SupportedResponseMIMETypes": ["application/json"],
}


def populate(workspace: Path, versions: int) -> list[str]:
    """Register `versions` versions through the registry API; approve 30%, reject 20%.

    Setup only: the connection skips fsync (synchronous=OFF) so filling 10,000 versions takes
    seconds; the measured calls below use the normal connection (synchronous=FULL).
    """
    conn = connect(workspace)
    conn.execute("PRAGMA synchronous = OFF")
    registry = LocalRegistry(conn, OWNER, REGION, partition("aws"))
    registry.create_group("california-housing")
    arns = [registry.register("california-housing", INFERENCE).arn for _ in range(versions)]
    rng = random.Random(0)
    for arn in rng.sample(arns, versions * 3 // 10):
        registry.update_status(arn, "Approved", "bench")
    for arn in rng.sample([a for a in arns if registry.describe(a).status != "Approved"], versions // 5):
        registry.update_status(arn, "Rejected", "bench")
    conn.close()
    return arns


def median_ms(fn, calls: int) -> float:
    samples = []
    for i in range(calls):
        started = time.perf_counter()
        fn(i)
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def cli_ms(argv: list[str], env: dict, runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True)
        samples.append((time.perf_counter() - started) * 1000)
        if done.returncode != 0:
            raise SystemExit(done.stderr)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=10_000)
    parser.add_argument("--calls", type=int, default=200, help="in-process calls per operation")
    parser.add_argument("--runs", type=int, default=15, help="CLI processes per command")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        workspace = Path(scratch) / "ws"
        started = time.perf_counter()
        arns = populate(workspace, args.versions)
        setup = time.perf_counter() - started
        registry = LocalRegistry(connect(workspace), Principal.role("222222222222", "bench", "aws"), REGION, partition("aws"))
        pending = [a for a in arns if registry.describe(a).status == "PendingManualApproval"]
        latest = registry.list_packages(GROUP, "Approved", latest=True)
        assert len(latest) == 1 and latest[0].status == "Approved"
        list_ms = median_ms(lambda i: registry.list_packages(GROUP, "Approved", latest=True), args.calls)
        approve_ms = median_ms(lambda i: registry.update_status(pending[i], "Approved", "bench"), args.calls)

        env = {**os.environ, "SAGESPEC_WORKSPACE": str(workspace), "SAGESPEC_AS": "shared-services"}
        sagespec = [str(Path(sys.executable).parent / "sagespec"), "models"]
        cli_list = cli_ms(sagespec + ["list", GROUP, "--status", "Approved", "--latest", "--output", "json"], env, args.runs)
        cli_approve = statistics.median(
            cli_ms(sagespec + ["approve", pending[args.calls + i], "--reason", "bench", "--output", "json"], env, 1)
            for i in range(args.runs)
        )
        floor = cli_ms([sys.executable, "-c", "import click"], env, args.runs)

    print(f"local registry, {args.versions} versions in one group (setup {setup:.1f} s), medians")
    print()
    print(f"| {'operation':<40} | {'registry call ms':>16} | {'sagespec CLI process ms':>23} |")
    print(f"|{'-' * 42}|{'-' * 18}|{'-' * 25}|")
    print(f"| {'models list --status Approved --latest':<40} | {list_ms:>16.2f} | {cli_list:>23.1f} |")
    print(f"| {'models approve ARN --reason ...':<40} | {approve_ms:>16.2f} | {cli_approve:>23.1f} |")
    floor_label = "(floor: python -c 'import click')"
    print(f"| {floor_label:<40} | {'':>16} | {floor:>23.1f} |")
    print()
    verdict = "met" if max(list_ms, approve_ms) < 50 else "MISSED"
    print(
        f"target under 50 ms (median): registry calls {list_ms:.2f} / {approve_ms:.2f} ms {verdict}; "
        f"as whole CLI processes {cli_list:.0f} / {cli_approve:.0f} ms, of which {floor:.0f} ms is interpreter + click start-up"
    )


if __name__ == "__main__":
    main()
