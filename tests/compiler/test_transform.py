"""Transform steps compile to the SDK's TransformStep (a valid CreateTransformJob request) with the
model of a create_model step or one you name, and batch transforms SageMaker would refuse are
located errors."""

import json

import pytest
from botocore.validate import ParamValidator
from test_service_model import requests

from helpers import assert_located_mistake, compile_here, data_science_spec, fast_project_copy

STEPS = """- name: Train
  kind: training
  estimator: {framework: sklearn, framework_version: 1.2-1, instance_type: ml.m5.large}
  source_dir: sklearn_code
  entry_point: train.py
  inputs:
  - {name: train, source: "${params.TrainData}", content_type: text/csv}
- name: CreateModel
  kind: create_model
  model: {training_step: Train, source_dir: sklearn_code, entry_point: inference.py}
  instance_type: ml.m5.large
- name: Score
  kind: transform
  model_step: CreateModel
  instance_type: ml.m5.xlarge
  instance_count: 2
  input: {source: "${params.TrainData}", content_type: text/csv, split_type: Line, compression: Gzip}
  accept: text/csv
  assemble_with: Line
  strategy: MultiRecord
  max_payload_mb: 10
  max_concurrent_transforms: 4
  environment: {LOG_LEVEL: debug}
  input_filter: "$[1:]"
  join_source: Input
  output_filter: "$[0,-1]"
- name: ScoreNamed
  kind: transform
  model_name: ${params.ModelName}
  instance_type: ml.m5.large
  input: {source: "s3://sagespec-ds-experiments-111111111111/manifests/batch.manifest", data_type: ManifestFile, content_type: application/json}
  output_path: s3://sagespec-ds-experiments-111111111111/scored/named
"""
SPEC = data_science_spec(
    "transform",
    "transform",
    {"TrainData": "s3://sagespec-ds-experiments-111111111111/datasets/train.csv", "ModelName": "team-model"},
    STEPS,
)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return fast_project_copy(tmp_path_factory.mktemp("transform"))


@pytest.fixture(scope="module")
def compiled(project, tmp_path_factory):
    (project / "pipelines" / "transform.yaml").write_text(SPEC)
    out = tmp_path_factory.mktemp("out") / "transform.json"
    done = compile_here("compile", "pipelines/transform.yaml", "-o", str(out), "--no-cache", cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(out.read_text())


def test_each_transform_step_is_a_valid_create_transform_job_request(compiled):
    checked = [r for r in requests(compiled) if r[1] == "CreateTransformJob"]
    assert [name for name, *_ in checked] == ["Score", "ScoreNamed"]
    for name, _, shape, params in checked:
        report = ParamValidator().validate(params, shape)
        assert not report.has_errors(), f"{name}: {report.generate_report()}"


def test_the_settings_reach_the_request_as_written(compiled):
    score = next(s for s in compiled["Steps"] if s["Name"] == "Score")["Arguments"]
    assert score["ModelName"] == {"Get": "Steps.CreateModel-CreateModel.ModelName"}
    assert score["TransformResources"] == {"InstanceCount": 2, "InstanceType": "ml.m5.xlarge"}
    assert score["TransformInput"]["SplitType"] == "Line" and score["TransformInput"]["CompressionType"] == "Gzip"
    assert score["DataProcessing"] == {"InputFilter": "$[1:]", "JoinSource": "Input", "OutputFilter": "$[0,-1]"}
    assert (score["BatchStrategy"], score["MaxPayloadInMB"], score["MaxConcurrentTransforms"]) == ("MultiRecord", 10, 4)
    assert score["Environment"] == {"LOG_LEVEL": "debug"}
    # The default output path keeps executions apart (the SDK's default is named after a timestamp).
    assert score["TransformOutput"]["S3OutputPath"] == {
        "Std:Join": {
            "On": "/",
            "Values": ["s3://sagespec-ds-experiments-111111111111/transform/transform/Score", {"Get": "Execution.PipelineExecutionId"}],
        }
    }
    named = next(s for s in compiled["Steps"] if s["Name"] == "ScoreNamed")["Arguments"]
    assert named["ModelName"] == {"Get": "Parameters.ModelName"}
    assert named["TransformInput"]["DataSource"]["S3DataSource"]["S3DataType"] == "ManifestFile"
    assert named["TransformOutput"]["S3OutputPath"] == "s3://sagespec-ds-experiments-111111111111/scored/named"


MISTAKES = [
    ('input_filter: "$[1:]"', 'input_filter: "[1:]"', "E4018", "input_filter '[1:]' of step 'Score' is not a JSONPath", "input_filter"),
    (
        'output_filter: "$[0,-1]"',
        'output_filter: "$[0,,"',
        "E4018",
        "output_filter '$[0,,' of step 'Score' is not a JSONPath",
        "output_filter",
    ),
    (
        "split_type: Line, compression: Gzip",
        "compression: Gzip",
        "E4018",
        "strategy MultiRecord of step 'Score' needs input.split_type",
        "strategy",
    ),
    (
        "max_concurrent_transforms: 4",
        "max_concurrent_transforms: 20",
        "E4018",
        "max_concurrent_transforms x max_payload_mb is 200 MB",
        "max_payload_mb",
    ),
    ("model_step: CreateModel", "model_step: Train", "E3005", "model_step of step 'Score' names 'Train', a training step", "model_step"),
    (
        "model_step: CreateModel",
        "model_step: CreateModle",
        "E3001",
        "model_step of step 'Score' names an unknown step 'CreateModle'",
        "model_step",
    ),
    ("max_payload_mb: 10", "max_payload_mb: 101", "E2006", "max_payload_mb: 101 is greater than the maximum of 100", "max_payload_mb"),
]


@pytest.mark.parametrize("old, new, code, says, line_holds", MISTAKES, ids=[m[3][:40] or m[1] for m in MISTAKES])
def test_a_transform_sagemaker_would_refuse_is_a_located_error(project, old, new, code, says, line_holds):
    assert_located_mistake(project, SPEC, old, new, code, says, line_holds)
