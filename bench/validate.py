"""Benchmark: `sagespec validate` beside `check-jsonschema` on the same files.

Both run as a user runs them (a fresh process per call, start-up included), interleaved so load
from other programs falls on both. Baseline: check-jsonschema --schemafile
schemas/pipeline.schema.json, which checks the schema only; sagespec also renders templates and
runs the semantic rules.

The files: `--files` specs generated into a temporary folder from the repository's own valid
specs, round-robin: tests/spec/fixtures/good/minimal.yaml and the bundled pipelines/*.yaml
(four template specs: tf_regression twice, xgboost_regression, sklearn_classification), each copy
with its own pipeline name and varied values. Both tools read the identical files, and both must
accept every one (exit 0).

Targets (issue: "Speed, in bench/"): the generated files in one call under 1.5 s and at most 0.3 x
check-jsonschema on the same files. One file (a template spec): no slower than check-jsonschema
(issue #2's target).
A last table says where sagespec's time goes (one fresh process, files checked one by one).

    python bench/validate.py [--repeat N] [--files N] [--smoke]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

from _timing import BIN, ROOT, Samples, bytecode_as_installed, interleaved, load_note, ratio, run, table, verdict

SCHEMA = ROOT / "schemas" / "pipeline.schema.json"
TARGET_SECONDS, TARGET_RATIO, TARGET_ONE = 1.5, 0.3, 1.0
INSTANCE_TYPES = ["ml.m5.xlarge", "ml.m5.large", "ml.c5.2xlarge", "ml.m5.2xlarge"]


def minimal(text: str, i: int) -> str:
    return (
        text.replace("name: corpus-pipeline", f"name: generated-minimal-{i}")
        .replace("default: ml.m5.xlarge", f"default: {INSTANCE_TYPES[i % len(INSTANCE_TYPES)]}")
        .replace("{type: Integer, default: 5}", f"{{type: Integer, default: {5 + i % 50}}}")
        .replace("{type: Float, default: 0.5}", f"{{type: Float, default: {0.2 + (i % 30) / 100:.2f}}}")
    )


def templated(text: str, i: int) -> str:
    """A template spec with its own pipeline name and a different threshold / epochs / instance type."""
    text = re.sub(r"(?m)^(    pipeline_name: )(\S+)$", rf"\g<1>\g<2>-{i}", text)
    text = re.sub(r"(?m)^(    mse_threshold: )[0-9.]+$", rf"\g<1>{0.3 + (i % 20) / 100:.2f}", text)
    text = re.sub(r"(?m)^(    accuracy_threshold: )[0-9.]+$", rf"\g<1>{0.9 + (i % 9) / 100:.2f}", text)
    text = re.sub(r"(?m)^(    epochs: )\d+$", rf"\g<1>{20 + i % 130}", text)
    if "processing_instance_type:" not in text:
        text = text.replace("\n  params:\n", f"\n  params:\n    processing_instance_type: {INSTANCE_TYPES[i % len(INSTANCE_TYPES)]}\n", 1)
    return text


# (kind, source file, how a copy varies)
SOURCES = [
    ("minimal (no template)", ROOT / "tests" / "spec" / "fixtures" / "good" / "minimal.yaml", minimal),
    ("tf_regression", ROOT / "pipelines" / "california_housing.yaml", templated),
    ("tf_regression + overrides", ROOT / "pipelines" / "california_housing_fast.yaml", templated),
    ("xgboost_regression", ROOT / "pipelines" / "xgboost_housing.yaml", templated),
    ("sklearn_classification", ROOT / "pipelines" / "breast_cancer.yaml", templated),
]


def generate(folder: Path, count: int) -> list[tuple[str, Path]]:
    """`count` distinct valid specs, (kind, path), the sources taken in turn."""
    texts = [(kind, source.read_text(), vary) for kind, source, vary in SOURCES]
    files = []
    for i in range(count):
        kind, text, vary = texts[i % len(texts)]
        variant = vary(text, i)
        assert variant != text, f"{kind}: nothing varied; the source changed shape"
        path = folder / f"spec_{i:04d}.yaml"
        path.write_text(variant)
        files.append((kind, path))
    return files


# Where the time goes: one fresh process imports what validate imports, then checks the files
# one by one (no process pool), each file timed; then checks the files again under cProfile to
# split a file's time by what it does (the profiler slows everything alike, so shares hold).
PROBE = """
import cProfile, json, pstats, sys, time
started = time.perf_counter()
import sagespec.cli, sagespec.cli.spec
from sagespec.spec.load import load_spec
from pathlib import Path
imported = time.perf_counter() - started
root, files = Path(sys.argv[1]), json.loads(sys.argv[2])
timings = []
for kind, path in files:
    t = time.perf_counter()
    result = load_spec(Path(path), root)
    timings.append((kind, time.perf_counter() - t, result.ok))
profiler = cProfile.Profile()
profiler.enable()
for kind, path in files:
    load_spec(Path(path), root)
profiler.disable()
parts = {}
for (filename, _, function), (_, _, _, cumulative, _) in pstats.Stats(profiler).stats.items():
    key = filename.replace("\\\\", "/").rsplit("/", 2)[-2:]
    name = "/".join(key) + ":" + function
    parts[name] = max(parts.get(name, 0.0), cumulative)
print(json.dumps({"import": imported, "files": timings, "profile": parts}))
"""

# What a file's time is made of, from the profile: (label, function, ...) summed; nested parts
# overlap (a template's YAML is read inside template rendering).
PARTS = [
    ("all of load_spec (100%)", "spec/load.py:load_spec"),
    ("template rendering (spec/templates.py render)", "spec/templates.py:render"),
    ("  of which Jinja compiling expressions (no cache)", "jinja2/environment.py:compile"),
    ("  of which reading the template file again", "spec/templates.py:load_template"),
    ("JSON Schema validation (spec/schema.py, every call)", "spec/schema.py:validate"),
    ("semantic rules (spec/checks run_checks)", "checks/__init__.py:run_checks"),
    ("YAML load with source map (yaml_loader.load_file)", "spec/yaml_loader.py:load_file"),
    ("accounts file (topology.load_topology)", "spec/topology.py:load_topology"),
]


def breakdown(files: list[tuple[str, Path]]) -> tuple[float, float, dict[str, Samples], list[list[str]]]:
    """(import seconds, first file seconds, per-kind seconds of the files after the first of each
    kind, rows of the profile's split)."""
    _, done = run([sys.executable, "-c", PROBE, str(ROOT), json.dumps([(k, str(p)) for k, p in files])])
    found = json.loads(done.stdout)
    bad = [t for t in found["files"] if not t[2]]
    if bad:
        raise SystemExit(f"{len(bad)} generated files do not validate in-process")
    first = found["files"][0][1]
    per_kind: dict[str, Samples] = {}
    seen = set()
    for kind, seconds, _ in found["files"]:
        if kind in seen:  # the first of each kind pays its template's first read and compile
            per_kind.setdefault(kind, Samples([])).values.append(seconds)
        seen.add(kind)
    profile, total = found["profile"], found["profile"]["spec/load.py:load_spec"]
    rows = [[label, f"{100 * profile.get(key, 0.0) / total:.0f}%"] for label, key in PARTS[1:]]
    return found["import"], first, per_kind, rows


def main() -> None:
    bytecode_as_installed()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs per measurement; medians are reported (default 7)")
    parser.add_argument("--files", type=int, default=500, help="generated specs for the many-files case (default 500)")
    parser.add_argument(
        "--smoke", action="store_true", help="seconds-long check of the same path: 64 files (the process pool's threshold), 1 run"
    )
    args = parser.parse_args()
    if args.smoke:
        from sagespec.spec.load import PARALLEL_THRESHOLD

        args.repeat, args.files = 1, PARALLEL_THRESHOLD

    sagespec = [str(BIN / "sagespec"), "validate", "--quiet", "--project-dir", str(ROOT)]
    check = [str(BIN / "check-jsonschema"), "--schemafile", str(SCHEMA)]
    if not shutil.which(check[0]):
        raise SystemExit("check-jsonschema is not installed (pip install -e '.[test]')")

    with tempfile.TemporaryDirectory(prefix="sagespec-bench-validate-") as scratch:
        generated = generate(Path(scratch), args.files)
        paths = [str(p) for _, p in generated]
        one = interleaved(
            {
                "sagespec": sagespec + paths[1:2],
                "check": check + paths[1:2],
                "minimal": sagespec + paths[:1],
                "check-minimal": check + paths[:1],
            },
            args.repeat,
        )
        many = interleaved(
            {"sagespec": sagespec + paths, "check": check + paths, "serial": sagespec + ["--jobs", "1"] + paths}, args.repeat
        )
        floor = interleaved({"python": [sys.executable, "-c", "pass"]}, args.repeat)["python"]
        imported, first, per_kind, split = breakdown(generated[: len(SOURCES) * (2 if args.smoke else 20)])

    n = len(paths)
    one_ratio, many_ratio = ratio(one["sagespec"], one["check"]), ratio(many["sagespec"], many["check"])
    serial_ratio = ratio(many["serial"], many["check"])
    print(f"sagespec validate vs check-jsonschema: medians of {args.repeat} fresh processes (min-max), Python {sys.version.split()[0]}")
    print(f"{n} generated files, {len(SOURCES)} kinds in turn; {load_note()}")
    print()
    print(
        table(
            ["case", "files", "sagespec s", "check-jsonschema s", "ratio (min-max)"],
            [
                ["1 spec (tf_regression template)", "1", one["sagespec"].show(), one["check"].show(), one_ratio.show(digits=2)],
                [
                    "1 spec (minimal, no template)",
                    "1",
                    one["minimal"].show(),
                    one["check-minimal"].show(),
                    ratio(one["minimal"], one["check-minimal"]).show(digits=2),
                ],
                [f"{n} generated specs, one call", str(n), many["sagespec"].show(), many["check"].show(), many_ratio.show(digits=2)],
                [f"{n} generated specs, --jobs 1", str(n), many["serial"].show(), many["check"].show(), serial_ratio.show(digits=2)],
                ["(floor: python -c pass)", "", floor.show(), "", ""],
            ],
        )
    )
    print()
    median_one, median_many = one_ratio.median, many_ratio.median  # medians of the per-round ratios
    print(f"target 1 file (a template spec) <= {TARGET_ONE:.2f} x check-jsonschema: {median_one:.2f} {verdict(median_one <= TARGET_ONE)}")
    print(
        f"target {n} files in one call under {TARGET_SECONDS} s: {many['sagespec'].median:.2f} s {verdict(many['sagespec'].median < TARGET_SECONDS)}"
    )
    print(f"target {n} files <= {TARGET_RATIO:.2f} x check-jsonschema: {median_many:.2f} {verdict(median_many <= TARGET_RATIO)}")
    print()
    per_file = sum(s.median for s in per_kind.values()) / len(per_kind)
    print("where sagespec's time goes (one fresh process, files checked one by one, median ms per file after the first of its kind):")
    print()
    rows = [
        ["import sagespec.cli + the validate command", f"{imported * 1000:.0f}"],
        ["first file (schema and first template compiled)", f"{first * 1000:.0f}"],
    ]
    rows += [[f"a {kind} spec", per_kind[kind].show(1000, 1)] for kind, _, _ in SOURCES if kind in per_kind]
    print(table(["phase", "ms"], rows))
    print()
    print("a file's time by what it does (cProfile over the same files; parts nest, so they do not add up):")
    print()
    print(table(["part", "share of load_spec"], split))
    cores = os.cpu_count() or 1
    budget = (TARGET_SECONDS - one["sagespec"].median) * cores / n
    print()
    print(
        f"at {per_file * 1000:.1f} ms a file (mean of the kinds) {n} files are {per_file * n:.1f} s of checking on one core; "
        f"{TARGET_SECONDS} s on {cores} cores, less the 1-file start-up, leaves {budget * 1000:.1f} ms a file"
    )


if __name__ == "__main__":
    main()
