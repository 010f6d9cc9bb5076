"""The first upsert into an account: a missing default bucket is a located error, or is created
with --create-bucket as the accounts file says (moto's S3, IAM and STS; MOTO_ACCOUNT_ID picks who calls)."""

import json
import shutil

import boto3
import pytest
from click.testing import CliRunner
from moto import mock_aws

from helpers import ROOT, existing_notify_function, fake_aws_credentials
from sagespec.cli import cli

SPEC = "pipelines/california_housing.yaml"
ARTIFACTS = "sagespec-shared-artifacts-222222222222"
KEY = "arn:aws:kms:us-east-1:222222222222:key/6f0c1d9e-3b7a-4e52-9c1f-2a8d4b6e7f10"


@pytest.fixture
def as_account(monkeypatch, tmp_path):
    """Call moto as `account` (MOTO_ACCOUNT_ID): yields a function that runs the CLI there."""
    fake_aws_credentials(monkeypatch)
    # moto 5 evaluates a bucket policy's conditions without the request's context and answers
    # DENIED for any statement whose condition it cannot verify, whatever its Effect: under the
    # TLS-only Deny every HTTPS request would be refused. AWS allows them (aws:SecureTransport is
    # true), so moto's bucket policies stay out of these tests; what the policy says is asserted
    # on the document, and sagespec's own IAM evaluator decides it in the local-run tests.
    from moto.iam.access_control import PermissionResult
    from moto.s3.models import FakeBucket

    monkeypatch.setattr(FakeBucket, "get_permission", lambda self, action, resource: PermissionResult.NEUTRAL)
    monkeypatch.setenv("SAGESPEC_WORKSPACE", str(tmp_path / "ws"))

    def run(account, *args, cwd=ROOT):
        monkeypatch.setenv("MOTO_ACCOUNT_ID", account)
        monkeypatch.chdir(cwd)
        return CliRunner().invoke(cli, list(args))

    with mock_aws():
        yield run


def s3_as(account, monkeypatch):
    monkeypatch.setenv("MOTO_ACCOUNT_ID", account)
    return boto3.client("s3", region_name="us-east-1")


def test_a_missing_bucket_is_named_with_how_to_create_it_and_nothing_is_created(as_account, monkeypatch):
    done = as_account("111111111111", "upsert", SPEC)
    assert done.exit_code == 1
    assert f"error[E6020]: bucket {ARTIFACTS} does not exist: pipeline california-housing uploads" in done.stderr
    assert "--create-bucket" in done.stderr and f"aws s3api create-bucket --bucket {ARTIFACTS}" in done.stderr
    assert "Traceback" not in done.stderr
    assert boto3.client("sagemaker", region_name="us-east-1").list_pipelines()["PipelineSummaries"] == []


def test_the_artifact_bucket_is_the_owners_to_create(as_account, monkeypatch):
    done = as_account("111111111111", "upsert", SPEC, "--create-bucket")
    assert done.exit_code == 1
    assert "owned by the shared_services account (222222222222); you are calling as account 111111111111" in done.stderr
    assert "--profile shared-services" in done.stderr
    assert s3_as("111111111111", monkeypatch).list_buckets()["Buckets"] == []


def test_the_owner_creates_it_with_the_rendered_policy_key_and_no_public_access(as_account, monkeypatch):
    monkeypatch.setenv("MOTO_ACCOUNT_ID", "222222222222")
    existing_notify_function()
    done = as_account("222222222222", "upsert", SPEC, "--create-bucket")
    assert done.exit_code == 0, done.output
    assert done.stdout.splitlines()[:4] == [
        f"created bucket {ARTIFACTS} in us-east-1 (object ownership: bucket owner enforced)",
        "blocked public access",
        f"default encryption SSE-KMS with {KEY}",
        done.stdout.splitlines()[3],
    ]
    assert done.stdout.splitlines()[3].startswith("bucket policy: DenyRequestsWithoutTls, DataScienceWritesArtifacts")
    assert "created pipeline arn:aws:sagemaker:us-east-1:222222222222:pipeline/california-housing" in done.stdout
    s3 = s3_as("222222222222", monkeypatch)
    rule = s3.get_bucket_encryption(Bucket=ARTIFACTS)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": KEY}
    assert all(s3.get_public_access_block(Bucket=ARTIFACTS)["PublicAccessBlockConfiguration"].values())
    policy = json.loads(s3.get_bucket_policy(Bucket=ARTIFACTS)["Policy"])
    tls = next(s for s in policy["Statement"] if s["Sid"] == "DenyRequestsWithoutTls")
    assert tls["Effect"] == "Deny" and tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    writers = next(s for s in policy["Statement"] if s["Sid"] == "DataScienceWritesArtifacts")
    assert writers["Principal"] == {"AWS": "arn:aws:iam::111111111111:root"}
    assert any(o["Key"].endswith("preprocess.py") for o in s3.list_objects_v2(Bucket=ARTIFACTS)["Contents"])

    again = as_account("222222222222", "upsert", SPEC, "--create-bucket")  # it exists now: nothing to create
    assert again.exit_code == 0 and "created bucket" not in again.stdout and "updated pipeline" in again.stdout


def test_another_bucket_is_created_in_the_callers_account_tls_only(as_account, monkeypatch, tmp_path):
    project = tmp_path / "project"
    shutil.copytree(ROOT / "pipelines", project / "pipelines")
    for name in ("pyproject.toml",):
        shutil.copy(ROOT / name, project / name)
    shutil.copytree(ROOT / "training_code", project / "training_code")
    spec = project / "pipelines" / "california_housing.yaml"
    spec.write_text(spec.read_text().replace('bucket: "{{ accounts.artifacts.bucket }}"', "bucket: sagespec-ds-experiments-111111111111"))
    monkeypatch.setenv("MOTO_ACCOUNT_ID", "111111111111")
    boto3.client("iam").create_role(RoleName="sagespec-data-science-execution", AssumeRolePolicyDocument="{}")
    existing_notify_function()
    done = as_account("111111111111", "upsert", "pipelines/california_housing.yaml", "--create-bucket", cwd=project)
    assert done.exit_code == 0, done.output
    assert "created bucket sagespec-ds-experiments-111111111111 in us-east-1" in done.stdout
    assert "bucket policy: DenyRequestsWithoutTls\n" in done.stdout
    policy = json.loads(s3_as("111111111111", monkeypatch).get_bucket_policy(Bucket="sagespec-ds-experiments-111111111111")["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["DenyRequestsWithoutTls"]
