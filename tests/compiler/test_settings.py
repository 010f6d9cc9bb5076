"""Retry policies, pipeline settings (ParallelismConfiguration, custom job prefixes), callback and
EMR steps compile to what SageMaker documents: RetryPolicies split by exception family, the job
name prefix kept in the Arguments, a Callback step with its queue and typed outputs, an EMR step
whose StepConfig is a valid AddJobFlowSteps step of botocore's EMR model; retry policies that
cannot apply are located before anything compiles."""

import json

import botocore.session
import pytest
from botocore.validate import ParamValidator
from test_service_model import concrete, requests

from helpers import assert_located_mistake, compile_here, data_science_spec, fast_project_copy, run_cli

STEPS = """- name: Prep
  kind: processing
  processor: {framework: sklearn, framework_version: 1.2-1, instance_type: ml.m5.large, base_job_name: housing-prep}
  code: sklearn_code/train.py
  retry:
  - {exceptions: [SageMaker.JOB_INTERNAL_ERROR, Step.SERVICE_FAULT], max_attempts: 3, interval_seconds: 2, backoff_rate: 1.5}
  - {exceptions: [SageMaker.RESOURCE_LIMIT], expire_after_minutes: 60}
  outputs:
  - {name: out, source: /opt/ml/processing/out}
- name: Review
  kind: callback
  queue_url: https://sqs.us-east-1.amazonaws.com/111111111111/review
  inputs: {data: "${steps.Prep.outputs.out}", threshold: 0.5}
  outputs: [{name: verdict}, {name: score, type: Float}]
- name: Spark
  kind: emr
  cluster_id: j-ABC123
  jar: command-runner.jar
  args: [spark-submit, "--verdict=${steps.Review.outputs.verdict}"]
  step_properties: {spark.executor.memory: 2g}
- name: Register
  kind: register_model
  depends_on: [Spark]
  model:
    image_uri: 683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3
    model_data: s3://sagespec-ds-experiments-111111111111/models/model.tar.gz
  model_package_group: california-housing-experiments
  content_types: [text/csv]
  response_types: [text/csv]
  inference_instances: [ml.m5.large]
  retry:
  - {exceptions: [Step.THROTTLING], max_attempts: 5}
"""
SPEC = data_science_spec("settings", "settings", {"TrainData": "s3://sagespec-ds-experiments-111111111111/d/train.csv"}, STEPS).replace(
    "parameters:", "settings: {max_parallel_steps: 3, custom_job_prefix: true}\nparameters:"
)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    copy = fast_project_copy(tmp_path_factory.mktemp("settings"))
    (copy / "pipelines" / "settings.yaml").write_text(SPEC)
    return copy


@pytest.fixture(scope="module")
def compiled(project, tmp_path_factory):
    out = tmp_path_factory.mktemp("out") / "settings.json"
    done = compile_here("compile", "pipelines/settings.yaml", "-o", str(out), "--no-cache", cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    return {s["Name"]: s for s in json.loads(out.read_text())["Steps"]}


def test_a_policy_becomes_one_retry_policy_per_exception_family_with_its_timing(compiled):
    assert compiled["Prep"]["RetryPolicies"] == [
        {"BackoffRate": 1.5, "IntervalSeconds": 2, "MaxAttempts": 3, "ExceptionType": ["Step.SERVICE_FAULT"]},
        {"BackoffRate": 1.5, "IntervalSeconds": 2, "MaxAttempts": 3, "ExceptionType": ["SageMaker.JOB_INTERNAL_ERROR"]},
        {"BackoffRate": 2.0, "IntervalSeconds": 1, "ExpireAfterMin": 60, "ExceptionType": ["SageMaker.RESOURCE_LIMIT"]},
    ]
    register = next(s for name, s in compiled.items() if name.startswith("Register") and s["Type"] == "RegisterModel")
    assert register["RetryPolicies"] == [{"BackoffRate": 2.0, "IntervalSeconds": 1, "MaxAttempts": 5, "ExceptionType": ["Step.THROTTLING"]}]


def test_custom_job_prefix_keeps_the_base_job_name_as_the_job_name(compiled):
    assert compiled["Prep"]["Arguments"]["ProcessingJobName"] == "housing-prep"
    checked = [r for r in requests({"Steps": list(compiled.values())}) if r[0] == "Prep"]
    report = ParamValidator().validate(checked[0][3], checked[0][2])
    assert not report.has_errors(), report.generate_report()


def test_without_the_setting_the_job_name_is_left_to_sagemaker(project, tmp_path):
    (project / "pipelines" / "plain.yaml").write_text(SPEC.replace("settings: {max_parallel_steps: 3, custom_job_prefix: true}\n", ""))
    out = tmp_path / "plain.json"
    done = compile_here("compile", "pipelines/plain.yaml", "-o", str(out), "--no-cache", cwd=project)
    assert done.returncode == 0, done.stderr
    prep = next(s for s in json.loads(out.read_text())["Steps"] if s["Name"] == "Prep")
    assert "ProcessingJobName" not in prep["Arguments"]


def test_the_callback_step_names_its_queue_inputs_and_typed_outputs(compiled):
    review = compiled["Review"]
    assert review["Type"] == "Callback"
    assert review["SqsQueueUrl"] == "https://sqs.us-east-1.amazonaws.com/111111111111/review"
    assert review["Arguments"]["threshold"] == 0.5
    assert review["Arguments"]["data"] == {"Get": "Steps.Prep.ProcessingOutputConfig.Outputs['out'].S3Output.S3Uri"}
    assert review["OutputParameters"] == [{"OutputName": "verdict", "OutputType": "String"}, {"OutputName": "score", "OutputType": "Float"}]


def test_the_emr_step_is_a_valid_add_job_flow_steps_request(compiled):
    spark = compiled["Spark"]["Arguments"]
    emr = botocore.session.get_session().get_service_model("emr").operation_model("AddJobFlowSteps").input_shape
    config = {"Name": "Spark", **spark["StepConfig"]}
    request = {"JobFlowId": spark["ClusterId"], "Steps": [concrete(config, emr.members["Steps"].member)]}
    report = ParamValidator().validate(request, emr)
    assert not report.has_errors(), report.generate_report()
    assert spark["StepConfig"]["HadoopJarStep"]["Properties"] == [{"Key": "spark.executor.memory", "Value": "2g"}]


def test_parallelism_goes_with_the_pipeline_not_its_definition(project, tmp_path):
    from sagespec.compiler import compile_spec
    from sagespec.spec.load import load_spec

    pipeline = compile_spec(load_spec(project / "pipelines" / "settings.yaml", project))
    assert pipeline.max_parallel_steps == 3
    assert "ParallelismConfiguration" not in pipeline.definition
    shape = botocore.session.get_session().get_service_model("sagemaker").operation_model("CreatePipeline").input_shape
    request = {"PipelineName": "settings", "RoleArn": pipeline.role, "PipelineDefinition": pipeline.definition_json}
    request["ParallelismConfiguration"] = {"MaxParallelExecutionSteps": pipeline.max_parallel_steps}
    request["ClientRequestToken"] = "0" * 32
    report = ParamValidator().validate(request, shape)
    assert not report.has_errors(), report.generate_report()


def test_graph_draws_the_new_kinds_in_their_own_shapes(project):
    done = run_cli("graph", "pipelines/settings.yaml", cwd=project)
    assert done.returncode == 0, done.stderr
    assert 's1>"Review<br/><small>callback</small>"]' in done.stdout
    assert 's2[["Spark<br/><small>emr</small>"]]' in done.stdout


@pytest.mark.parametrize(
    "old, new, code, says, line_holds",
    [
        (
            "{exceptions: [Step.THROTTLING], max_attempts: 5}",
            "{exceptions: [SageMaker.CAPACITY_ERROR], max_attempts: 5}",
            "E4019",
            "starts no SageMaker job: SageMaker.CAPACITY_ERROR cannot occur",
            "SageMaker.CAPACITY_ERROR",
        ),
        (
            "max_attempts: 3, interval_seconds: 2",
            "max_attempts: 3, expire_after_minutes: 5, interval_seconds: 2",
            "E2007",
            "",
            "expire_after_minutes: 5",
        ),
        ("max_attempts: 3,", "max_attempts: 21,", "E2006", "21", "max_attempts: 21"),
        ("queue_url: https://sqs", "queue_url: http://sqs", "E2005", "", "queue_url: http://sqs"),
    ],
)
def test_a_retry_policy_or_step_sagemaker_would_refuse_is_located(project, old, new, code, says, line_holds):
    assert_located_mistake(project, SPEC, old, new, code, says, line_holds)
