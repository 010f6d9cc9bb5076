"""upsert / start / diff against SageMaker, S3, IAM and STS mocked by moto (no credentials, no network)."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner
from moto import mock_aws

from helpers import existing_notify_function, fake_aws_credentials, moto_lists_execution_steps, seeded_compile_cache
from sagespec.cli import cli

ROOT = Path(__file__).resolve().parents[2]
SPEC = "pipelines/california_housing.yaml"
BUCKET = "sagespec-shared-artifacts-222222222222"
MOTO_ACCOUNT = "123456789012"


@pytest.fixture
def aws(monkeypatch, tmp_path):
    fake_aws_credentials(monkeypatch)
    monkeypatch.setenv("SAGESPEC_WORKSPACE", str(tmp_path / "ws"))
    monkeypatch.chdir(ROOT)
    moto_lists_execution_steps(monkeypatch)
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
        existing_notify_function()
        yield boto3.Session(region_name="us-east-1")


def run(*args):
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_upsert_creates_then_updates_and_uploads_the_code(aws):
    code, out = run("upsert", SPEC)
    assert code == 0, out
    assert "created pipeline arn:aws:sagemaker:us-east-1:" in out
    sm = aws.client("sagemaker")
    described = sm.describe_pipeline(PipelineName="california-housing")
    assert described["RoleArn"] == "arn:aws:iam::111111111111:role/sagespec-data-science-execution"
    assert described["PipelineDescription"].startswith("California housing price regression")
    deployed = json.loads(described["PipelineDefinition"])
    compiled = json.loads((ROOT / "tests/compiler/golden/california_housing.definition.json").read_text())
    assert deployed == compiled
    # The code objects the definition points at were uploaded with the project's bytes.
    s3 = aws.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert len(keys) == 5  # preprocess.py; the training and evaluation code (sourcedir.tar.gz each); runproc.sh; the definition
    (definition,) = [k for k in keys if "/definitions/" in k]
    body = s3.get_object(Bucket=BUCKET, Key=definition)["Body"].read()
    assert json.loads(body) == deployed and definition.endswith(f"/{hashlib.sha256(body).hexdigest()}.json")
    preprocess = next(k for k in keys if k.endswith("preprocess.py"))
    assert f"s3://{BUCKET}/{preprocess}" in json.dumps(deployed)
    assert s3.get_object(Bucket=BUCKET, Key=preprocess)["Body"].read() == (ROOT / "training_code/preprocess.py").read_bytes()
    tags = sm.list_tags(ResourceArn=described["PipelineArn"])["Tags"]
    assert {"Key": "project", "Value": "california-housing"} in tags

    code, out = run("upsert", SPEC)
    assert code == 0 and "updated pipeline" in out, out
    assert out.count("unchanged s3://") == 5 and "uploaded" not in out  # same content, same keys


def test_start_passes_type_checked_overrides(aws):
    assert run("upsert", SPEC)[0] == 0
    code, out = run("start", "california-housing", "--param", "TrainingEpochs=5", "--param", "AccuracyMseThreshold=0.25")
    assert code == 0, out
    arn = out.split("started ")[1].split()[0]
    sm = aws.client("sagemaker")
    params = sm.list_pipeline_parameters_for_execution(PipelineExecutionArn=arn)["PipelineParameters"]
    assert {"Name": "TrainingEpochs", "Value": "5"} in params
    assert {"Name": "AccuracyMseThreshold", "Value": "0.25"} in params
    assert len(sm.list_pipeline_executions(PipelineName="california-housing")["PipelineExecutionSummaries"]) == 1


def test_start_wait_reports_the_final_status(aws):
    assert run("upsert", SPEC)[0] == 0
    code, out = run("start", "california-housing", "--wait")
    assert code == 0 and "Succeeded" in out, out


@pytest.mark.parametrize(
    "param, rule",
    [("Epochs=5", "E6006"), ("TrainingEpochs=five", "E6007"), ("AccuracyMseThreshold=low", "E6007")],
)
def test_start_rejects_bad_overrides_before_calling_sagemaker(aws, param, rule):
    assert run("upsert", SPEC)[0] == 0
    code, out = run("start", "california-housing", "--param", param)
    assert code == 2 and f"error[{rule}]" in out, out
    assert aws.client("sagemaker").list_pipeline_executions(PipelineName="california-housing")["PipelineExecutionSummaries"] == []


def test_start_of_an_unknown_pipeline(aws):
    code, out = run("start", "no-such-pipeline")
    assert code == 1 and "error[E6005]" in out, out


def test_upsert_with_a_role_that_does_not_exist(aws):
    code, out = run("upsert", SPEC, "--role", f"arn:aws:iam::{MOTO_ACCOUNT}:role/missing")
    assert code == 1 and "error[E6008]" in out and "does not exist" in out, out
    aws.client("iam").create_role(RoleName="present", AssumeRolePolicyDocument="{}")
    code, out = run("upsert", SPEC, "--role", f"arn:aws:iam::{MOTO_ACCOUNT}:role/present")
    assert code == 0, out


def test_diff_against_the_deployed_pipeline(aws, tmp_path):
    assert run("upsert", SPEC)[0] == 0
    code, out = run("diff", SPEC, "--target", "aws")
    assert code == 0 and "no differences" in out, out
    project = tmp_path / "project"
    for name in ("pyproject.toml", "pipelines", "training_code"):
        source = ROOT / name
        shutil.copytree(source, project / name) if source.is_dir() else (project.mkdir(exist_ok=True), shutil.copy(source, project / name))
    spec = project / SPEC
    spec.write_text(spec.read_text().replace("epochs: 150", "epochs: 40"))
    code, out = run("diff", str(spec), "--target", "aws")
    assert code == 1, out
    assert "parameter TrainingEpochs\n  ~ DefaultValue: 150 -> 40" in out


def test_missing_credentials_are_a_clear_error(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        HOME=str(tmp_path),
        AWS_CONFIG_FILE=str(tmp_path / "none"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
        AWS_EC2_METADATA_DISABLED="true",
        SAGESPEC_WORKSPACE=str(tmp_path / "ws"),
    )
    done = subprocess.run(
        [sys.executable, "-m", "sagespec", "start", "california-housing", "--target", "aws", "--region", "us-east-1"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stderr.startswith("error[E6001]: no AWS credentials found"), done.stderr
    assert "Traceback" not in done.stderr


def test_unknown_profile_is_a_clear_error(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(HOME=str(tmp_path), AWS_CONFIG_FILE=str(tmp_path / "none"))
    done = subprocess.run(
        [sys.executable, "-m", "sagespec", "start", "x", "--profile", "nope"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1 and "error[E6003]: AWS profile 'nope' is not configured" in done.stderr


def test_an_unreachable_endpoint_is_an_aws_error_not_a_crash(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_MAX_ATTEMPTS": "1",
        "SAGESPEC_WORKSPACE": str(seeded_compile_cache(tmp_path / "ws", ROOT, SPEC)),
    }
    for argv in (["upsert", SPEC], ["start", "california-housing"]):
        done = subprocess.run([sys.executable, "-m", "sagespec", *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 1, done.stderr
        assert "error[E6004]" in done.stderr and "127.0.0.1:9" in done.stderr
        assert "internal error" not in done.stderr and "Traceback" not in done.stderr
