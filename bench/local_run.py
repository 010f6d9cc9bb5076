"""Benchmark: `sagespec run` of the California housing pipeline beside running its scripts by hand.

Baseline: preprocess.py, train.py and evaluate.py run one after another as subprocesses on the
same bundled data with the same (default) hyperparameters: the least a person must do to get the
same model and report. `sagespec run` also compiles the spec, stores the definition, applies the
local policies, packs and uploads artifacts, registers the version and records lineage.
Then a re-run that changes only AccuracyMseThreshold, which the step cache serves.

Targets (issue #7): run / by hand <= 1.15; cached re-run <= 10% of the first run.

    python bench/local_run.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CODE = ROOT / "training_code"


def timed(argv: list[str], env: dict, cwd: Path = ROOT) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env={**os.environ, **env}, capture_output=True, text=True)
    return time.perf_counter() - started, done


def by_hand(w: Path) -> float:
    (w / "raw").mkdir(parents=True)
    shutil.copy(ROOT / "pipelines" / "data" / "cal_housing.tgz", w / "raw")
    started = time.perf_counter()
    steps = [
        (
            "preprocess.py",
            {
                "SM_PROCESSING_INPUT_RAW": w / "raw",
                "SM_PROCESSING_OUTPUT_TRAIN": w / "train",
                "SM_PROCESSING_OUTPUT_VALIDATION": w / "validation",
                "SM_PROCESSING_OUTPUT_TEST": w / "test",
                "SM_PROCESSING_OUTPUT_SCALER": w / "scaler",
            },
            ["--seed", "42"],
        ),
        (
            "train.py",
            {
                "SM_CHANNEL_TRAIN": w / "train",
                "SM_CHANNEL_VALIDATION": w / "validation",
                "SM_CHANNEL_SCALER": w / "scaler",
                "SM_MODEL_DIR": w / "model",
                "SM_OUTPUT_DATA_DIR": w / "output",
            },
            ["--epochs", "100", "--batch_size", "64", "--learning_rate", "0.001"],
        ),
    ]
    for script, env, args in steps:
        _, done = timed([sys.executable, str(CODE / script), *args], {k: str(v) for k, v in env.items()})
        if done.returncode:
            raise SystemExit(done.stderr)
    (w / "packed").mkdir()
    with tarfile.open(w / "packed" / "model.tar.gz", "w:gz") as tar:
        tar.add(w / "model" / "1", arcname="1")
    _, done = timed(
        [sys.executable, str(CODE / "evaluate.py")],
        {
            "SM_PROCESSING_INPUT_MODEL": str(w / "packed"),
            "SM_PROCESSING_INPUT_TEST": str(w / "test"),
            "SM_PROCESSING_OUTPUT_EVALUATION": str(w / "evaluation"),
        },
    )
    if done.returncode:
        raise SystemExit(done.stderr)
    return time.perf_counter() - started


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        hand = by_hand(scratch / "hand")
        env = {"SAGESPEC_WORKSPACE": str(scratch / "ws"), "SAGEMAKER_SUPPRESS_V2_WARNING": "1"}
        sagespec = [str(Path(sys.executable).parent / "sagespec"), "run", "pipelines/california_housing.yaml"]
        first, done = timed(sagespec, env)
        if "registered" not in done.stdout:
            raise SystemExit(done.stdout + done.stderr)
        rerun, again = timed(sagespec + ["--param", "AccuracyMseThreshold=0.29"], env)
        hits = again.stdout.count("cache hit")
    print("California housing, bundled data, default hyperparameters (fresh workspace, single runs)")
    print()
    print(f"| {'measurement':<58} | {'seconds':>7} | {'ratio':>22} |")
    print(f"|{'-' * 60}|{'-' * 9}|{'-' * 24}|")
    print(f"| {'preprocess.py + train.py + evaluate.py by hand':<58} | {hand:>7.1f} | {'1.00 (baseline)':>22} |")
    print(f"| {'sagespec run (compile, store, run, register, lineage)':<58} | {first:>7.1f} | {f'{first / hand:.2f} x by hand':>22} |")
    print(
        f"| {f're-run, only the MSE threshold changed ({hits} cache hits)':<58} | {rerun:>7.1f} | {f'{rerun / first:.1%} of the first run':>22} |"
    )
    print()
    print(f"target run / by hand <= 1.15: {first / hand:.2f} {'met' if first / hand <= 1.15 else 'MISSED'}")
    print(f"target cached re-run <= 10% of the first run: {rerun / first:.1%} {'met' if rerun / first <= 0.10 else 'MISSED'}")


if __name__ == "__main__":
    main()
