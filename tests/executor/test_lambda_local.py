"""Lambda steps locally: the user's handler runs in its own process with the event and context
Lambda passes, its response becomes the step's outputs, its exception fails the step, and a step
whose function's code is not in the project is refused before the first step.

The project is tests/fixtures/notebook_style/lambda_deploy, written in the style of the SageMaker
Pipelines example notebooks' Lambda step, run with `sagespec run` as a user runs it."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import ROOT, local_pipelines, places, run_cli, tar_gz
from sagespec.backends.local.aws_endpoint.server import LocalAwsEndpoint
from sagespec.backends.local.database import connect
from sagespec.backends.local.executor.lambda_function import outputs
from sagespec.backends.local.executor.retries import StepFailed
from sagespec.backends.local.hosting import LocalHosting
from sagespec.backends.local.objects import ObjectStore
from sagespec.diagnostics import UserError
from sagespec.iam import Principal

FIXTURE = ROOT / "tests/fixtures/notebook_style/lambda_deploy"


@pytest.fixture
def project(tmp_path) -> Path:
    copy = tmp_path / "lambda_deploy"
    shutil.copytree(FIXTURE, copy)
    return copy


# No call of a handler may leave this machine, even if the run's own AWS endpoint were missing:
# dummy credentials and a closed loopback port here, which the run replaces with its endpoint.
OFFLINE = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_MAX_ATTEMPTS": "1",
}


def run(project: Path, spec: str, *params: str):
    ws = ("--workspace", str(project / "ws"))
    return run_cli("run", spec, *(a for p in params for a in ("--param", p)), *ws, cwd=project, env=OFFLINE)


def describe(project: Path, arn: str) -> dict:
    done = run_cli("executions", "describe", arn, "--workspace", str(project / "ws"), cwd=project)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def execution_arn(stdout: str) -> str:
    return next(line.split()[1].rstrip(":") for line in stdout.splitlines() if line.startswith("execution arn:"))


def test_the_handler_runs_and_its_outputs_flow_typed_to_the_condition_and_the_next_event(project):
    done = run(project, "pipeline.yaml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "function arn:aws:lambda:us-east-1:111111111111:function:sagemaker-prepare-endpoint-names: created" in done.stdout
    execution = describe(project, execution_arn(done.stdout))
    steps = {s["name"]: s for s in execution["steps"]}
    prepared = steps["PrepareEndpointNames"]["properties"]["OutputParameters"]
    # Integer outputs stay numbers (the condition compared 200 == 200); memory_limit is the context's memory_limit_in_mb
    assert prepared == {
        "statusCode": 200,
        "endpoint_name": "abalone-xgboost-qa",
        "endpoint_config_name": "abalone-xgboost-qa-config",
        "memory_limit": 256,
    }
    assert steps["CheckPrepared"]["status"] == "Succeeded" and "NamesFailed" not in steps
    # The second function's event held the first one's output; it read AWS_REGION from Lambda's variables
    assert steps["AnnounceEndpoint"]["properties"]["OutputParameters"] == {
        "body": json.dumps("Endpoint abalone-xgboost-qa will serve abalone-xgboost in us-east-1")
    }
    log = run_cli("executions", "logs", execution["arn"], "PrepareEndpointNames", "--workspace", str(project / "ws"), cwd=project).stdout
    assert "START RequestId: " in log and "sagemaker-prepare-endpoint-names: abalone-xgboost-qa (" in log and " ms left)" in log
    remaining = int(log.split("abalone-xgboost-qa (")[1].split(" ms left")[0])
    assert 0 < remaining <= 30_000  # the function's Timeout (30 s), counting down
    assert not (Path.home() / "task").exists()


def test_an_exception_fails_the_step_with_the_functions_error_type_and_message(project):
    done = run(project, "pipeline.yaml", "Stage=dev")
    assert done.returncode == 1
    reason = "the function sagemaker-prepare-endpoint-names failed: ValueError: Unknown stage dev: expected one of qa, prod"
    assert reason in done.stdout
    execution = describe(project, execution_arn(done.stdout))
    steps = {s["name"]: s for s in execution["steps"]}
    assert steps["PrepareEndpointNames"]["failure_reason"] == reason
    assert steps["AnnounceEndpoint"]["status"] == "NotStarted"


def test_a_changed_script_is_what_the_next_run_runs(project):
    assert run(project, "pipeline.yaml").returncode == 0
    script = project / "announce.py"
    script.write_text(script.read_text().replace("will serve", "now serves"))
    done = run(project, "pipeline.yaml")
    assert done.returncode == 0, done.stdout
    assert "function arn:aws:lambda:us-east-1:111111111111:function:sagemaker-announce-endpoint: code updated" in done.stdout
    assert "now serves abalone-xgboost" in done.stdout


def test_a_handler_that_deploys_with_boto3_reaches_the_local_control_plane(project):
    """The notebooks' deployment function: its boto3 SageMaker calls (CreateModel,
    CreateEndpointConfig, CreateEndpoint) reach the local control plane through the run's AWS
    endpoint, as the function's role; the endpoint it created then serves the model."""
    xgb = pytest.importorskip("xgboost")
    import numpy as np

    rng = np.random.default_rng(3)
    features = rng.normal(size=(200, 4))
    booster = xgb.train({"objective": "reg:squarederror"}, xgb.DMatrix(features, label=features @ [1.0, 2.0, 0.0, -1.0]), 10)
    saved = project / "model.ubj"
    booster.save_model(str(saved))  # XGBoost's own format, as the 1.7-1 container writes it (named xgboost-model)
    workspace = project / "ws"
    store = ObjectStore(workspace, connect(workspace))
    store.put("s3://sagespec-ds-experiments-111111111111/lambda-deploy/model.tar.gz", tar_gz({"xgboost-model": saved.read_bytes()}))

    done = run(project, "deploy.yaml")
    assert done.returncode == 0, done.stdout + done.stderr
    execution = describe(project, execution_arn(done.stdout))
    assert execution["steps"][0]["properties"]["OutputParameters"]["statusCode"] == 200
    log = run_cli("executions", "logs", execution["arn"], "DeployModel", "--workspace", str(workspace), cwd=project).stdout
    for call in ("CreateModel", "CreateEndpointConfig", "CreateEndpoint"):
        assert f"[local AWS endpoint] SageMaker {call} -> 200" in log

    caller = Principal("111111111111", "arn:aws:iam::111111111111:role/lambda-deployment-role")
    hosting = LocalHosting(connect(workspace), workspace, caller, places())
    try:
        model = hosting.describe_model("abalone-xgboost")
        assert model["PrimaryContainer"]["ModelDataUrl"].endswith("lambda-deploy/model.tar.gz")
        assert model["ExecutionRoleArn"] == "arn:aws:iam::111111111111:role/sagespec-data-science-execution"
        # CreateEndpoint answered at once (Creating); the endpoint comes up and serves the booster's predictions
        served = hosting._wait("abalone-xgboost-endpoint", 1)
        assert served["EndpointStatus"] == "InService"
        # A script's boto3 sagemaker-runtime reaches it through a run's AWS endpoint, as the role it runs as.
        with LocalAwsEndpoint(workspace, places()) as endpoint:
            env = endpoint.environment("arn:aws:iam::111111111111:role/lambda-deployment-role", "tester", project)
            code = (
                "import boto3; r = boto3.client('sagemaker-runtime').invoke_endpoint("
                "EndpointName='abalone-xgboost-endpoint', Body=b'1.0,0.0,0.0,0.0', ContentType='text/csv'); "
                "print(r['InvokedProductionVariant'], r['Body'].read().decode())"
            )
            clean = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
            done = subprocess.run([sys.executable, "-c", code], env={**clean, **env}, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        variant, answer = done.stdout.split(maxsplit=1)
        _, body = hosting.invoke("abalone-xgboost-endpoint", b"1.0,0.0,0.0,0.0", "text/csv")
        assert (variant, answer.strip()) == ("AllTraffic", body.decode().strip())
        assert float(body.decode().strip().strip("[]").split(",")[0]) == pytest.approx(
            float(booster.predict(xgb.DMatrix(np.array([[1.0, 0, 0, 0]])))[0]), rel=1e-5
        )
    finally:
        hosting.delete_endpoint("abalone-xgboost-endpoint")


ARN_ONLY = """name: notify-only
session:
  region: us-east-1
  role: arn:aws:iam::111111111111:role/sagespec-data-science-execution
  default_bucket: sagespec-ds-experiments-111111111111
steps:
  - name: NotifyTeam
    kind: lambda
    function_arn: arn:aws:lambda:us-east-1:111111111111:function:team-notifier
    inputs: {message: hello}
"""


def test_a_step_naming_only_an_existing_functions_arn_is_refused_before_the_first_step(project):
    (project / "notify.yaml").write_text(ARN_ONLY)
    done = run(project, "notify.yaml")
    assert done.returncode != 0
    assert "error[E6019]" in done.stderr and "step 'NotifyTeam'" in done.stderr
    assert "team-notifier is an existing function whose code is not in the project" in done.stderr
    assert "Traceback" not in done.stderr
    listed = run_cli("executions", "list", "--workspace", str(project / "ws"), "--output", "json", cwd=project)
    assert json.loads(listed.stdout or "[]") == []  # nothing started


def test_the_runner_refuses_an_unknown_function_arn_even_from_a_stored_definition(tmp_path):
    pipelines = local_pipelines(tmp_path / "ws")
    definition = {
        "Version": "2020-12-01",
        "Parameters": [],
        "Steps": [
            {"Name": "Call", "Type": "Lambda", "FunctionArn": "arn:aws:lambda:us-east-1:111111111111:function:elsewhere", "Arguments": {}}
        ],
    }
    pipelines.store.put_definition(
        "p", "arn:aws:sagemaker:us-east-1:111111111111:pipeline/p", "arn:aws:iam::111111111111:role/r", None, json.dumps(definition), None
    )
    with pytest.raises(UserError) as refused:
        pipelines.start("p", {})
    assert refused.value.code == "E6019" and "step 'Call'" in refused.value.message


DECLARED = {
    "OutputParameters": [
        {"OutputName": "n", "OutputType": "Integer"},
        {"OutputName": "f", "OutputType": "Float"},
        {"OutputName": "b", "OutputType": "Boolean"},
        {"OutputName": "s", "OutputType": "String"},
    ]
}


def test_outputs_are_read_from_the_response_as_their_declared_types():
    assert outputs(DECLARED, {"n": 3, "f": 2, "b": False, "s": "x", "extra": 1}, "fn") == {"n": 3, "f": 2.0, "b": False, "s": "x"}
    assert outputs(DECLARED, {"n": 3, "f": 0.5, "b": True, "s": {"k": 1}}, "fn")["s"] == '{"k": 1}'
    with pytest.raises(StepFailed, match="returned no s"):
        outputs(DECLARED, {"n": 3, "f": 2, "b": True}, "fn")
    with pytest.raises(StepFailed, match="output n is declared Integer; the function returned '3'"):
        outputs(DECLARED, {"n": "3", "f": 2, "b": True, "s": ""}, "fn")
    with pytest.raises(StepFailed, match="output b is declared Boolean"):
        outputs(DECLARED, {"n": 3, "f": 2, "b": 1, "s": ""}, "fn")
    with pytest.raises(StepFailed, match="returned list, not a JSON object"):
        outputs(DECLARED, [1], "fn")
    assert outputs({}, None, "fn") == {}


def test_every_step_that_cannot_run_here_is_named_before_the_first_step(tmp_path):
    """A function without its code and a step type the local backend has no runner for, together."""
    pipelines = local_pipelines(tmp_path / "ws")
    definition = {
        "Version": "2020-12-01",
        "Parameters": [],
        "Steps": [
            {"Name": "Call", "Type": "Lambda", "FunctionArn": "arn:aws:lambda:us-east-1:111111111111:function:elsewhere", "Arguments": {}},
            {"Name": "Explain", "Type": "AutoML", "Arguments": {}},
            {"Name": "Stop", "Type": "Fail", "Arguments": {"ErrorMessage": "x"}, "DependsOn": ["Call", "Explain"]},
        ],
    }
    pipelines.store.put_definition(
        "p", "arn:aws:sagemaker:us-east-1:111111111111:pipeline/p", "arn:aws:iam::111111111111:role/r", None, json.dumps(definition), None
    )
    with pytest.raises(UserError) as refused:
        pipelines.start("p", {})
    assert refused.value.code == "E6019"
    assert "step 'Call': its function" in refused.value.message
    assert "step 'Explain': the local backend has no runner for AutoML steps" in refused.value.message
    assert "Stop" not in refused.value.message and pipelines.list_executions("p") == []


def test_the_functions_timeout_stops_it_as_lambda_does(project):
    script = project / "announce.py"
    script.write_text(script.read_text().replace("    print(message)\n", "    print(message)\n    import time\n\n    time.sleep(30)\n"))
    spec = project / "pipeline.yaml"
    spec.write_text(
        spec.read_text().replace("    handler: announce.lambda_handler\n", "    handler: announce.lambda_handler\n    timeout_seconds: 1\n")
    )
    done = run(project, "pipeline.yaml")
    assert done.returncode == 1
    assert "the function sagemaker-announce-endpoint failed: Task timed out after 1 seconds" in done.stdout
