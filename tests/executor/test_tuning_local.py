"""A tuning step runs locally as SageMaker's tuning job does: each training job recorded with its
log and objective, in parallel up to max_parallel_jobs, the best chosen by the objective; Grid
runs every combination once, Random repeats with its seed, a warm start seeds the search, and
later steps read the best job's model and objective."""

import io
import json
import re
import tarfile
from datetime import datetime

import pytest

from helpers import data_science_spec, fast_project_copy, run_cli, seeded_compile_cache

# End to end: `make test-fast` leaves these out, `make test` runs them.
# One xdist worker takes the module: its module fixture runs once per test run, not once per worker.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("tuning_local")]

pytest.importorskip("optuna")

# A "model" whose loss is known: smallest at alpha 0.3, depth 5, kernel rbf. It sleeps so that
# jobs running at once overlap in time.
SCRIPT = """
import argparse, json, math, os, time
parser = argparse.ArgumentParser()
parser.add_argument("--alpha", type=float)
parser.add_argument("--depth", type=int)
parser.add_argument("--kernel")
parser.add_argument("--C", type=float, default=1.0)
parser.add_argument("--rounds", type=int)
args = parser.parse_args()
time.sleep(1.0)
loss = (math.log10(args.alpha) - math.log10(0.3)) ** 2 + (args.depth - 5) ** 2 / 10 + (args.kernel != "rbf") + abs(args.C - 1) / 10
with open(os.path.join(os.environ["SM_MODEL_DIR"], "params.json"), "w") as handle:
    json.dump(vars(args), handle)
print(f"epoch 1: loss={loss + 1:.6f}")
print(f"epoch 2: loss={loss:.6f}")
"""

READ_MODEL = """
import os, shutil
model = os.path.join(os.environ["SM_PROCESSING_INPUT_MODEL"], "model.tar.gz")
shutil.copy(model, os.path.join(os.environ["SM_PROCESSING_OUTPUT_BEST"], "best.tar.gz"))
"""

ESTIMATOR = """  estimator:
    framework: sklearn
    framework_version: 1.2-1
    instance_type: ml.m5.large
    metric_definitions:
    - {name: loss, regex: "loss=([0-9.]+)"}
  source_dir: tune_code
  entry_point: train.py
  inputs:
  - {name: train, source: "${params.TrainData}", content_type: text/csv}
"""

RANGES = """      alpha: {type: continuous, min: 0.01, max: 10, scaling: Logarithmic}
      depth: {type: integer, min: 1, max: 9}
      kernel: {type: categorical, values: [linear, rbf]}
"""

STEPS = f"""- name: Tune
  kind: tuning
{ESTIMATOR}  hyperparameters: {{rounds: 3}}
  tuning:
    objective: {{metric: loss, type: Minimize}}
    strategy: Random
    random_seed: 3
    max_jobs: 4
    max_parallel_jobs: 2
    ranges:
{RANGES}- name: Again
  kind: tuning
{ESTIMATOR}  tuning:
    objective: {{metric: loss, type: Minimize}}
    strategy: Bayesian
    random_seed: 5
    max_jobs: 2
    warm_start: {{parents: [Tune]}}
    ranges:
{RANGES}- name: Grid
  kind: tuning
{ESTIMATOR}  hyperparameters: {{alpha: 0.3, depth: 5}}
  tuning:
    objective: {{metric: loss, type: Minimize}}
    strategy: Grid
    max_parallel_jobs: 3
    ranges:
      kernel: {{type: categorical, values: [linear, rbf]}}
      C: {{type: categorical, values: [0.5, 1, 2]}}
- name: ReadBest
  kind: processing
  processor: {{framework: sklearn, framework_version: 1.2-1, instance_type: ml.m5.large}}
  code: tune_code/read_model.py
  inputs:
  - {{name: model, source: "${{steps.Tune.best_model_artifacts}}", destination: /opt/ml/processing/model}}
  outputs:
  - {{name: best, source: /opt/ml/processing/best}}
- name: GoodEnough
  kind: condition
  depends_on: [Again, Grid, ReadBest]
  conditions:
  - operator: less_than
    left: ${{steps.Tune.properties.BestTrainingJob.FinalHyperParameterTuningJobObjectiveMetric.Value}}
    right: 100.0
  if_steps: [Done]
- name: Done
  kind: fail
  error_message: the best loss was ${{steps.Tune.properties.BestTrainingJob.FinalHyperParameterTuningJobObjectiveMetric.Value}}
"""

SPEC = data_science_spec("tune-local", "tune", {"TrainData": "s3://sagespec-ds-experiments-111111111111/datasets/train.csv"}, STEPS)


@pytest.fixture(scope="module")
def tuned(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("tuning")
    project = fast_project_copy(tmp_path)
    (project / "pipelines" / "data" / "train.csv").write_text("1,2\n3,4\n")
    (project / "tune_code").mkdir()
    (project / "tune_code" / "train.py").write_text(SCRIPT)
    (project / "tune_code" / "read_model.py").write_text(READ_MODEL)
    (project / "pipelines" / "tune.yaml").write_text(SPEC)
    workspace = str(seeded_compile_cache(tmp_path / "ws", project, "pipelines/tune.yaml"))
    done = run_cli("run", "pipelines/tune.yaml", "--workspace", workspace, cwd=project)
    arn = re.search(r"execution (arn:\S+): Failed", done.stdout)
    assert arn, done.stdout + done.stderr  # the Fail step at the end: it ends the run Failed on purpose
    described = json.loads(run_cli("executions", "describe", arn.group(1), "--workspace", workspace, cwd=project).stdout)
    steps = {s["name"]: s for s in described["steps"]}
    logs = {name: run_cli("executions", "logs", arn.group(1), name, "--workspace", workspace, cwd=project).stdout for name in steps}
    return done, steps, logs, tmp_path / "ws"


def _store(workspace):
    from sagespec.backends.local.database import connect
    from sagespec.backends.local.objects import ObjectStore

    return ObjectStore(workspace, connect(workspace))


def test_every_training_job_is_recorded_with_its_log_and_objective_and_the_best_wins(tuned):
    done, steps, logs, workspace = tuned
    tune = steps["Tune"]["properties"]
    jobs = re.findall(r"training job (\S+) Completed: (.*): loss ([0-9.]+) \(log (\S+)\)", logs["Tune"])
    assert len(jobs) == 4 and tune["TrainingJobStatusCounters"]["Completed"] == 4
    objectives = {j["TrainingJobName"]: j["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] for j in tune["TrainingJobSummaries"]}
    for name, _, _, log in jobs:
        assert re.fullmatch(r"[0-9a-f]{12}-Tune-00[1-4]-[0-9a-f]{8}", name)
        # The objective is the last value the job's own log shows for the metric.
        assert objectives[name] == float(re.findall(r"loss=([0-9.]+)", open(log).read())[-1])
    losses = sorted(objectives.values())
    assert [s["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] for s in tune["TrainingJobSummaries"]] == losses
    best = tune["BestTrainingJob"]
    assert best["FinalHyperParameterTuningJobObjectiveMetric"] == {"Type": "Minimize", "MetricName": "loss", "Value": losses[0]}
    assert set(best["TunedHyperParameters"]) == {"alpha", "depth", "kernel"}


def test_the_best_jobs_model_is_what_a_later_step_reads(tuned):
    _, steps, _, workspace = tuned
    best = steps["Tune"]["properties"]["BestTrainingJob"]
    out = steps["ReadBest"]["properties"]["ProcessingOutputConfig"]["Outputs"]["best"]["S3Output"]["S3Uri"]
    with tarfile.open(fileobj=io.BytesIO(_store(workspace).get(out.rstrip("/") + "/best.tar.gz"))) as tar:
        params = json.loads(tar.extractfile("params.json").read())
    tuned_values = best["TunedHyperParameters"]
    assert params["depth"] == int(tuned_values["depth"]) and params["kernel"] == json.loads(tuned_values["kernel"])
    assert params["rounds"] == 3  # static hyperparameters reach every job


def test_jobs_run_in_parallel_up_to_max_parallel_jobs(tuned):
    _, steps, _, _ = tuned
    spans = sorted(
        (datetime.fromisoformat(j["TrainingStartTime"]), datetime.fromisoformat(j["TrainingEndTime"]))
        for j in steps["Tune"]["properties"]["TrainingJobSummaries"]
    )
    overlapping = max(sum(1 for s, e in spans if s <= start < e) for start, _ in spans)
    assert overlapping == 2  # max_parallel_jobs 2, never more


def test_a_condition_reads_the_best_objective_and_a_fail_message_shows_it(tuned):
    done, steps, _, _ = tuned
    best = steps["Tune"]["properties"]["BestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
    assert steps["GoodEnough"]["properties"]["Outcome"] is True
    assert f"the best loss was {best}" in done.stdout


def test_grid_runs_every_combination_once(tuned):
    _, steps, logs, _ = tuned
    grid = steps["Grid"]["properties"]
    combinations = {(j["TunedHyperParameters"]["kernel"], j["TunedHyperParameters"]["C"]) for j in grid["TrainingJobSummaries"]}
    assert len(grid["TrainingJobSummaries"]) == 6 and len(combinations) == 6
    assert {json.loads(k) for k, _ in combinations} == {"linear", "rbf"} and {json.loads(c) for _, c in combinations} == {"0.5", "1", "2"}
    assert json.loads(grid["BestTrainingJob"]["TunedHyperParameters"]["kernel"]) == "rbf"
    assert json.loads(grid["BestTrainingJob"]["TunedHyperParameters"]["C"]) == "1"


def test_a_warm_start_seeds_the_search_with_the_parents_jobs(tuned):
    _, steps, logs, _ = tuned
    assert "warm start: 4 training jobs of the parent tuning jobs seed the search" in logs["Again"]
    assert len(steps["Again"]["properties"]["TrainingJobSummaries"]) == 2  # its own jobs only


def test_random_search_repeats_with_its_seed():
    import optuna

    from sagespec.backends.local.executor.tuning import SearchSpace, sampler

    space = SearchSpace(
        {
            "ContinuousParameterRanges": [{"Name": "lr", "MinValue": "0.001", "MaxValue": "0.1", "ScalingType": "Logarithmic"}],
            "IntegerParameterRanges": [{"Name": "depth", "MinValue": "2", "MaxValue": "8", "ScalingType": "Auto"}],
        }
    )

    def draws(seed):
        study = optuna.create_study(sampler=sampler("Random", seed, space, 8))
        return [space.hyperparameters(study.ask(space.distributions).params) for _ in range(8)]

    assert draws(11) == draws(11) and draws(11) != draws(12)
    values = [float(d["lr"]) for d in draws(11)]
    assert all(0.001 <= v <= 0.1 for v in values)


def test_reverse_logarithmic_values_stay_in_range_and_lean_towards_one():
    import optuna

    from sagespec.backends.local.executor.tuning import SearchSpace, sampler

    space = SearchSpace(
        {"ContinuousParameterRanges": [{"Name": "momentum", "MinValue": "0.5", "MaxValue": "0.999", "ScalingType": "ReverseLogarithmic"}]}
    )
    study = optuna.create_study(sampler=sampler("Random", 1, space, 200))
    values = [float(space.hyperparameters(study.ask(space.distributions).params)["momentum"]) for _ in range(200)]
    assert all(0.5 <= v <= 0.999 for v in values)
    assert sum(v > 0.9 for v in values) > sum(v < 0.6 for v in values)  # denser near 1, as documented
