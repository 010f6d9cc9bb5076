"""Benchmark: `sagespec compile` beside a hand-written SDK v2 script building the same pipeline.

Baseline: bench/sdk_pipeline.py (the California housing pipeline written directly against the
SDK, offline). Each run is a fresh process, as a user runs it, the two interleaved so load from
other programs falls on both. Also measured: a repeat compile of the unchanged spec (served from
the compile cache without importing the SDK) and, for scale, the time of `import sagemaker`
alone. With the SDK v3 environment (.venv-v3, `make test` builds it; or --v3-python), the same
spec compiled by the v3 backend and v3's import of its pipeline modules, beside the v2 numbers.

Targets (issue "Speed, in bench/"): a fresh compile (--no-cache) <= 1.0 x the hand-written script;
a compile of the unchanged spec (cache hit) under 0.3 s. (issue #20): v3 compile reported beside
v2's, against the same hand-written v2 baseline.

    python bench/compile.py [--repeat N] [--v3-python .venv-v3/bin/python] [--smoke]
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path

from _timing import BIN, ROOT, bytecode_as_installed, importtime, interleaved, largest_imports, load_note, ratio, run, table, verdict

SPEC = "pipelines/california_housing.yaml"
TARGET_RATIO, TARGET_CACHED = 1.0, 0.3


def main() -> None:
    bytecode_as_installed()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs per measurement; medians are reported (default 7)")
    parser.add_argument(
        "--v3-python", type=Path, default=None, help="the SDK v3 environment's python (default .venv-v3/bin/python if present)"
    )
    parser.add_argument("--smoke", action="store_true", help="seconds-long check of the same path: 1 run each, no v3 unless --v3-python")
    args = parser.parse_args()
    if args.smoke:
        args.repeat = 1
    default_v3 = ROOT / ".venv-v3" / "bin" / "python"
    v3 = args.v3_python or (None if args.smoke or not default_v3.is_file() else default_v3)
    if v3 and not v3.is_file():
        raise SystemExit(f"no python at {v3}")
    with tempfile.TemporaryDirectory(prefix="sagespec-bench-compile-") as workspace:
        env = {**os.environ, "SAGEMAKER_SUPPRESS_V2_WARNING": "1", "SAGESPEC_WORKSPACE": workspace}
        sagespec = [str(BIN / "sagespec"), "compile", SPEC]
        fresh = interleaved({"sagespec": sagespec + ["--no-cache"], "hand": [sys.executable, "bench/sdk_pipeline.py"]}, args.repeat, env)
        run(sagespec, env)  # fill the cache
        cache_hit_imports = importtime(sagespec, env, 1 if args.smoke else 3)
        warm_commands = {"cached": sagespec, "import": [sys.executable, "-c", "import sagemaker"]}
        if args.smoke:  # the import is for scale only
            del warm_commands["import"]
        cached = interleaved(warm_commands, args.repeat, env)
        if v3:
            v3_env = {**env, "AWS_DEFAULT_REGION": "us-east-1"}  # for the bare import below; compile needs none
            v3_found = interleaved(
                {
                    "compile": [str(v3), "-m", "sagespec", "compile", SPEC, "--no-cache"],
                    "import": [str(v3), "-c", "import sagemaker.mlops.workflow, sagemaker.train, sagemaker.serve"],
                },
                args.repeat,
                v3_env,
            )

    def same_pipeline(a: str, b: str) -> str:
        if a == b:
            return "identical"
        normalise = lambda text: re.sub(r"/code/[0-9a-f]{64}/", "/code/<hash>/", text)  # noqa: E731
        return "identical except code hashes" if normalise(a) == normalise(b) else "DIFFERENT"

    ours, hand, warm, sdk_import = fresh["sagespec"], fresh["hand"], cached["cached"], cached.get("import")
    per_round = ratio(ours, hand)
    print(
        f"sagespec compile vs hand-written SDK script: medians of {args.repeat} fresh processes (min-max), Python {sys.version.split()[0]}"
    )
    print(load_note())
    print()
    rows = [
        ["hand-written SDK script (bench/sdk_pipeline.py)", hand.show(), "1.00 (baseline)"],
        ["sagespec compile --no-cache", ours.show(), f"{per_round.show(digits=2)} x hand-written"],
        [
            "sagespec compile, unchanged spec (cache hit)",
            warm.show(),
            f"{warm.median / sdk_import.median:.2f} x import sagemaker" if sdk_import else "-",
        ],
    ]
    if sdk_import:
        rows.append(["python -c 'import sagemaker'", sdk_import.show(), "-"])
    if v3:
        v3_cold, v3_import = v3_found["compile"], v3_found["import"]
        rows += [
            ["sagespec compile --no-cache, SDK v3 backend", v3_cold.show(), f"{v3_cold.median / hand.median:.2f} x hand-written v2"],
            [
                "SDK v3: import mlops.workflow, train, serve",
                v3_import.show(),
                f"{v3_import.median / sdk_import.median:.2f} x import v2" if sdk_import else "-",
            ],
        ]
    print(table(["measurement", "seconds", "ratio"], rows))
    print()
    value = per_round.median  # the median of the per-round ratios, as in the table
    print(
        f"definitions: sagespec vs hand-written {same_pipeline(ours.output, hand.output)}; cached vs fresh {same_pipeline(warm.output, ours.output)}"
    )
    print(f"target compile --no-cache <= {TARGET_RATIO:.2f} x hand-written: {value:.2f} {verdict(value <= TARGET_RATIO)}")
    print(
        f"target compile of the unchanged spec (cache hit) under {TARGET_CACHED} s: {warm.median:.2f} s {verdict(warm.median < TARGET_CACHED)}"
    )
    if v3:
        print(f"SDK v3 compile: {v3_cold.median:.2f} s, {v3_cold.median / ours.median:.2f} x the v2 backend")
    elif args.smoke:
        print("SDK v3 not measured in smoke mode (--v3-python .venv-v3/bin/python measures it)")
    else:
        print(f"SDK v3 not measured: no {default_v3} (make .venv-v3/.installed-test builds it)")
    total = sum(m["self"] for m in cache_hit_imports.values())
    print()
    print(
        f"a cache hit's imports (python -X importtime, which inflates them: {total * 1000:.0f} ms in all), the 10 largest under sagespec and third-party:"
    )
    print()
    print(table(["module", "cumulative ms", "self ms", "imported by"], largest_imports(cache_hit_imports, 10), "lrrl"))
    if "DIFFERENT" in (same_pipeline(ours.output, hand.output), same_pipeline(warm.output, ours.output)):
        raise SystemExit("the definitions differ: the comparison is not of the same pipeline")


if __name__ == "__main__":
    main()
