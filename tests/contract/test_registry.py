"""The registry's contract (backends.protocols.Registry): model package groups, numbered
versions, approval and its history, lineage, group policies, the same on every target."""

import pytest

from helpers import INFERENCE
from sagespec.diagnostics import UserError

METRICS = {
    "ModelQuality": {
        "Statistics": {"ContentType": "application/json", "S3Uri": "s3://sagespec-shared-artifacts-222222222222/eval/evaluation.json"}
    }
}


def test_group_arn_names_the_owning_account(registry):
    group = registry.create_group("california-housing", description="house prices")
    account = group.arn.split(":")[4]
    assert group.arn == f"arn:aws:sagemaker:us-east-1:{account}:model-package-group/california-housing"
    assert (group.name, group.account, group.description) == ("california-housing", account, "house prices")
    assert [g.arn for g in registry.list_groups()] == [group.arn]
    assert registry.describe_group("california-housing").arn == group.arn


def test_versions_are_numbered_and_named_by_arn(registry):
    group = registry.create_group("california-housing")
    packages = [registry.register("california-housing", INFERENCE) for _ in range(3)]
    prefix = group.arn.replace("model-package-group/", "model-package/")
    assert [p.arn for p in packages] == [f"{prefix}/{n}" for n in (1, 2, 3)]
    assert [p.version for p in packages] == [1, 2, 3]
    assert {p.status for p in packages} == {"PendingManualApproval"}
    assert {p.group_arn for p in packages} == {group.arn}


def test_package_content_round_trips(registry):
    registry.create_group("california-housing")
    package = registry.register(
        "california-housing", INFERENCE, model_metrics=METRICS, customer_metadata={"pipeline": "california-housing"}, description="v1"
    )
    described = registry.describe(package.arn)
    assert described.inference_specification["Containers"][0]["ModelDataUrl"] == INFERENCE["Containers"][0]["ModelDataUrl"]
    assert described.model_metrics["ModelQuality"]["Statistics"]["S3Uri"].endswith("/evaluation.json")
    assert described.customer_metadata == {"pipeline": "california-housing"}
    assert described.description == "v1"


def test_approve_reject_and_latest_approved(registry):
    registry.create_group("california-housing")
    arns = [registry.register("california-housing", INFERENCE).arn for _ in range(4)]
    approved = registry.update_status(arns[1], "Approved", "QA metrics reviewed")
    assert (approved.status, approved.approval_description) == ("Approved", "QA metrics reviewed")
    registry.update_status(arns[2], "Approved", "better MSE")
    registry.update_status(arns[3], "Rejected", "data drift")
    assert [p.version for p in registry.list_packages("california-housing")] == [4, 3, 2, 1]
    assert [p.version for p in registry.list_packages("california-housing", status="Approved")] == [3, 2]
    assert [p.version for p in registry.list_packages("california-housing", status="Approved", latest=True)] == [3]
    assert [p.version for p in registry.list_packages("california-housing", status="PendingManualApproval")] == [1]
    assert registry.history(arns[3])[-1].to_status == "Rejected"


def test_unknown_things_are_not_found(registry):
    registry.create_group("california-housing")
    arn = registry.register("california-housing", INFERENCE).arn
    with pytest.raises(UserError) as raised:
        registry.describe(arn[:-1] + "9")
    assert raised.value.code == "E6005"
    with pytest.raises(UserError) as raised:
        registry.describe_group("no-such-group")
    assert raised.value.code == "E6005"


def test_bad_status_and_bad_arn_are_usage_errors(registry):
    registry.create_group("california-housing")
    arn = registry.register("california-housing", INFERENCE).arn
    for call in (lambda: registry.update_status(arn, "Accepted"), lambda: registry.describe("arn:aws:sagemaker:x")):
        with pytest.raises(UserError) as raised:
            call()
        assert raised.value.exit_code == 2


def test_lineage_round_trips(backend, registry):
    from sagespec.backends.records import LineageEntry

    if backend.name == "sagemaker":
        pytest.skip("moto has no ML Lineage Tracking API: tests/registry/test_lineage_aws.py plays it through the Stubber")

    registry.create_group("california-housing")
    package = registry.register(
        "california-housing",
        INFERENCE,
        lineage=[
            LineageEntry("dataset", "s3://b/datasets/cal_housing.tgz", "5832a120de7c"),
            LineageEntry("execution", "arn:aws:sagemaker:us-east-1:111111111111:pipeline/california-housing/execution/abc"),
        ],
    )
    assert [(e.kind, e.uri, e.sha256) for e in registry.lineage(package.arn)] == [
        ("dataset", "s3://b/datasets/cal_housing.tgz", "5832a120de7c"),
        ("execution", "arn:aws:sagemaker:us-east-1:111111111111:pipeline/california-housing/execution/abc", None),
    ]
