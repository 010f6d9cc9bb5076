"""Cross-account registration, describe and group policies on both implementations.

moto lacks these APIs (put/get_model_package_group_policy) or behaviours (create_model_package
with a group ARN, calls across accounts), so the SageMaker side runs on botocore's Stubber with
SageMaker's real request and response shapes; the local side runs on the real control plane.
"""

import datetime
import json

import boto3
import pytest
from botocore.stub import Stubber

from helpers import DATA_SCIENCE, DEPLOYMENT, INFERENCE, ROOT, SHARED, local_registry
from sagespec.backends.sagemaker.registry import SageMakerRegistry
from sagespec.diagnostics import UserError

GROUP_ARN = "arn:aws:sagemaker:us-east-1:222222222222:model-package-group/california-housing"
PACKAGE_ARN = "arn:aws:sagemaker:us-east-1:222222222222:model-package/california-housing/1"
POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "DataScienceRegisters",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
            "Action": "sagemaker:CreateModelPackage",
            "Resource": "arn:aws:sagemaker:us-east-1:222222222222:model-package/california-housing/*",
        },
        {
            "Sid": "DeploymentReadsGroup",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::333333333333:root"},
            "Action": "sagemaker:DescribeModelPackageGroup",
            "Resource": GROUP_ARN,
        },
        {
            "Sid": "DeploymentManagesVersions",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::333333333333:root"},
            "Action": [
                "sagemaker:DescribeModelPackage",
                "sagemaker:ListModelPackages",
                "sagemaker:UpdateModelPackage",
                "sagemaker:CreateModel",
            ],
            "Resource": "arn:aws:sagemaker:us-east-1:222222222222:model-package/california-housing/*",
        },
    ],
}
DESCRIBED = {
    "ModelPackageName": "california-housing",
    "ModelPackageGroupName": "california-housing",
    "ModelPackageVersion": 1,
    "ModelPackageArn": PACKAGE_ARN,
    "CreationTime": datetime.datetime(2026, 11, 23, 10, 0, tzinfo=datetime.timezone.utc),
    "InferenceSpecification": INFERENCE,
    "ModelPackageStatus": "Completed",
    "ModelPackageStatusDetails": {"ValidationStatuses": [], "ImageScanStatuses": []},
    "ModelApprovalStatus": "PendingManualApproval",
}


def stubbed():
    client = boto3.client("sagemaker", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")

    class Session:
        def client(self, name):
            return client

    return SageMakerRegistry(Session()), Stubber(client)


# ---- SageMaker (Stubber) -------------------------------------------------------------------


def test_sagemaker_registers_into_a_group_of_another_account_by_arn():
    registry, stub = stubbed()
    stub.add_response(
        "create_model_package",
        {"ModelPackageArn": PACKAGE_ARN},
        {"ModelPackageGroupName": GROUP_ARN, "InferenceSpecification": INFERENCE, "ModelApprovalStatus": "PendingManualApproval"},
    )
    stub.add_response("describe_model_package", DESCRIBED, {"ModelPackageName": PACKAGE_ARN})
    with stub:
        package = registry.register(GROUP_ARN, INFERENCE)
    stub.assert_no_pending_responses()
    assert (package.arn, package.group_arn, package.version, package.status, package.created_by_account) == (
        PACKAGE_ARN,
        GROUP_ARN,
        1,
        "PendingManualApproval",
        "222222222222",
    )


def test_sagemaker_cross_account_denial_names_the_action():
    registry, stub = stubbed()
    stub.add_client_error(
        "create_model_package",
        "AccessDeniedException",
        "User: arn:aws:sts::111111111111:assumed-role/sagespec-data-science-execution/s is not authorized "
        "to perform: sagemaker:CreateModelPackage on resource: " + GROUP_ARN,
    )
    with stub, pytest.raises(UserError) as raised:
        registry.register(GROUP_ARN, INFERENCE)
    assert raised.value.code == "E6002" and "sagemaker:CreateModelPackage" in raised.value.message


def test_sagemaker_describes_a_package_of_another_account():
    registry, stub = stubbed()
    stub.add_response(
        "describe_model_package",
        {**DESCRIBED, "ModelApprovalStatus": "Approved", "ApprovalDescription": "ok"},
        {"ModelPackageName": PACKAGE_ARN},
    )
    with stub:
        package = registry.describe(PACKAGE_ARN)
    assert (package.status, package.approval_description, package.group_arn) == ("Approved", "ok", GROUP_ARN)


def test_sagemaker_group_policy_put_and_get():
    registry, stub = stubbed()
    stub.add_response(
        "put_model_package_group_policy",
        {"ModelPackageGroupArn": GROUP_ARN},
        {"ModelPackageGroupName": "california-housing", "ResourcePolicy": json.dumps(POLICY)},
    )
    stub.add_response(
        "get_model_package_group_policy", {"ResourcePolicy": json.dumps(POLICY)}, {"ModelPackageGroupName": "california-housing"}
    )
    stub.add_client_error(
        "get_model_package_group_policy",
        "ValidationException",
        "Model Package Group california-housing does not have a resource policy",
        expected_params={"ModelPackageGroupName": "california-housing"},
    )
    with stub:
        registry.put_policy("california-housing", POLICY)
        assert registry.get_policy("california-housing") == POLICY
        assert registry.get_policy("california-housing") is None


# ---- local (the same scenarios on the control plane) ---------------------------------------


@pytest.fixture
def shared_group(local_as):
    owner = local_as(SHARED)
    owner.create_group("california-housing")
    return owner


def test_local_cross_account_registration_needs_the_group_policy(shared_group, local_as):
    data_science = local_as(DATA_SCIENCE)
    with pytest.raises(UserError) as raised:
        data_science.register(GROUP_ARN, INFERENCE)
    assert raised.value.code == "E6002"
    assert raised.value.message == (
        "User: arn:aws:iam::111111111111:role/sagespec-data-science-execution is not authorized to perform: "
        "sagemaker:CreateModelPackage on resource: arn:aws:sagemaker:us-east-1:222222222222:model-package/california-housing/1 "
        "because no resource-based policy allows the sagemaker:CreateModelPackage action"
    )
    shared_group.put_policy("california-housing", POLICY)
    package = data_science.register(GROUP_ARN, INFERENCE)
    # The denied attempt consumed no version number.
    assert (package.arn, package.created_by_account) == (PACKAGE_ARN, "111111111111")
    assert shared_group.get_policy(GROUP_ARN) == POLICY


def test_local_deployment_account_approves_but_cannot_register(shared_group, local_as):
    shared_group.put_policy("california-housing", POLICY)
    arn = local_as(DATA_SCIENCE).register(GROUP_ARN, INFERENCE).arn
    deployment = local_as(DEPLOYMENT)
    assert deployment.describe(arn).status == "PendingManualApproval"
    assert [g.arn for g in deployment.list_groups()] == [GROUP_ARN]
    assert deployment.update_status(arn, "Approved", "metrics reviewed").status == "Approved"
    with pytest.raises(UserError) as raised:
        deployment.register(GROUP_ARN, INFERENCE)
    assert raised.value.code == "E6002"
    with pytest.raises(UserError):
        deployment.put_policy(GROUP_ARN, {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]})


def test_local_explicit_deny_in_the_group_policy_wins(shared_group, local_as):
    frozen = {
        **POLICY,
        "Statement": POLICY["Statement"]
        + [{"Sid": "Freeze", "Effect": "Deny", "Principal": "*", "Action": "sagemaker:CreateModelPackage", "Resource": "*"}],
    }
    shared_group.put_policy("california-housing", frozen)
    with pytest.raises(UserError) as raised:
        local_as(DATA_SCIENCE).register(GROUP_ARN, INFERENCE)
    assert raised.value.message.endswith("with an explicit deny in a resource-based policy (statement Freeze of the resource policy)")


def test_local_groups_of_other_accounts_are_invisible_without_a_policy(shared_group, local_as):
    assert local_as(DEPLOYMENT).list_groups() == []


def test_no_self_approval_data_science_registers_pending_only(tmp_path):
    """The rendered group policy lets data science create versions only as PendingManualApproval
    (condition key sagemaker:ModelApprovalStatus); registering as Approved is denied with AWS's wording."""
    from helpers import apply_local
    from sagespec.backends.local.database import connect
    from sagespec.iam import AccessDenied
    from sagespec.spec.topology import load_topology

    topology = load_topology(ROOT)
    apply_local(topology, tmp_path / "ws")
    ds = local_registry(connect(tmp_path / "ws"), topology.accounts["data_science"].principal)
    group = topology.group_arn("california-housing")
    with pytest.raises(AccessDenied) as denied:
        ds.register(group, INFERENCE, "Approved")
    assert "is not authorized to perform: sagemaker:CreateModelPackage" in denied.value.message
    assert ds.register(group, INFERENCE).status == "PendingManualApproval"


def test_accounts_check_has_a_denied_self_approval_cell_for_everyone():
    from sagespec.accounts import check
    from sagespec.spec.topology import load_topology

    cells = [c for c in check.matrix(load_topology(ROOT)) if c.context == "ModelApprovalStatus=Approved"]
    assert {c.actor for c in cells} >= {"data_science", "deployment", "qa", "prod", "outsider"}
    assert all(not c.expected and not c.allowed for c in cells)


@pytest.mark.parametrize("partition", ["aws-cn", "aws-us-gov"])
def test_the_deployment_accounts_number_in_another_partition_cannot_approve(tmp_path, partition):
    from helpers import apply_local
    from sagespec.backends.local.database import connect
    from sagespec.iam import AccessDenied, Principal
    from sagespec.spec.topology import load_topology

    topology = load_topology(ROOT)
    apply_local(topology, tmp_path / "ws")
    conn = connect(tmp_path / "ws")
    package = local_registry(conn, topology.accounts["data_science"].principal).register(
        topology.group_arn("california-housing"), INFERENCE
    )
    impostor = local_registry(conn, Principal.role("333333333333", "sagespec-deployment", partition=partition))
    with pytest.raises(AccessDenied) as denied:
        impostor.update_status(package.arn, "Approved", "same digits, other partition")
    assert (
        f"User: arn:{partition}:iam::333333333333:role/sagespec-deployment is not authorized to perform: sagemaker:UpdateModelPackage"
        in (denied.value.message)
    )
    approver = local_registry(conn, topology.accounts["deployment"].principal)
    assert approver.update_status(package.arn, "Approved", "reviewed").status == "Approved"
