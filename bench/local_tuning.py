"""Benchmark: a local tuning job with its training jobs in parallel against one at a time.

The tuning step is the XGBoost template's (pipelines/xgboost_housing.yaml: a search over eta,
max_depth and subsample, each job xgboost_code/train.py with early stopping), run by `sagespec
run` with the same budget twice: max_parallel_jobs 2 and max_parallel_jobs 1 (the baseline). The
strategy is Random with the template's seed, so both runs train the same jobs and only the
parallelism differs (a Bayesian search in parallel chooses differently: each job starts knowing
fewer results); `--strategy Bayesian` measures that instead. The wall time is the tuning step's
own (its started/ended times in `executions describe`), so preprocessing and evaluation do not
blur it; the best objective is the tuning job's BestTrainingJob.

Target (issue 18): parallel wall <= 0.6 x sequential on 2 cores.

    python bench/local_tuning.py [--jobs 4] [--rows 20640] [--strategy Random|Bayesian] [--smoke]

--smoke: the same path in seconds: 2 training jobs on the first 500 rows.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path

from _project import project_copy


def tune(project: Path, parallel: int, jobs: int, strategy: str) -> dict:
    spec = project / "pipelines" / f"tune_{parallel}.yaml"
    text = (project / "pipelines" / "xgboost_housing.yaml").read_text()
    spec.write_text(
        text.replace(
            "    mse_threshold: 0.21",
            f"    mse_threshold: 0.5\n    tuning_strategy: {strategy}\n    tuning_max_jobs: {jobs}\n    tuning_max_parallel_jobs: {parallel}",
        )
    )
    workspace = project / f"ws-{parallel}"
    env = {**os.environ, "NO_COLOR": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "sagespec", "run", str(spec), "--workspace", str(workspace)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    arn = re.search(r"execution (arn:\S+): (\w+)", done.stdout)
    if done.returncode != 0 or not arn:
        raise SystemExit(f"run failed:\n{done.stdout}\n{done.stderr}")
    described = subprocess.run(
        [sys.executable, "-m", "sagespec", "executions", "describe", arn.group(1), "--workspace", str(workspace)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    step = next(s for s in json.loads(described.stdout)["steps"] if s["name"] == "TuneModel")
    wall = (datetime.fromisoformat(step["ended_at"]) - datetime.fromisoformat(step["started_at"])).total_seconds()
    best = step["properties"]["BestTrainingJob"]
    return {"wall": wall, "best": best["FinalHyperParameterTuningJobObjectiveMetric"]["Value"], "values": best["TunedHyperParameters"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=4, help="training jobs per tuning job (default 4)")
    parser.add_argument("--rows", type=int, default=20640, help="rows of the data set used (default: all 20640)")
    parser.add_argument(
        "--strategy", choices=("Random", "Bayesian"), default="Random", help="the search (default Random: the same jobs both times)"
    )
    parser.add_argument("--smoke", action="store_true", help="seconds-long check of the same path: 2 jobs on 500 rows")
    args = parser.parse_args()
    if args.smoke:
        args.jobs, args.rows = 2, 500
    with tempfile.TemporaryDirectory(prefix="sagespec-bench-tuning-") as scratch:
        project = project_copy(Path(scratch), max_rows=args.rows)
        sequential = tune(project, 1, args.jobs, args.strategy)
        parallel = tune(project, 2, args.jobs, args.strategy)
    print(f"tuning step of xgboost_housing.yaml: {args.strategy}, {args.jobs} training jobs, {args.rows} rows, {os.cpu_count()} cores")
    print(f"{'max_parallel_jobs':<20}{'wall (s)':>10}{'best validation:rmse':>24}  best values")
    for label, result in (("1 (baseline)", sequential), ("2", parallel)):
        values = ", ".join(f"{k}={float(v):.3g}" for k, v in result["values"].items())
        print(f"{label:<20}{result['wall']:>10.1f}{result['best']:>24.4f}  {values}")
    ratio = parallel["wall"] / sequential["wall"]
    print(f"parallel / sequential wall: {ratio:.2f} (target <= 0.60: {'met' if ratio <= 0.6 else 'NOT met'})")


if __name__ == "__main__":
    main()
