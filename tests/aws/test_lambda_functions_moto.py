"""upsert creates or updates the functions a pipeline's Lambda steps bring the code of before the
pipeline (CreateFunction, UpdateFunctionCode, UpdateFunctionConfiguration, as the SDK's
Lambda.upsert() does), and diff shows a function change; on moto's Lambda, IAM, S3 and SageMaker."""

import json
import shutil

import boto3
import pytest
from click.testing import CliRunner
from moto import mock_aws

from helpers import ROOT, fake_aws_credentials
from sagespec.cli import cli

FIXTURE = ROOT / "tests/fixtures/notebook_style/lambda_deploy"
ACCOUNT = "111111111111"  # the execution roles' account: the functions are created there
PREPARE = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:sagemaker-prepare-endpoint-names"
ANNOUNCE = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:sagemaker-announce-endpoint"
LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


@pytest.fixture
def project(monkeypatch, tmp_path):
    fake_aws_credentials(monkeypatch)
    monkeypatch.setenv("MOTO_ACCOUNT_ID", ACCOUNT)
    monkeypatch.setenv("SAGESPEC_WORKSPACE", str(tmp_path / "ws"))
    copy = tmp_path / "project"
    shutil.copytree(FIXTURE, copy)
    monkeypatch.chdir(copy)
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="sagespec-ds-experiments-111111111111")
        iam = boto3.client("iam")
        iam.create_role(RoleName="sagespec-data-science-execution", AssumeRolePolicyDocument="{}")
        iam.create_role(RoleName="lambda-deployment-role", AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))
        yield copy


def invoke(*args):
    return CliRunner().invoke(cli, list(args))


def configuration(arn):
    return boto3.client("lambda", region_name="us-east-1").get_function_configuration(FunctionName=arn)


def test_upsert_creates_the_functions_before_the_pipeline_then_updates_what_changed(project):
    done = invoke("upsert", "pipeline.yaml", "--target", "aws")
    assert done.exit_code == 0, done.output
    assert f"function {PREPARE}: created\nfunction {ANNOUNCE}: created\n" in done.output
    created = configuration(PREPARE)
    assert created["FunctionArn"] == PREPARE  # what the definition names
    assert (created["Handler"], created["Runtime"], created["Timeout"], created["MemorySize"]) == (
        "prepare_endpoint.lambda_handler",
        "python3.12",
        30,
        256,
    )
    assert created["Role"] == f"arn:aws:iam::{ACCOUNT}:role/lambda-deployment-role"
    definition = json.loads(
        boto3.client("sagemaker", region_name="us-east-1").describe_pipeline(PipelineName="lambda-names")["PipelineDefinition"]
    )
    assert definition["Steps"][0]["FunctionArn"] == PREPARE

    same = invoke("diff", "pipeline.yaml", "--target", "aws")
    assert same.exit_code == 0 and "no differences" in same.output, same.output

    (project / "announce.py").write_text((project / "announce.py").read_text().replace("will serve", "now serves"))
    spec = project / "pipeline.yaml"
    spec.write_text(spec.read_text().replace("memory_size: 256", "memory_size: 512"))
    changed = invoke("diff", "pipeline.yaml", "--target", "aws")
    assert changed.exit_code == 1, changed.output
    assert f"function {PREPARE} (step PrepareEndpointNames)\n  ~ MemorySize: 256 -> 512" in changed.output
    assert f"function {ANNOUNCE} (step AnnounceEndpoint)\n  ~ CodeSha256: " in changed.output
    before = configuration(ANNOUNCE)["CodeSha256"]

    again = invoke("upsert", "pipeline.yaml", "--target", "aws")
    assert again.exit_code == 0, again.output
    assert f"function {PREPARE}: configuration updated\nfunction {ANNOUNCE}: code updated\n" in again.output
    assert configuration(PREPARE)["MemorySize"] == 512
    assert configuration(ANNOUNCE)["CodeSha256"] != before
    assert invoke("diff", "pipeline.yaml", "--target", "aws").exit_code == 0


def test_a_function_of_another_account_is_refused_before_any_call(project, monkeypatch):
    monkeypatch.setenv("MOTO_ACCOUNT_ID", "999999999999")
    done = invoke("upsert", "pipeline.yaml", "--target", "aws")
    assert done.exit_code == 1
    assert f"error[E6010]: Lambda function {PREPARE} (step PrepareEndpointNames) belongs to account {ACCOUNT}" in done.output
    assert "you are calling as account 999999999999" in done.output and "Traceback" not in done.output
    assert boto3.client("lambda", region_name="us-east-1").list_functions()["Functions"] == []


def test_updating_the_code_of_a_function_that_does_not_exist_is_an_error_naming_it(project):
    spec = project / "pipeline.yaml"
    spec.write_text(
        spec.read_text().replace(
            "    function_name: sagemaker-announce-endpoint\n    execution_role_arn: arn:aws:iam::111111111111:role/lambda-deployment-role\n",
            f"    function_arn: {ANNOUNCE}\n",
        )
    )
    done = invoke("upsert", "pipeline.yaml", "--target", "aws")
    assert done.exit_code == 1
    assert f"error[E6005]: Lambda function {ANNOUNCE} (step AnnounceEndpoint) does not exist" in done.output
    assert boto3.client("sagemaker", region_name="us-east-1").list_pipelines()["PipelineSummaries"] == []
    assert boto3.client("lambda", region_name="us-east-1").list_functions()["Functions"] == []  # checked before any change
