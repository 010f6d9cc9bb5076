"""Benchmark: `sagespec validate` beside `check-jsonschema` on the same files.

Both run as a user runs them (a fresh process per call), so start-up time counts. Baseline:
check-jsonschema --schemafile schemas/pipeline.schema.json, which checks the schema only;
sagespec also renders templates and runs the semantic rules.

Targets (issue #2): one file no slower than check-jsonschema (ratio <= 1.0); 500 files in one
call under 2 s.

    python bench/validate.py [--repeat N] [--files N]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sagespec.spec.project import is_accounts_file

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SCHEMA = ROOT / "schemas" / "pipeline.schema.json"
BASE = ROOT / "tests" / "spec" / "fixtures" / "good" / "minimal.yaml"


def timed(argv: list[str], repeat: int, expect: int = 0) -> float:
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT)
        runs.append(time.perf_counter() - started)
        if done.returncode != expect:
            raise SystemExit(f"{' '.join(argv[:3])}... exited {done.returncode}:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return statistics.median(runs)


def generate(folder: Path, count: int) -> list[Path]:
    """`count` distinct valid specs: names, defaults, thresholds and instance types vary."""
    text = BASE.read_text()
    instance_types = ["ml.m5.xlarge", "ml.m5.large", "ml.c5.2xlarge", "ml.g4dn.xlarge"]
    files = []
    for i in range(count):
        variant = (
            text.replace("name: corpus-pipeline", f"name: generated-pipeline-{i}")
            .replace("default: ml.m5.xlarge", f"default: {instance_types[i % len(instance_types)]}")
            .replace("{type: Integer, default: 5}", f"{{type: Integer, default: {5 + i % 50}}}")
            .replace("{type: Float, default: 0.5}", f"{{type: Float, default: {0.2 + (i % 30) / 100:.2f}}}")
        )
        path = folder / f"spec_{i:04d}.yaml"
        path.write_text(variant)
        files.append(path)
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement; the median is reported")
    parser.add_argument("--files", type=int, default=500, help="generated specs for the many-files case")
    args = parser.parse_args()

    sagespec = [str(BIN / "sagespec"), "validate", "--quiet", "--project-dir", str(ROOT)]
    check = [str(BIN / "check-jsonschema"), "--schemafile", str(SCHEMA)]
    if not shutil.which(check[0]):
        raise SystemExit("check-jsonschema is not installed (pip install -e '.[test]')")

    # Pipeline specs only: accounts.yaml has a schema of its own, which check-jsonschema would
    # be handed the pipeline schema for (sagespec validate picks the right one itself).
    bundled = sorted(str(p) for p in (ROOT / "pipelines").glob("*.yaml") if not is_accounts_file(p))
    with tempfile.TemporaryDirectory(dir=ROOT / "bench") as scratch:
        generated = [str(p) for p in generate(Path(scratch), args.files)]
        cases = [
            ("1 bundled spec (california_housing.yaml)", bundled[:1]),
            (f"{len(bundled)} bundled specs", bundled),
            ("1 generated spec", generated[:1]),
            (f"{len(generated)} generated specs, one call", generated),
        ]
        rows = []
        for label, files in cases:
            ours = timed(sagespec + files, args.repeat)
            theirs = timed(check + files, args.repeat)
            rows.append((label, len(files), ours, theirs, ours / theirs))
        # The same 500 files on one core, so the parallel speed-up is not mistaken for the whole story.
        serial = timed(sagespec + ["--jobs", "1"] + generated, args.repeat)
        rows.insert(-1, (f"{len(generated)} generated specs, --jobs 1", len(generated), serial, rows[-1][3], serial / rows[-1][3]))

    print(
        f"sagespec validate vs check-jsonschema (median of {args.repeat} runs, fresh process each, {sys.platform}, Python {sys.version.split()[0]})"
    )
    print()
    print(f"| {'case':<42} | {'files':>5} | {'sagespec s':>10} | {'check-jsonschema s':>18} | {'ratio':>5} |")
    print(f"|{'-' * 44}|{'-' * 7}|{'-' * 12}|{'-' * 20}|{'-' * 7}|")
    for label, n, ours, theirs, ratio in rows:
        print(f"| {label:<42} | {n:>5} | {ours:>10.3f} | {theirs:>18.3f} | {ratio:>5.2f} |")
    print()
    one = rows[0][4]
    many = rows[-1][2]
    print(f"target one file ratio <= 1.00: {one:.2f} {'met' if one <= 1.0 else 'MISSED'}")
    print(f"target {rows[-1][1]} files under 2 s: {many:.2f} s {'met' if many < 2.0 else 'MISSED'}")


if __name__ == "__main__":
    main()
