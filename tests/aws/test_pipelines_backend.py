"""SageMakerPipelines: the pipelines protocol on SageMaker, with the same execution keys as locally.

moto answers CreatePipeline, StartPipelineExecution, ListPipelineExecutions and CloudWatch Logs.
It has no ListPipelineExecutionSteps and no StopPipelineExecution, so those go through botocore's
Stubber, which checks every request and response against the real SageMaker service model.
"""

import json
from datetime import datetime, timezone

import boto3
import pytest
from botocore.stub import ANY, Stubber
from click.testing import CliRunner
from moto import mock_aws

from helpers import ROOT, existing_notify_function, fake_aws_credentials
from sagespec.backends.records import EXECUTION_KEYS, STEP_KEYS
from sagespec.backends.sagemaker.pipelines import SageMakerPipelines
from sagespec.cli import cli

PIPELINE_ARN = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/california-housing"
EXECUTION = f"{PIPELINE_ARN}/execution/abc123def456"
TRAINING_JOB = "pipelines-abc123def456-TrainModel-x1y2z3"
STARTED = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
ENDED = datetime(2026, 12, 1, 9, 40, tzinfo=timezone.utc)


class Clients:
    """A boto3-session stand-in handing out the clients a test prepared (stubbed or moto)."""

    def __init__(self, **clients):
        self.clients = clients

    def client(self, name, **_):
        return self.clients[name]


def stubbed_sagemaker(before=(), steps_only=False):
    """A SageMaker client whose Stubber answers `before` ((operation, response, params), ...) and
    then one DescribePipelineExecution with its steps and parameters (`steps_only`: the steps alone)."""
    sm = boto3.client("sagemaker", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(sm)
    for operation, response, params in before:
        stub.add_response(operation, response, params)
    if not steps_only:
        stub.add_response(
            "describe_pipeline_execution",
            {
                "PipelineArn": PIPELINE_ARN,
                "PipelineExecutionArn": EXECUTION,
                "PipelineExecutionStatus": "Succeeded",
                "CreationTime": STARTED,
                "LastModifiedTime": ENDED,
            },
            {"PipelineExecutionArn": EXECUTION},
        )
    stub.add_response(
        "list_pipeline_execution_steps",
        {
            "PipelineExecutionSteps": [
                {
                    "StepName": "TrainModel",
                    "StepStatus": "Succeeded",
                    "StartTime": STARTED,
                    "EndTime": ENDED,
                    "Metadata": {"TrainingJob": {"Arn": f"arn:aws:sagemaker:us-east-1:123456789012:training-job/{TRAINING_JOB}"}},
                },
                {
                    "StepName": "CheckMseThreshold",
                    "StepStatus": "Succeeded",
                    "StartTime": ENDED,
                    "Metadata": {"Condition": {"Outcome": "True"}},
                },
                {
                    "StepName": "PreprocessData",
                    "StepStatus": "Succeeded",
                    "StartTime": STARTED,
                    "CacheHitResult": {"SourcePipelineExecutionArn": f"{PIPELINE_ARN}/execution/older"},
                    "Metadata": {"ProcessingJob": {"Arn": "arn:aws:sagemaker:us-east-1:123456789012:processing-job/pre"}},
                },
            ]
        },
        {"PipelineExecutionArn": EXECUTION, "SortOrder": "Ascending"},
    )
    if steps_only:
        return sm, stub
    stub.add_response(
        "list_pipeline_parameters_for_execution",
        {"PipelineParameters": [{"Name": "TrainingEpochs", "Value": "50"}]},
        {"PipelineExecutionArn": EXECUTION},
    )
    # the details of a finished training step, and the definition its condition is read from
    stub.add_response(
        "describe_training_job",
        {
            "TrainingJobName": TRAINING_JOB,
            "TrainingJobArn": f"arn:aws:sagemaker:us-east-1:123456789012:training-job/{TRAINING_JOB}",
            "ModelArtifacts": {"S3ModelArtifacts": "s3://bucket/model.tar.gz"},
            "TrainingJobStatus": "Completed",
            "SecondaryStatus": "Completed",
            "AlgorithmSpecification": {"TrainingInputMode": "File"},
            "ResourceConfig": {"InstanceCount": 1, "VolumeSizeInGB": 30},
            "StoppingCondition": {},
            "CreationTime": STARTED,
        },
        {"TrainingJobName": TRAINING_JOB},
    )
    stub.add_response(
        "describe_pipeline_definition_for_execution",
        {"PipelineDefinition": (ROOT / "tests" / "compiler" / "golden" / "california_housing.definition.json").read_text()},
        {"PipelineExecutionArn": EXECUTION},
    )
    return sm, stub


def test_describe_execution_has_the_local_keys_and_reads_steps():
    sm, stub = stubbed_sagemaker()
    with stub:
        found = SageMakerPipelines(Clients(sagemaker=sm)).describe_execution(EXECUTION)
    stub.assert_no_pending_responses()
    assert set(found) == set(EXECUTION_KEYS)
    assert found["pipeline"] == "california-housing" and found["status"] == "Succeeded"
    assert found["parameters"] == {"TrainingEpochs": "50"} and found["ended_at"] == ENDED.isoformat()
    steps = {s["name"]: s for s in found["steps"]}
    assert all(set(s) == set(STEP_KEYS) for s in steps.values())
    assert steps["TrainModel"]["properties"]["ModelArtifacts"]["S3ModelArtifacts"] == "s3://bucket/model.tar.gz"
    assert steps["TrainModel"]["type"] == "Training"
    assert steps["CheckMseThreshold"]["properties"]["Outcome"] is True
    assert steps["PreprocessData"]["cached_from"].endswith("/execution/older")


def test_logs_come_from_the_jobs_cloudwatch_streams(monkeypatch):
    fake_aws_credentials(monkeypatch)
    with mock_aws():
        logs = boto3.client("logs", region_name="us-east-1")
        group = "/aws/sagemaker/TrainingJobs"
        logs.create_log_group(logGroupName=group)
        now_ms = int(datetime.now(timezone.utc).timestamp() * 1000)  # CloudWatch refuses events older than 14 days
        for stream, lines in (
            (f"{TRAINING_JOB}/algo-1-1764579600", ["epoch 1 loss 0.9", "epoch 2 loss 0.5"]),
            ("another-job/algo-1-1", ["not ours"]),
        ):
            logs.create_log_stream(logGroupName=group, logStreamName=stream)
            logs.put_log_events(
                logGroupName=group,
                logStreamName=stream,
                logEvents=[{"timestamp": now_ms + i, "message": m} for i, m in enumerate(lines)],
            )
        sm, stub = stubbed_sagemaker(steps_only=True)
        with stub:
            text = SageMakerPipelines(Clients(sagemaker=sm, logs=logs)).logs(EXECUTION, "TrainModel")
        stub.assert_no_pending_responses()  # one ListPipelineExecutionSteps, nothing else
    assert text == "epoch 1 loss 0.9\nepoch 2 loss 0.5\n"


def test_logs_of_a_step_without_a_job_say_so():
    from sagespec.diagnostics import UserError

    sm, stub = stubbed_sagemaker(steps_only=True)
    with stub, pytest.raises(UserError) as error:
        SageMakerPipelines(Clients(sagemaker=sm)).logs(EXECUTION, "CheckMseThreshold")
    assert error.value.code == "E6005" and "ran no job" in error.value.message


def test_stop_calls_stop_pipeline_execution_then_describes():
    stop = ("stop_pipeline_execution", {"PipelineExecutionArn": EXECUTION}, {"PipelineExecutionArn": EXECUTION, "ClientRequestToken": ANY})
    sm = boto3.client("sagemaker", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(sm)
    stub.add_response(*stop)
    stub.add_response(
        "describe_pipeline_execution",
        {"PipelineArn": PIPELINE_ARN, "PipelineExecutionArn": EXECUTION, "PipelineExecutionStatus": "Stopping"},
        {"PipelineExecutionArn": EXECUTION},
    )
    stub.add_response(
        "list_pipeline_execution_steps", {"PipelineExecutionSteps": []}, {"PipelineExecutionArn": EXECUTION, "SortOrder": "Ascending"}
    )
    with stub:
        found = SageMakerPipelines(Clients(sagemaker=sm)).stop(EXECUTION)
    assert found["arn"] == EXECUTION and found["status"] == "Stopping" and set(found) == set(EXECUTION_KEYS)


def test_executions_list_on_moto_through_the_cli(monkeypatch, tmp_path):
    fake_aws_credentials(monkeypatch)
    monkeypatch.setenv("SAGESPEC_WORKSPACE", str(tmp_path / "ws"))
    monkeypatch.chdir(ROOT)
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="sagespec-shared-artifacts-222222222222")
        existing_notify_function()
        runner = CliRunner()
        assert runner.invoke(cli, ["upsert", "pipelines/california_housing.yaml"]).exit_code == 0
        started = runner.invoke(cli, ["start", "california-housing", "--param", "TrainingEpochs=5"])
        assert started.exit_code == 0, started.output
        arn = started.output.split()[-1]
        listed = runner.invoke(cli, ["executions", "list", "california-housing", "--target", "aws", "--output", "json"])
        assert listed.exit_code == 0, listed.output
        executions = json.loads(listed.output)
        assert [e["arn"] for e in executions] == [arn]
        assert set(executions[0]) == {"arn", "pipeline", "status", "started_at", "ended_at", "failure_reason"}
        local = runner.invoke(cli, ["executions", "list", "--output", "json"])
        assert local.exit_code == 0 and json.loads(local.output) == []  # the local control plane is another place


def test_callback_answers_go_to_sagemaker_with_the_documented_request_shapes():
    # moto has no SendPipelineExecutionStepSuccess/Failure: the Stubber checks both requests
    # against the real service model (a 10-character token, Name/Value outputs, an idempotency token).
    sm = boto3.client("sagemaker", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(sm)
    stub.add_response(
        "send_pipeline_execution_step_success",
        {"PipelineExecutionArn": EXECUTION},
        {"CallbackToken": "oAnSiYwiPB", "OutputParameters": [{"Name": "verdict", "Value": "approve"}], "ClientRequestToken": ANY},
    )
    stub.add_response(
        "send_pipeline_execution_step_failure",
        {"PipelineExecutionArn": EXECUTION},
        {"CallbackToken": "r25RkVbQ74", "FailureReason": "x" * 256, "ClientRequestToken": ANY},
    )
    with stub:
        pipelines = SageMakerPipelines(Clients(sagemaker=sm))
        assert pipelines.send_success("oAnSiYwiPB", {"verdict": "approve"})["execution"] == EXECUTION
        assert pipelines.send_failure("r25RkVbQ74", "x" * 300)["status"] == "Failed"  # FailureReason: at most 256
    stub.assert_no_pending_responses()
