"""Benchmark: `sagespec compile` beside a hand-written SDK v2 script building the same pipeline.

Baseline: bench/sdk_pipeline.py (the California housing pipeline written directly against the
SDK, offline). Each run is a fresh process, as a user runs it. Also measured: a repeat compile of
the unchanged spec (served from the compile cache without importing the SDK) and, for scale, the
time of `import sagemaker` alone. With the SDK v3 environment (.venv-v3, `make test` builds it;
or --v3-python), the same spec compiled by the v3 backend and v3's import of its pipeline
modules, beside the v2 numbers.

Targets (issue #3): compile / hand-written <= 1.05; repeat compile well under the SDK import time.
(issue #20): v3 compile reported beside v2's, against the same hand-written v2 baseline.

    python bench/compile.py [--repeat N] [--v3-python .venv-v3/bin/python]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SPEC = "pipelines/california_housing.yaml"


def run(argv: list[str], env: dict) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{done.stderr[-3000:]}")
    return elapsed, done.stdout


def median(argv: list[str], env: dict, repeat: int) -> tuple[float, str]:
    runs = [run(argv, env) for _ in range(repeat)]
    return statistics.median(t for t, _ in runs), runs[-1][1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement; the median is reported")
    parser.add_argument("--v3-python", type=Path, default=ROOT / ".venv-v3" / "bin" / "python", help="the SDK v3 environment's python")
    args = parser.parse_args()
    v3 = args.v3_python if args.v3_python.is_file() else None
    with tempfile.TemporaryDirectory() as workspace:
        env = {**os.environ, "SAGEMAKER_SUPPRESS_V2_WARNING": "1", "SAGESPEC_WORKSPACE": workspace}
        sagespec = [str(BIN / "sagespec"), "compile", SPEC]
        cold, ours = median(sagespec + ["--no-cache"], env, args.repeat)
        hand, theirs = median([sys.executable, "bench/sdk_pipeline.py"], env, args.repeat)
        run(sagespec, env)  # fill the cache
        warm, cached = median(sagespec, env, args.repeat)
        sdk_import, _ = median([sys.executable, "-c", "import sagemaker"], env, args.repeat)
        if v3:
            v3_env = {**env, "AWS_DEFAULT_REGION": "us-east-1"}  # for the bare import below; compile needs none
            v3_cold, _ = median([str(v3), "-m", "sagespec", "compile", SPEC, "--no-cache"], env, args.repeat)
            v3_import, _ = median([str(v3), "-c", "import sagemaker.mlops.workflow, sagemaker.train, sagemaker.serve"], v3_env, args.repeat)

    def same_pipeline(a: str, b: str) -> str:
        if a == b:
            return "identical"
        normalise = lambda text: re.sub(r"/code/[0-9a-f]{64}/", "/code/<hash>/", text)  # noqa: E731
        return "identical except code hashes" if normalise(a) == normalise(b) else "DIFFERENT"

    print(f"sagespec compile vs hand-written SDK script (median of {args.repeat} fresh processes, Python {sys.version.split()[0]})")
    print()
    print(f"| {'measurement':<52} | {'seconds':>7} | {'ratio':>24} |")
    print(f"|{'-' * 54}|{'-' * 9}|{'-' * 26}|")
    rows = [
        ("hand-written SDK script (bench/sdk_pipeline.py)", hand, "1.00 (baseline)"),
        ("sagespec compile --no-cache", cold, f"{cold / hand:.2f} x hand-written"),
        ("sagespec compile, unchanged spec (cache hit)", warm, f"{warm / sdk_import:.2f} x import sagemaker"),
        ("python -c 'import sagemaker'", sdk_import, "-"),
    ]
    if v3:
        rows += [
            ("sagespec compile --no-cache, SDK v3 backend", v3_cold, f"{v3_cold / hand:.2f} x hand-written v2"),
            ("SDK v3: import mlops.workflow, train, serve", v3_import, f"{v3_import / sdk_import:.2f} x import v2"),
        ]
    for label, seconds, ratio in rows:
        print(f"| {label:<52} | {seconds:>7.3f} | {ratio:>24} |")
    print()
    print(f"definitions: sagespec vs hand-written {same_pipeline(ours, theirs)}; cached vs fresh {same_pipeline(cached, ours)}")
    print(f"target compile/hand-written <= 1.05: {cold / hand:.2f} {'met' if cold / hand <= 1.05 else 'MISSED'}")
    print(f"target repeat compile well under SDK import ({sdk_import:.2f} s): {warm:.2f} s {'met' if warm < sdk_import / 2 else 'MISSED'}")
    if v3:
        print(f"SDK v3 compile: {v3_cold:.2f} s, {v3_cold / cold:.2f} x the v2 backend")
    else:
        print(f"SDK v3 not measured: no {args.v3_python} (make .venv-v3/.installed-test builds it)")


if __name__ == "__main__":
    main()
