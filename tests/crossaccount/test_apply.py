"""`accounts apply` against moto, one moto account per topology account.

Sessions come from sts:AssumeRole into each account (moto keeps each account's resources apart).
moto has no model package group policy API, so the shared-services SageMaker client is a
botocore Stubber with SageMaker's real request and response shapes.
"""

import copy
import json
import os
from pathlib import Path

import boto3
import botocore.exceptions
import pytest
from botocore.stub import ANY, Stubber
from click.testing import CliRunner
from moto import mock_aws

from helpers import apply_local, assumed_session, fake_aws_credentials, local_registry
from sagespec.accounts.render import render
from sagespec.backends.sagemaker.policies import SageMakerPolicyAdmin, plan
from sagespec.iam import AccessDenied
from sagespec.spec.topology import load_topology

ROOT = Path(__file__).resolve().parents[2]
GROUP_ARN = "arn:aws:sagemaker:us-east-1:222222222222:model-package-group/california-housing"


class ShSession:
    """The shared-services session with its SageMaker client stubbed."""

    def __init__(self, session, sagemaker):
        self.session, self.sagemaker = session, sagemaker

    def client(self, name):
        return self.sagemaker if name == "sagemaker" else self.session.client(name)


@pytest.fixture
def moto_accounts(monkeypatch):
    fake_aws_credentials(monkeypatch)
    with mock_aws():
        sts = boto3.client("sts", region_name="us-east-1")

        yield lambda account_id: assumed_session(sts, account_id)


@pytest.fixture
def world(moto_accounts):
    topology = copy.deepcopy(load_topology(ROOT, validate=True))
    shared = moto_accounts("222222222222")
    shared.client("s3").create_bucket(Bucket=topology.artifacts["bucket"])
    topology.artifacts["kms_key"] = shared.client("kms").create_key()["KeyMetadata"]["Arn"]
    sagemaker = boto3.client("sagemaker", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    stub = Stubber(sagemaker)
    sessions = {a.id: moto_accounts(a.id) for a in topology.accounts.values()}
    sessions["222222222222"] = ShSession(shared, sagemaker)
    return topology, sessions, stub, lambda account: sessions[account.id]


# The shared-services registry's groups of pipelines/accounts.yaml, in the order the plan reads them.
GROUPS = load_topology(ROOT, validate=True).model_package_groups


def expect_group(stub, policies: dict[str, str] | None = None):
    """One plan's worth of SageMaker calls for each group (describe, then read its policy:
    `policies` by group name, none where it has no entry)."""
    for name in GROUPS:
        stub.add_response(
            "describe_model_package_group",
            {
                "ModelPackageGroupName": name,
                "ModelPackageGroupArn": GROUP_ARN.replace("california-housing", name),
                "CreationTime": "2026-11-23T10:00:00Z",
                "CreatedBy": {},
                "ModelPackageGroupStatus": "Completed",
            },
            {"ModelPackageGroupName": name},
        )
        held = (policies or {}).get(name)
        if held is None:
            stub.add_client_error(
                "get_model_package_group_policy",
                "ValidationException",
                f"Model Package Group {name} does not have a resource policy",
                expected_params={"ModelPackageGroupName": name},
            )
        else:
            stub.add_response("get_model_package_group_policy", {"ResourcePolicy": held}, {"ModelPackageGroupName": name})


def expect_puts(stub, groups=GROUPS):
    for name in groups:
        stub.add_response(
            "put_model_package_group_policy",
            {"ModelPackageGroupArn": GROUP_ARN.replace("california-housing", name)},
            {"ModelPackageGroupName": name, "ResourcePolicy": ANY},
        )


def rendered_group_policies(topology) -> dict[str, str]:
    return {
        p.resource.rsplit("/", 1)[-1]: json.dumps(p.document)
        for p in render(topology)[0].resource_policies
        if p.kind == "model-package-group"
    }


def test_dry_run_shows_changes_and_changes_nothing(world):
    topology, sessions, stub, session_for = world
    expect_group(stub)
    with stub:
        changes = plan(topology, session_for)
    # Every KMS key has a (default) key policy already, so that one is an update; the rest are new.
    assert {c.what for c in changes if c.action == "update"} == {f"kms key policy of {topology.artifacts['kms_key']}"}
    assert {c.action for c in changes} == {"create", "update"}
    whats = [c.what for c in changes]
    assert "s3 bucket policy of sagespec-shared-artifacts-222222222222" in whats
    assert "inline policy ModelArtifactRead of role sagespec-qa-sagemaker" in whats
    bucket_change = next(c for c in changes if c.what.startswith("s3 bucket policy"))
    assert '+  "Statement": [' in bucket_change.diff
    with pytest.raises(botocore.exceptions.ClientError):  # nothing was written
        sessions["222222222222"].client("s3").get_bucket_policy(Bucket=topology.artifacts["bucket"])


def test_apply_writes_every_policy_and_is_idempotent(world):
    topology, sessions, stub, session_for = world
    expect_group(stub)
    expect_puts(stub)
    with stub:
        SageMakerPolicyAdmin(session_for).execute(plan(topology, session_for))
    shared = sessions["222222222222"]
    bucket = json.loads(shared.client("s3").get_bucket_policy(Bucket=topology.artifacts["bucket"])["Policy"])
    assert [s["Sid"] for s in bucket["Statement"]][:2] == ["DenyRequestsWithoutTls", "DataScienceWritesArtifacts"]
    key = json.loads(shared.client("kms").get_key_policy(KeyId=topology.artifacts["kms_key"], PolicyName="default")["Policy"])
    assert [s["Sid"] for s in key["Statement"]][0] == "KeyAdministration"
    qa_iam = sessions["444444444444"].client("iam")
    assert sorted(qa_iam.list_role_policies(RoleName="sagespec-qa-sagemaker")["PolicyNames"]) == [
        "ArtifactKeyDecrypt",
        "DeployFromRegistry",
        "ModelArtifactRead",
    ]
    # The data-science role lives in the data-science account only.
    with pytest.raises(botocore.exceptions.ClientError):
        qa_iam.get_role(RoleName="sagespec-data-science-execution")

    expect_group(stub, rendered_group_policies(topology))
    with stub:
        again = plan(topology, session_for)
    assert [c.what for c in again if c.changes] == []


def test_apply_removes_inline_policies_it_did_not_render(world):
    topology, sessions, stub, session_for = world
    expect_group(stub)
    expect_puts(stub)
    with stub:
        SageMakerPolicyAdmin(session_for).execute(plan(topology, session_for))
    prod_iam = sessions["555555555555"].client("iam")
    prod_iam.put_role_policy(
        RoleName="sagespec-prod-sagemaker",
        PolicyName="Leftover",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}),
    )
    expect_group(stub, rendered_group_policies(topology))
    with stub:
        changes = plan(topology, session_for)
    (stale,) = [c for c in changes if c.changes]
    assert stale.action == "delete" and "Leftover" in stale.what and '-  "Statement"' in stale.diff
    SageMakerPolicyAdmin(session_for).execute([stale])
    assert "Leftover" not in prod_iam.list_role_policies(RoleName="sagespec-prod-sagemaker")["PolicyNames"]


def test_apply_local_puts_the_group_policy_the_local_registry_enforces(tmp_path):
    from sagespec.backends.local.database import connect
    from sagespec.iam import Principal

    topology = load_topology(ROOT, validate=True)
    changes = apply_local(topology, tmp_path / "ws")
    assert all(c.action == "create" for c in changes)
    data_science = local_registry(connect(tmp_path / "ws"), Principal.role("111111111111", "sagespec-data-science-execution", "aws"))
    package = data_science.register(GROUP_ARN, {"Containers": [{"Image": "i", "ModelDataUrl": "s3://b/m.tar.gz"}]})
    assert package.version == 1
    qa = local_registry(connect(tmp_path / "ws"), Principal.role("444444444444", "sagespec-qa-sagemaker", "aws"))
    assert qa.describe(package.arn).status == "PendingManualApproval"
    with pytest.raises(AccessDenied):
        qa.update_status(package.arn, "Approved")
    assert all(c.action == "unchanged" for c in apply_local(topology, tmp_path / "ws"))


def test_cli_render_check_and_local_apply(tmp_path, monkeypatch):
    from sagespec.cli import cli

    monkeypatch.chdir(ROOT)
    runner = CliRunner()
    result = runner.invoke(cli, ["accounts", "render", "--format", "cloudformation", "-o", str(tmp_path / "cfn")])
    assert result.exit_code == 0 and (tmp_path / "cfn" / "shared-services.template.json").is_file()
    result = runner.invoke(cli, ["accounts", "render", "-o", str(tmp_path / "json")])
    assert (tmp_path / "json" / "shared-services" / "model-package-group.california-housing.json").is_file()
    # The checked-in group policy used in the README is exactly the rendered one.
    rendered = json.loads((tmp_path / "json" / "shared-services" / "model-package-group.california-housing.json").read_text())
    assert rendered == json.loads((ROOT / "pipelines/policies/model-package-group.california-housing.json").read_text())
    result = runner.invoke(cli, ["accounts", "check"])
    assert result.exit_code == 0 and "0 wrong" in result.output
    result = runner.invoke(cli, ["accounts", "apply", "--target", "local", "--workspace", str(tmp_path / "ws")])
    # 3 resource policies, the trust and identity policies of 5 roles (10 inline) and of the two
    # workload accounts' deployer roles, and the data-science account's own experiments group
    assert result.exit_code == 0 and result.output.strip().endswith("27 of 27 changed"), result.output


def test_cli_dry_run_on_the_shipped_topology_through_organization_roles(moto_accounts, monkeypatch):
    from sagespec.cli import cli

    monkeypatch.chdir(ROOT)
    moto_accounts("222222222222").client("s3").create_bucket(Bucket="sagespec-shared-artifacts-222222222222")
    result = CliRunner().invoke(
        cli, ["accounts", "apply", "--dry-run", "--assume-role-name", "OrganizationAccountAccessRole"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert "+ [shared-services] s3 bucket policy of sagespec-shared-artifacts-222222222222: create" in result.output
    assert "+ [shared-services] model package group policy of california-housing (and the group): create" in result.output
    assert "+ [prod] role sagespec-prod-sagemaker: create" in result.output
    assert result.output.strip().endswith("would change")
    with pytest.raises(botocore.exceptions.ClientError):
        moto_accounts("222222222222").client("s3").get_bucket_policy(Bucket="sagespec-shared-artifacts-222222222222")


def test_cli_apply_without_profiles_is_a_clear_error(tmp_path, monkeypatch):
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(HOME=str(tmp_path), AWS_CONFIG_FILE=str(tmp_path / "none"), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"))
    done = subprocess.run(
        [sys.executable, "-m", "sagespec", "accounts", "apply", "--dry-run"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1 and "error[E6003]: AWS profile 'shared-services' is not configured" in done.stderr


def _stubbed_world(moto_accounts, owner: str, access: str = "least-privilege"):
    topology = copy.deepcopy(load_topology(ROOT, validate=True))
    holder = moto_accounts(topology.accounts[owner].id)
    holder.client("s3").create_bucket(Bucket=topology.artifacts["bucket"])
    topology.artifacts = {**topology.artifacts, "owner": owner, "kms_key": holder.client("kms").create_key()["KeyMetadata"]["Arn"]}
    topology.access = access
    sagemaker = boto3.client("sagemaker", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    stub = Stubber(sagemaker)
    sessions = {a.id: moto_accounts(a.id) for a in topology.accounts.values()}
    sessions["222222222222"] = ShSession(sessions["222222222222"], sagemaker)
    expect_group(stub)
    expect_puts(stub)
    return topology, sessions, stub


def test_the_guides_topology_applies_bucket_and_key_policies_in_the_training_account(moto_accounts):
    topology, sessions, stub = _stubbed_world(moto_accounts, "data_science")
    with stub:
        changes = plan(topology, lambda account: sessions[account.id])
        SageMakerPolicyAdmin(lambda account: sessions[account.id]).execute(changes)
    ds = sessions["111111111111"]
    bucket = json.loads(ds.client("s3").get_bucket_policy(Bucket=topology.artifacts["bucket"])["Policy"])
    assert "RegistryReadsArtifacts" in {s["Sid"] for s in bucket["Statement"]}
    key = json.loads(ds.client("kms").get_key_policy(KeyId=topology.artifacts["kms_key"], PolicyName="default")["Policy"])
    assert "RegistryUsesTheKey" in {s["Sid"] for s in key["Statement"]}
    owners = {c.account for c in changes if c.what.startswith(("s3 bucket policy", "kms key policy"))}
    assert owners == {"data_science"}  # moto's bucket names are global, so the owner is read from the plan


@pytest.mark.slow
def test_managed_access_attaches_amazon_sagemaker_full_access(moto_accounts, monkeypatch):
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")  # moto loads AWS managed policies only when asked
    # ... all ~1,300 of them into every account it touches (57 s with the teardown); this test needs one,
    # as moto's own data holds it
    import json

    import moto.iam.models

    managed = json.loads(moto.iam.models.aws_managed_policies_data)
    monkeypatch.setattr(
        moto.iam.models, "aws_managed_policies_data", json.dumps({"AmazonSageMakerFullAccess": managed["AmazonSageMakerFullAccess"]})
    )
    topology, sessions, stub = _stubbed_world(moto_accounts, "shared_services", access="managed")
    with stub:
        SageMakerPolicyAdmin(lambda account: sessions[account.id]).execute(plan(topology, lambda account: sessions[account.id]))
    iam = sessions["111111111111"].client("iam")
    attached = iam.list_attached_role_policies(RoleName="sagespec-data-science-execution")["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == ["arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"]
