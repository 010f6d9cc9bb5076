"""Tuning steps compile to the SDK's TuningStep (a valid CreateHyperParameterTuningJob request,
byte-identical twice), later steps read the best training job through get_top_model_s3_uri, and
tuning jobs SageMaker would refuse are located errors before anything compiles."""

import json

import pytest
from botocore.validate import ParamValidator
from test_service_model import requests

from helpers import assert_located_mistake, compile_here, data_science_spec, fast_project_copy, run_cli

ESTIMATOR = """  estimator:
    framework: xgboost
    framework_version: 1.7-1
    instance_type: ml.m5.large
    metric_definitions:
    - {name: "validation:rmse", regex: "validation_rmse=([0-9.]+)"}
  source_dir: xgboost_code
  entry_point: train.py
  inputs:
  - {name: train, source: "${params.TrainData}", content_type: text/csv}
"""

STEPS = f"""- name: Tune
  kind: tuning
{ESTIMATOR}  hyperparameters: {{num_round: 50}}
  tuning:
    objective: {{metric: "validation:rmse", type: Minimize}}
    max_jobs: 8
    max_parallel_jobs: 2
    early_stopping: Auto
    random_seed: 7
    ranges:
      eta: {{type: continuous, min: 0.01, max: 0.3, scaling: Logarithmic}}
      max_depth: {{type: integer, min: 3, max: 10}}
      booster: {{type: categorical, values: [gbtree, dart]}}
- name: TuneMore
  kind: tuning
{ESTIMATOR}  tuning:
    objective: {{metric: "validation:rmse", type: Minimize}}
    strategy: Hyperband
    max_jobs: 4
    hyperband: {{min_resource: 10, max_resource: 100}}
    warm_start: {{parents: [Tune], type: TransferLearning}}
    ranges:
      eta: {{type: continuous, min: 0.01, max: 0.3}}
- name: Evaluate
  kind: processing
  processor: {{framework: xgboost, framework_version: 1.7-1, instance_type: ml.m5.large}}
  code: training_code/evaluate.py
  inputs:
  - {{name: model, source: "${{steps.Tune.best_model_artifacts}}", destination: /opt/ml/processing/model}}
- name: Register
  kind: register_model
  model: {{training_step: TuneMore, source_dir: xgboost_code, entry_point: inference.py}}
  model_package_group: california-housing-experiments
  content_types: [text/csv]
  response_types: [application/json]
  inference_instances: [ml.m5.large]
"""

SPEC = data_science_spec("tune", "tuning", {"TrainData": "s3://sagespec-ds-experiments-111111111111/datasets/train.csv"}, STEPS)


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("tuning")
    project = fast_project_copy(tmp_path)
    (project / "pipelines" / "tune.yaml").write_text(SPEC)
    outputs = []
    for attempt in range(2):
        out = tmp_path / f"tune-{attempt}.json"
        done = compile_here("compile", "pipelines/tune.yaml", "-o", str(out), "--no-cache", cwd=project)
        assert done.returncode == 0, done.stdout + done.stderr
        outputs.append(out.read_text())
    assert outputs[0] == outputs[1]  # no clock, no random name anywhere in the definition
    return {s["Name"]: s for s in json.loads(outputs[0])["Steps"]}, json.loads(outputs[0])


def test_each_tuning_step_is_a_valid_create_hyper_parameter_tuning_job_request(compiled):
    _, definition = compiled
    checked = [(name, operation) for name, operation, shape, params in requests(definition) if operation == "CreateHyperParameterTuningJob"]
    assert [name for name, _ in checked] == ["Tune", "TuneMore"]
    for name, _, shape, params in requests(definition):
        report = ParamValidator().validate(params, shape)
        assert not report.has_errors(), f"{name}: {report.generate_report()}"


def test_the_search_reaches_the_request_as_written(compiled):
    steps, _ = compiled
    config = steps["Tune"]["Arguments"]["HyperParameterTuningJobConfig"]
    assert config["Strategy"] == "Bayesian" and config["TrainingJobEarlyStoppingType"] == "Auto" and config["RandomSeed"] == 7
    assert config["ResourceLimits"] == {"MaxNumberOfTrainingJobs": 8, "MaxParallelTrainingJobs": 2}
    assert config["HyperParameterTuningJobObjective"] == {"MetricName": "validation:rmse", "Type": "Minimize"}
    ranges = config["ParameterRanges"]
    assert ranges["ContinuousParameterRanges"] == [{"Name": "eta", "MinValue": "0.01", "MaxValue": "0.3", "ScalingType": "Logarithmic"}]
    assert ranges["IntegerParameterRanges"] == [{"Name": "max_depth", "MinValue": "3", "MaxValue": "10", "ScalingType": "Auto"}]
    # A framework image reads hyperparameters as JSON, so the SDK quotes categorical values.
    assert ranges["CategoricalParameterRanges"] == [{"Name": "booster", "Values": ['"gbtree"', '"dart"']}]
    job = steps["Tune"]["Arguments"]["TrainingJobDefinition"]
    assert "eta" not in job["StaticHyperParameters"] and job["StaticHyperParameters"]["num_round"] == "50"
    # The SDK's default for an estimator in a pipeline session: the session's bucket and prefix.
    assert job["OutputDataConfig"]["S3OutputPath"] == "s3://sagespec-ds-experiments-111111111111/tuning/"
    # Code under its content hash, as a training step's: the key changes only when the code does.
    code = json.loads(job["StaticHyperParameters"]["sagemaker_submit_directory"])
    assert code.startswith("s3://sagespec-ds-experiments-111111111111/tuning/tune/code/") and code.endswith("/Tune/source/sourcedir.tar.gz")


def test_warm_start_and_hyperband_compile_to_their_configs(compiled):
    steps, _ = compiled
    args = steps["TuneMore"]["Arguments"]
    assert args["WarmStartConfig"] == {
        "WarmStartType": "TransferLearning",
        "ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": {"Get": "Steps.Tune.HyperParameterTuningJobName"}}],
    }
    config = args["HyperParameterTuningJobConfig"]
    assert config["StrategyConfig"] == {"HyperbandStrategyConfig": {"MinResource": 10, "MaxResource": 100}}
    assert config["Strategy"] == "Hyperband"


def test_later_steps_read_the_best_training_jobs_model(compiled):
    steps, _ = compiled
    best = {"Get": "Steps.Tune.TrainingJobSummaries[0].TrainingJobName"}
    model = steps["Evaluate"]["Arguments"]["ProcessingInputs"][0]["S3Input"]["S3Uri"]
    assert model == {
        "Std:Join": {"On": "/", "Values": ["s3:/", "sagespec-ds-experiments-111111111111", "tuning", best, "output/model.tar.gz"]}
    }
    registered = steps["Register-RegisterModel"]["Arguments"]["InferenceSpecification"]["Containers"][0]["ModelDataUrl"]
    assert registered["Std:Join"]["Values"][3] == {"Get": "Steps.TuneMore.TrainingJobSummaries[0].TrainingJobName"}


MISTAKES = [
    # (what is replaced, by what, the rule, what the message says, the line it points at holds)
    (
        "  hyperparameters: {num_round: 50}\n  tuning:",
        "  hyperparameters: {num_round: 50}\n  retry: [{exceptions: [SageMaker.JOB_INTERNAL_ERROR], max_attempts: 2}]\n  tuning:",
        "W4003",
        "SageMaker does not retry SageMaker.JOB_INTERNAL_ERROR for tuning jobs",
        "retry:",
    ),
    (
        'objective: {metric: "validation:rmse", type: Minimize}\n    max_jobs: 8',
        'objective: {metric: "rmse", type: Minimize}\n    max_jobs: 8',
        "E4017",
        "optimises 'rmse', which no metric definition",
        "objective",
    ),
    (
        "hyperparameters: {num_round: 50}",
        "hyperparameters: {num_round: 50, eta: 0.1}",
        "E4017",
        "hyperparameter 'eta' is both tuned and static",
        "eta:",
    ),
    (
        "max_depth: {type: integer, min: 3, max: 10}",
        "max_depth: {type: integer, min: 3.5, max: 10}",
        "E4017",
        "an integer range needs whole min and max",
        "max_depth",
    ),
    (
        "max_depth: {type: integer, min: 3, max: 10}",
        "max_depth: {type: integer, min: 12, max: 10}",
        "E4017",
        "min 12 is above max 10",
        "max_depth",
    ),
    (
        "min: 0.01, max: 0.3, scaling: Logarithmic",
        "min: 0, max: 0.3, scaling: Logarithmic",
        "E4017",
        "Logarithmic scaling needs min above 0",
        "eta",
    ),
    (
        "min: 0.01, max: 0.3, scaling: Logarithmic",
        "min: 0.5, max: 1, scaling: ReverseLogarithmic",
        "E4017",
        "ReverseLogarithmic scaling takes",
        "eta",
    ),
    ("strategy: Hyperband", "strategy: Grid", "E4017", "a Grid search takes categorical ranges only; eta is not", "eta"),
    ("    max_jobs: 8\n", "", "E4017", "a Bayesian search needs max_jobs", "objective"),
    (
        "strategy: Hyperband",
        "strategy: Hyperband\n    early_stopping: Auto",
        "E4017",
        "Hyperband stops jobs early by itself",
        "early_stopping",
    ),
    ("strategy: Hyperband", "strategy: Random", "E4017", "hyperband settings apply to strategy Hyperband, not Random", "hyperband"),
    ("max_parallel_jobs: 2", "max_parallel_jobs: 9", "E4017", "max_parallel_jobs 9 is above max_jobs 8", "max_parallel_jobs"),
    ("parents: [Tune]", "parents: [Evaluate]", "E3005", "warm_start of step 'TuneMore' names 'Evaluate', a processing step", "parents"),
    ("parents: [Tune]", "parents: [Tuen]", "E3001", "warm_start of step 'TuneMore' names an unknown step 'Tuen'", "parents"),
    (
        "${steps.Tune.best_model_artifacts}",
        "${steps.Tune.model_artifacts}",
        "E3005",
        "step 'Tune' is a tuning step; it runs many training jobs",
        "model_artifacts",
    ),
    (
        "${steps.Tune.best_model_artifacts}",
        "${steps.Register.best_model_artifacts}",
        "E3005",
        "only tuning steps have a best model",
        "best_model_artifacts",
    ),
    ("type: TransferLearning", "type: Sideways", "E2004", "'Sideways' is not an allowed value", "Sideways"),
]


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return fast_project_copy(tmp_path_factory.mktemp("mistakes"))


@pytest.mark.parametrize("old, new, code, says, line_holds", MISTAKES, ids=[m[3][:40] or m[1] for m in MISTAKES])
def test_a_tuning_job_sagemaker_would_refuse_is_a_located_error(project, old, new, code, says, line_holds):
    assert_located_mistake(project, SPEC, old, new, code, says, line_holds)


def test_graph_draws_tuning_steps_and_the_warm_start_edge(project):
    (project / "pipelines" / "tune.yaml").write_text(SPEC)
    drawn = run_cli("graph", "pipelines/tune.yaml", cwd=project)
    assert drawn.returncode == 0, drawn.stderr
    lines = drawn.stdout.splitlines()
    assert '    s0{{"Tune<br/><small>tuning</small>"}}' in lines and '    s1{{"TuneMore<br/><small>tuning</small>"}}' in lines
    assert "    s0 -.->|warm start| s1" in lines and "    s0 --> s2" in lines  # Evaluate reads Tune's best model
