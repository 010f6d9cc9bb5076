"""Executions on SageMaker as a user follows them: start --wait's live step view and summary,
logs --follow, retry and selective runs, with the same keys as a local execution.

moto has no ListPipelineExecutionSteps, RetryPipelineExecution, DescribeTrainingJob for pipeline
jobs or DescribePipelineDefinitionForExecution of a running execution, so SageMaker is botocore's
Stubber here: every request and response is checked against the real service model. S3 and
CloudWatch Logs are moto's.
"""

import json
import types
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from botocore.stub import ANY, Stubber
from click.testing import CliRunner
from moto import mock_aws

from helpers import ROOT, fake_aws_credentials, local_pipelines
from sagespec.backends.records import EXECUTION_KEYS, STEP_KEYS
from sagespec.backends.sagemaker.pipelines import SageMakerPipelines
from sagespec.cli import cli
from sagespec.cli.present.summary import summary_lines
from sagespec.diagnostics import UserError

ACCOUNT = "111111111111"
PIPELINE_ARN = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:pipeline/california-housing"
EXECUTION = f"{PIPELINE_ARN}/execution/k2v9x1m3q8za"
DEFINITION = (ROOT / "tests" / "compiler" / "golden" / "california_housing.definition.json").read_text()
T0 = datetime(2026, 12, 3, 9, 0, tzinfo=timezone.utc)
EVALUATION_URI = "s3://sagespec-shared-artifacts-222222222222/california-housing/k2v9x1m3q8za/evaluation"
PACKAGE = "arn:aws:sagemaker:us-east-1:222222222222:model-package/california-housing/7"


class Clients:
    def __init__(self, **clients):
        self.clients = clients

    def client(self, name, **_):
        return self.clients[name]


def job(kind, name):
    return {"Arn": f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:{kind}/{name}"}


def step(name, status, minute, metadata=None, **extra):
    entry = {"StepName": name, "StepStatus": status, "StartTime": T0 + timedelta(minutes=minute), "AttemptCount": 1, **extra}
    if status in ("Succeeded", "Failed", "Stopped"):
        entry["EndTime"] = T0 + timedelta(minutes=minute + 1)
    if metadata:
        entry["Metadata"] = metadata
    return entry


PREPROCESS = {"ProcessingJob": job("processing-job", "pipelines-k2v9x1m3q8za-PreprocessData-a1")}
TRAIN = {"TrainingJob": job("training-job", "pipelines-k2v9x1m3q8za-TrainModel-b2")}
EVALUATE = {"ProcessingJob": job("processing-job", "pipelines-k2v9x1m3q8za-EvaluateModel-c3")}
POLLS = [  # what ListPipelineExecutionSteps says at each poll, and the execution's status then
    ("Executing", [step("PreprocessData", "Executing", 0, PREPROCESS)]),
    ("Executing", [step("PreprocessData", "Executing", 0, PREPROCESS)]),
    ("Executing", [step("PreprocessData", "Executing", 0, PREPROCESS)]),
    ("Executing", [step("PreprocessData", "Succeeded", 0, PREPROCESS), step("TrainModel", "Starting", 2, TRAIN)]),
    ("Executing", [step("PreprocessData", "Succeeded", 0, PREPROCESS), step("TrainModel", "Executing", 2, TRAIN)]),
    (
        "Succeeded",
        [
            step("PreprocessData", "Succeeded", 0, PREPROCESS),
            step("TrainModel", "Succeeded", 2, TRAIN),
            step("EvaluateModel", "Succeeded", 30, EVALUATE),
            step("CheckMseThreshold", "Succeeded", 32, {"Condition": {"Outcome": "True"}}),
            step("RegisterModel-RegisterModel", "Succeeded", 33, {"RegisterModel": {"Arn": PACKAGE}}),
        ],
    ),
]


def described(status, **extra):
    return {
        "PipelineArn": PIPELINE_ARN,
        "PipelineExecutionArn": EXECUTION,
        "PipelineExecutionStatus": status,
        "CreationTime": T0,
        "LastModifiedTime": T0 + timedelta(minutes=34),
        **extra,
    }


def add_poll(stub, status, steps):
    stub.add_response("describe_pipeline_execution", described(status), {"PipelineExecutionArn": EXECUTION})
    stub.add_response(
        "list_pipeline_execution_steps", {"PipelineExecutionSteps": steps}, {"PipelineExecutionArn": EXECUTION, "SortOrder": "Ascending"}
    )


def add_details(stub, status, steps):
    """The calls of a detailed describe after the end: parameters, the training job's metrics, the
    registered version's status, and what the condition compared."""
    add_poll(stub, status, steps)
    stub.add_response(
        "list_pipeline_parameters_for_execution",
        {"PipelineParameters": [{"Name": "AccuracyMseThreshold", "Value": "0.5"}, {"Name": "TrainingEpochs", "Value": "150"}]},
        {"PipelineExecutionArn": EXECUTION},
    )
    stub.add_response(
        "describe_training_job",
        {
            "TrainingJobName": "pipelines-k2v9x1m3q8za-TrainModel-b2",
            "TrainingJobArn": TRAIN["TrainingJob"]["Arn"],
            "ModelArtifacts": {"S3ModelArtifacts": "s3://sagespec-shared-artifacts-222222222222/california-housing/b2/model.tar.gz"},
            "TrainingJobStatus": "Completed",
            "SecondaryStatus": "Completed",
            "AlgorithmSpecification": {"TrainingInputMode": "File", "TrainingImage": "763104351884.dkr.ecr.us-east-1.amazonaws.com/x"},
            "ResourceConfig": {"InstanceCount": 1, "VolumeSizeInGB": 30, "InstanceType": "ml.m5.xlarge"},
            "StoppingCondition": {"MaxRuntimeInSeconds": 86400},
            "CreationTime": T0,
            "FinalMetricDataList": [{"MetricName": "validation:mse", "Value": 0.29, "Timestamp": T0}],
        },
        {"TrainingJobName": "pipelines-k2v9x1m3q8za-TrainModel-b2"},
    )
    stub.add_response(
        "describe_model_package",
        {
            "ModelPackageName": "california-housing",
            "ModelPackageArn": PACKAGE,
            "CreationTime": T0,
            "ModelPackageStatus": "Completed",
            "ModelPackageStatusDetails": {"ValidationStatuses": [], "ImageScanStatuses": []},
            "ModelApprovalStatus": "PendingManualApproval",
        },
        {"ModelPackageName": PACKAGE},
    )
    stub.add_response(
        "describe_pipeline_definition_for_execution",
        {"PipelineDefinition": DEFINITION, "CreationTime": T0},
        {"PipelineExecutionArn": EXECUTION},
    )
    stub.add_response(
        "describe_processing_job",
        {
            "ProcessingJobName": "pipelines-k2v9x1m3q8za-EvaluateModel-c3",
            "ProcessingJobArn": EVALUATE["ProcessingJob"]["Arn"],
            "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 30}},
            "AppSpecification": {"ImageUri": "763104351884.dkr.ecr.us-east-1.amazonaws.com/x"},
            "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/sagespec-data-science-execution",
            "CreationTime": T0,
            "ProcessingJobStatus": "Completed",
            "ProcessingOutputConfig": {
                "Outputs": [
                    {
                        "OutputName": "evaluation",
                        "S3Output": {"S3Uri": EVALUATION_URI, "LocalPath": "/opt/ml/processing/evaluation", "S3UploadMode": "EndOfJob"},
                    }
                ]
            },
        },
        {"ProcessingJobName": "pipelines-k2v9x1m3q8za-EvaluateModel-c3"},
    )


@pytest.fixture
def s3(monkeypatch):
    fake_aws_credentials(monkeypatch)
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        bucket, key = EVALUATION_URI.removeprefix("s3://").split("/", 1)
        client.create_bucket(Bucket=bucket)
        client.put_object(Bucket=bucket, Key=f"{key}/evaluation.json", Body=json.dumps({"regression_metrics": {"mse": {"value": 0.2871}}}))
        yield client


def stubbed():
    sm = boto3.client("sagemaker", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    return sm, Stubber(sm)


def test_following_reports_each_step_change_with_backoff_then_the_local_summary(s3):
    sm, stub = stubbed()
    for status, steps in POLLS:
        add_poll(stub, status, steps)
    add_details(stub, *POLLS[-1])
    events, delays = [], []
    with stub:
        result = SageMakerPipelines(Clients(sagemaker=sm, s3=s3)).follow(EXECUTION, events.append, sleep=delays.append)
    stub.assert_no_pending_responses()
    assert [(e.step, e.status) for e in events] == [
        ("PreprocessData", "Executing"),
        ("PreprocessData", "Succeeded"),
        ("TrainModel", "Starting"),
        ("TrainModel", "Executing"),
        ("TrainModel", "Succeeded"),
        ("EvaluateModel", "Succeeded"),
        ("CheckMseThreshold", "Succeeded"),
        ("RegisterModel-RegisterModel", "Succeeded"),
    ]
    # 2 s after a change, growing by half while nothing moves, 2 s again once something does
    assert delays == [2.0, 3.0, 4.5, 2.0, 2.0]
    assert next(e for e in events if e.step == "RegisterModel-RegisterModel").detail == PACKAGE
    assert [e.seconds for e in events[:2]] == [None, 60.0]  # StartTime..EndTime, not the time between polls
    assert set(result) == set(EXECUTION_KEYS) and all(set(s) == set(STEP_KEYS) for s in result["steps"])
    lines = summary_lines(result)
    assert lines[0] == f"execution {EXECUTION}: Succeeded"
    assert "condition CheckMseThreshold: true (regression_metrics.mse.value 0.2871 <= 0.5)" in lines
    assert f"registered {PACKAGE} (PendingManualApproval)" in lines
    train = next(s for s in result["steps"] if s["name"] == "TrainModel")
    assert train["properties"]["FinalMetricDataList"] == [{"MetricName": "validation:mse", "Value": 0.29}]


def test_a_failed_execution_says_which_step_and_why():
    failing = [
        step("PreprocessData", "Succeeded", 0, PREPROCESS),
        step("TrainModel", "Failed", 2, TRAIN, FailureReason="AlgorithmError: ExecuteUserScriptError: exit status 1"),
    ]
    sm, stub = stubbed()
    add_poll(stub, "Failed", failing)
    add_poll(stub, "Failed", failing)
    stub.add_response("list_pipeline_parameters_for_execution", {"PipelineParameters": []}, {"PipelineExecutionArn": EXECUTION})
    events = []
    with stub:
        result = SageMakerPipelines(Clients(sagemaker=sm)).follow(EXECUTION, events.append, sleep=lambda _: None)
    assert events[-1].status == "Failed" and events[-1].detail.startswith("AlgorithmError")
    assert "step TrainModel failed: AlgorithmError: ExecuteUserScriptError: exit status 1" in summary_lines(result)


def test_a_local_execution_has_the_same_keys(tmp_path):

    definition = {
        "Version": "2020-12-01",
        "Parameters": [],
        "Steps": [{"Name": "Stop", "Type": "Fail", "Arguments": {"ErrorMessage": "no"}}],
    }
    compiled = types.SimpleNamespace(
        name="keys",
        uploads=[],
        functions=[],
        role=f"arn:aws:iam::{ACCOUNT}:role/r",
        region="us-east-1",
        description=None,
        definition=definition,
        definition_json=json.dumps(definition),
        max_parallel_steps=None,
    )
    local = local_pipelines(tmp_path / "ws")
    local.upsert(compiled)
    found = local.start("keys", {})
    assert set(found) == set(EXECUTION_KEYS)
    assert [set(s) for s in found["steps"]] == [set(STEP_KEYS)]
    assert [list(e) for e in local.list_executions("keys")] == [["arn", "pipeline", "status", "started_at", "ended_at", "failure_reason"]]


def test_retry_calls_retry_pipeline_execution_for_a_failed_execution():
    sm, stub = stubbed()
    add_poll(stub, "Failed", [step("TrainModel", "Failed", 2, TRAIN, FailureReason="CapacityError")])
    stub.add_response(
        "retry_pipeline_execution",
        {"PipelineExecutionArn": EXECUTION},
        {"PipelineExecutionArn": EXECUTION, "ClientRequestToken": ANY, "ParallelismConfiguration": {"MaxParallelExecutionSteps": 2}},
    )
    with stub:
        started = SageMakerPipelines(Clients(sagemaker=sm)).start("california-housing", {}, retry=EXECUTION, max_parallel_steps=2)
    stub.assert_no_pending_responses()
    assert started["arn"] == EXECUTION


@pytest.mark.parametrize(
    "status, pipeline, says",
    [
        ("Succeeded", "california-housing", "succeeded; there is nothing to retry"),
        ("Executing", "california-housing", "is Executing; retry it once it has ended"),
        ("Failed", "other", "belongs to pipeline california-housing"),
    ],
)
def test_retry_refuses_what_sagemaker_would_refuse_before_calling_it(status, pipeline, says):
    sm, stub = stubbed()
    add_poll(stub, status, [])
    with stub, pytest.raises(UserError) as error:
        SageMakerPipelines(Clients(sagemaker=sm)).start(pipeline, {}, retry=EXECUTION)
    stub.assert_no_pending_responses()  # no RetryPipelineExecution was sent
    assert error.value.code == "E6012" and says in error.value.message


SOURCE_STEPS = [
    step("PreprocessData", "Succeeded", 0, PREPROCESS),
    step("TrainModel", "Succeeded", 2, TRAIN),
    step("EvaluateModel", "Failed", 30, EVALUATE, FailureReason="AlgorithmError"),
]


def test_from_step_sends_the_selective_execution_config_with_its_source():
    sm, stub = stubbed()
    add_poll(stub, "Failed", SOURCE_STEPS)
    stub.add_response("describe_pipeline", {"PipelineDefinition": DEFINITION}, {"PipelineName": "california-housing"})
    stub.add_response("describe_pipeline", {"PipelineDefinition": DEFINITION}, {"PipelineName": "california-housing"})
    stub.add_response(
        "start_pipeline_execution",
        {"PipelineExecutionArn": f"{PIPELINE_ARN}/execution/new"},
        {
            "PipelineName": "california-housing",
            "PipelineParameters": [],
            "ClientRequestToken": ANY,
            "SelectiveExecutionConfig": {"SelectedSteps": [{"StepName": "EvaluateModel"}], "SourcePipelineExecutionArn": EXECUTION},
        },
    )
    with stub:
        started = SageMakerPipelines(Clients(sagemaker=sm)).start(
            "california-housing", {}, selected_steps=["EvaluateModel"], source_execution=EXECUTION
        )
    stub.assert_no_pending_responses()
    assert started["arn"].endswith("/execution/new")


def test_from_step_refuses_a_selection_with_a_gap_before_starting():
    sm, stub = stubbed()
    add_poll(stub, "Failed", SOURCE_STEPS)
    stub.add_response("describe_pipeline", {"PipelineDefinition": DEFINITION}, {"PipelineName": "california-housing"})
    with stub, pytest.raises(UserError) as error:
        SageMakerPipelines(Clients(sagemaker=sm)).start(
            "california-housing", {}, selected_steps=["PreprocessData", "EvaluateModel"], source_execution=EXECUTION
        )
    stub.assert_no_pending_responses()  # no StartPipelineExecution
    assert "TrainModel between them is not" in error.value.message


def test_logs_follow_prints_lines_as_the_job_writes_them_until_the_step_ends(monkeypatch):
    fake_aws_credentials(monkeypatch)
    with mock_aws():
        logs = boto3.client("logs", region_name="us-east-1")
        group, stream = "/aws/sagemaker/TrainingJobs", "pipelines-k2v9x1m3q8za-TrainModel-b2/algo-1-1796"
        logs.create_log_group(logGroupName=group)
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        now_ms = int(datetime.now(timezone.utc).timestamp() * 1000)
        written = iter([["epoch 1 loss 0.9"], ["epoch 2 loss 0.5", "saved model"], []])

        def write(_seconds):
            for i, line in enumerate(next(written)):
                logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[{"timestamp": now_ms + i, "message": line}])

        sm, stub = stubbed()
        for status in ["Executing", "Executing", "Executing", "Executing", "Succeeded"]:  # the first: which job the step ran
            stub.add_response(
                "list_pipeline_execution_steps",
                {"PipelineExecutionSteps": [step("TrainModel", status, 2, TRAIN)]},
                {"PipelineExecutionArn": EXECUTION, "SortOrder": "Ascending"},
            )
        with stub:
            lines = list(SageMakerPipelines(Clients(sagemaker=sm, logs=logs)).follow_logs(EXECUTION, "TrainModel", sleep=write))
    assert lines == ["epoch 1 loss 0.9", "epoch 2 loss 0.5", "saved model"]


def test_ctrl_c_while_following_leaves_the_execution_running_and_says_how_to_stop_it(monkeypatch, tmp_path):
    fake_aws_credentials(monkeypatch)
    monkeypatch.setenv("SAGESPEC_WORKSPACE", str(tmp_path / "ws"))
    monkeypatch.chdir(ROOT)

    def interrupted(self, arn, on_event, sleep=None):
        raise KeyboardInterrupt

    monkeypatch.setattr(SageMakerPipelines, "start", lambda self, name, overrides, **how: {"arn": EXECUTION, "status": "Executing"})
    monkeypatch.setattr(SageMakerPipelines, "follow", interrupted)
    done = CliRunner().invoke(cli, ["start", "california-housing", "--target", "aws", "--wait"])
    assert done.exit_code == 130
    assert f"stopped following {EXECUTION}: it goes on running (SageMaker)" in done.stderr
    assert f"sagespec executions stop {EXECUTION} --target aws" in done.stderr
    assert f"sagespec executions follow {EXECUTION} --target aws" in done.stderr


def test_logs_before_the_first_job_made_its_log_group_say_so(monkeypatch):
    fake_aws_credentials(monkeypatch)
    with mock_aws():
        logs = boto3.client("logs", region_name="us-east-1")  # no /aws/sagemaker/TrainingJobs group yet
        sm, stub = stubbed()
        stub.add_response(
            "list_pipeline_execution_steps",
            {"PipelineExecutionSteps": [step("TrainModel", "Starting", 2, TRAIN)]},
            {"PipelineExecutionArn": EXECUTION, "SortOrder": "Ascending"},
        )
        with stub, pytest.raises(UserError) as error:
            SageMakerPipelines(Clients(sagemaker=sm, logs=logs)).logs(EXECUTION, "TrainModel")
    assert error.value.code == "E6005" and "no log streams of pipelines-k2v9x1m3q8za-TrainModel-b2" in error.value.message
