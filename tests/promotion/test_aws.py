"""Promotion against SageMaker: hosting in a workload account on moto, the registry side on Stubber.

moto implements CreateModel (from a package ARN), CreateEndpointConfig, CreateEndpoint,
DescribeEndpoint, UpdateEndpointWeightsAndCapacities and DeleteEndpoint, each per account; it
has no UpdateEndpoint and no ModelLifeCycle on UpdateModelPackage (it would also reset the
approval status when the request omits it), so those calls run on botocore's Stubber, which
checks every request against SageMaker's real service model.
"""

import copy
import datetime
import json

import boto3
import pytest
from botocore.stub import ANY, Stubber
from moto import mock_aws

from helpers import ROOT, assumed_session, fake_aws_credentials
from sagespec.backends.names import production_variant
from sagespec.backends.sagemaker.hosting import SageMakerHosting
from sagespec.backends.sagemaker.registry import SageMakerRegistry
from sagespec.diagnostics import UserError
from sagespec.spec.topology import load_topology
from sagespec.workflows.promotion.promoter import Promoter

GROUP_ARN = "arn:aws:sagemaker:us-east-1:222222222222:model-package-group/california-housing"
PACKAGE = "arn:aws:sagemaker:us-east-1:222222222222:model-package/california-housing/{}"
QA_ROLE = "arn:aws:iam::444444444444:role/sagespec-qa-sagemaker"
FAST = {"Delay": 1, "MaxAttempts": 3}


def described(version, status="Approved", metadata=None):
    return {
        "ModelPackageName": "california-housing",
        "ModelPackageGroupName": "california-housing",
        "ModelPackageVersion": version,
        "ModelPackageArn": PACKAGE.format(version),
        "CreationTime": datetime.datetime(2026, 11, 23, 10, 0, tzinfo=datetime.timezone.utc),
        "InferenceSpecification": {
            "Containers": [
                {
                    "Image": "763104351884.dkr.ecr.us-east-1.amazonaws.com/tensorflow-inference:2.13-cpu",
                    "ModelDataUrl": "s3://bucket/model.tar.gz",
                }
            ],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["application/json"],
        },
        "ModelPackageStatus": "Completed",
        "ModelPackageStatusDetails": {"ValidationStatuses": []},
        "ModelApprovalStatus": status,
        **({"CustomerMetadataProperties": metadata} if metadata else {}),
    }


@pytest.fixture
def accounts(monkeypatch):
    fake_aws_credentials(monkeypatch)
    with mock_aws():
        sts = boto3.client("sts", region_name="us-east-1")

        yield lambda account_id: assumed_session(sts, account_id, "sagespec-deployer")


def stubbed_registry(accounts):
    """The deployment account's registry: SageMaker on Stubber, STS on moto (who is calling)."""
    client = boto3.client("sagemaker", region_name="us-east-1")
    deployment = accounts("333333333333")

    class Session:
        def client(self, name):
            return client if name == "sagemaker" else deployment.client(name)

    return SageMakerRegistry(Session()), Stubber(client)


def expect_endpoint_lineage(stub, version: int, endpoint_arn: str) -> None:
    """What recording a deployment asks of ML Lineage Tracking the first time (moto has no lineage
    API): the version's artifact and the endpoint's context, created, then associated."""
    artifact = f"arn:aws:sagemaker:us-east-1:333333333333:artifact/{'a' * 31}{version}"
    context = "arn:aws:sagemaker:us-east-1:333333333333:context/sagespec-endpoint-qa"
    stub.add_response("list_artifacts", {"ArtifactSummaries": []}, {"SourceUri": PACKAGE.format(version)})
    stub.add_response(
        "create_artifact",
        {"ArtifactArn": artifact},
        {"Source": {"SourceUri": PACKAGE.format(version)}, "ArtifactType": "ModelPackage", "Properties": {}},
    )
    stub.add_response("list_contexts", {"ContextSummaries": []}, {"SourceUri": endpoint_arn})
    stub.add_response(
        "create_context",
        {"ContextArn": context},
        {
            "ContextName": ANY,
            "Source": {"SourceUri": endpoint_arn},
            "ContextType": "Endpoint",
            "Properties": {"sagespec:kind": "endpoint", "sagespec:order": "1000"},
        },
    )
    stub.add_response("list_associations", {"AssociationSummaries": []}, {"SourceArn": artifact, "DestinationArn": context})
    stub.add_response(
        "add_association",
        {"SourceArn": artifact, "DestinationArn": context},
        {"SourceArn": artifact, "DestinationArn": context, "AssociationType": "ContributedTo"},
    )


def test_hosting_in_the_qa_account_on_moto(accounts):
    qa = SageMakerHosting(accounts("444444444444"), "444444444444", FAST)
    prod = SageMakerHosting(accounts("555555555555"), "555555555555", FAST)
    assert qa.describe_model("california-housing-v1") is None and qa.describe_endpoint("california-housing-qa") is None

    arn = qa.create_model("california-housing-v1", PACKAGE.format(1), QA_ROLE)
    assert arn == "arn:aws:sagemaker:us-east-1:444444444444:model/california-housing-v1"
    assert qa.describe_model("california-housing-v1")["ModelPackageName"] == PACKAGE.format(1)
    qa.create_model("california-housing-v2", PACKAGE.format(2), QA_ROLE)
    qa.create_endpoint_config("qa-1", [production_variant(1, 0.9, "california-housing"), production_variant(2, 0.1, "california-housing")])
    endpoint = qa.create_endpoint("california-housing-qa", "qa-1")
    assert endpoint["EndpointStatus"] == "InService" and endpoint["Account"] == "444444444444"
    assert [(v["VariantName"], v["CurrentWeight"]) for v in endpoint["ProductionVariants"]] == [("v1", 0.9), ("v2", 0.1)]

    shifted = qa.update_endpoint_weights_and_capacities("california-housing-qa", {"v1": 0.0, "v2": 1.0})
    assert [(v["VariantName"], v["CurrentWeight"]) for v in shifted["ProductionVariants"]] == [("v1", 0.0), ("v2", 1.0)]
    with pytest.raises(UserError) as error:
        qa.update_endpoint_weights_and_capacities("california-housing-qa", {"v7": 1.0})
    assert error.value.code == "E6004" and "v7" in error.value.message

    # Accounts are apart: prod sees neither the model nor the endpoint of QA.
    assert prod.describe_model("california-housing-v1") is None and prod.list_endpoints() == []
    assert [e["EndpointName"] for e in qa.list_endpoints()] == ["california-housing-qa"]
    with pytest.raises(UserError) as error:
        prod.create_endpoint_config("prod-1", [production_variant(1, 1.0, "california-housing")])
    assert error.value.code == "E6005" and "california-housing-v1" in error.value.message
    qa.delete_endpoint("california-housing-qa")
    assert qa.describe_endpoint("california-housing-qa") is None


def test_update_endpoint_waits_for_in_service_and_reports_a_failed_update(accounts):
    # moto has no UpdateEndpoint: the request and the waiter's DescribeEndpoint calls are stubbed.
    client = boto3.client("sagemaker", region_name="us-east-1")

    class Session:
        def client(self, name):
            return client

    hosting = SageMakerHosting(Session(), "555555555555", {"Delay": 0, "MaxAttempts": 3})
    endpoint = {
        "EndpointName": "california-housing-prod",
        "EndpointArn": "arn:aws:sagemaker:us-east-1:555555555555:endpoint/california-housing-prod",
        "EndpointConfigName": "prod-2",
        "CreationTime": datetime.datetime(2026, 11, 23),
        "LastModifiedTime": datetime.datetime(2026, 11, 23),
    }
    with Stubber(client) as stub:
        stub.add_response(
            "update_endpoint",
            {"EndpointArn": endpoint["EndpointArn"]},
            {"EndpointName": "california-housing-prod", "EndpointConfigName": "prod-2"},
        )
        stub.add_response("describe_endpoint", {**endpoint, "EndpointStatus": "Updating"}, {"EndpointName": "california-housing-prod"})
        stub.add_response("describe_endpoint", {**endpoint, "EndpointStatus": "InService"}, {"EndpointName": "california-housing-prod"})
        stub.add_response("describe_endpoint", {**endpoint, "EndpointStatus": "InService"}, {"EndpointName": "california-housing-prod"})
        assert hosting.update_endpoint("california-housing-prod", "prod-2")["EndpointStatus"] == "InService"

        stub.add_response(
            "update_endpoint",
            {"EndpointArn": endpoint["EndpointArn"]},
            {"EndpointName": "california-housing-prod", "EndpointConfigName": "prod-3"},
        )
        stub.add_response(
            "describe_endpoint",
            {**endpoint, "EndpointStatus": "Failed", "FailureReason": "image pull denied"},
            {"EndpointName": "california-housing-prod"},
        )
        with pytest.raises(UserError) as error:
            hosting.update_endpoint("california-housing-prod", "prod-3")
        assert error.value.code == "E7003" and "image pull denied" in error.value.message


def test_promote_to_qa_creates_model_config_endpoint_and_records_the_stage(accounts):
    topology = copy.deepcopy(load_topology(ROOT))
    registry, stub = stubbed_registry(accounts)
    qa = SageMakerHosting(accounts("444444444444"), "444444444444", FAST)
    promoter = Promoter(registry, qa, topology, "california-housing", "qa")
    with stub:
        stub.add_response("describe_model_package", described(3), {"ModelPackageName": PACKAGE.format(3)})
        plan = promoter.plan_promote(3)
        stub.add_response(
            "update_model_package",
            {"ModelPackageArn": PACKAGE.format(3)},
            {"ModelPackageArn": PACKAGE.format(3), "ModelLifeCycle": {"Stage": "QA", "StageStatus": "Deployed", "StageDescription": ANY}},
        )
        stub.add_response(
            "describe_model_package",
            {**described(3), "ModelLifeCycle": {"Stage": "QA", "StageStatus": "Deployed"}},
            {"ModelPackageName": PACKAGE.format(3)},
        )
        stub.add_response(
            "update_model_package",
            {"ModelPackageArn": PACKAGE.format(3)},
            {"ModelPackageArn": PACKAGE.format(3), "CustomerMetadataProperties": {"sagespec:qa:deploy": ANY}},
        )
        expect_endpoint_lineage(stub, 3, "arn:aws:sagemaker:us-east-1:444444444444:endpoint/california-housing-qa")
        recorded = promoter.execute(plan)
        stub.assert_no_pending_responses()
    assert recorded.by.startswith("arn:aws:sts::333333333333:assumed-role/sagespec-deployer/")
    assert recorded.account == "444444444444" and recorded.variants == [{"name": "v3", "version": 3, "weight": 1.0}]
    model = qa.describe_model("california-housing-v3")
    assert model["ModelPackageName"] == PACKAGE.format(3) and model["ExecutionRoleArn"] == QA_ROLE
    endpoint = qa.describe_endpoint("california-housing-qa")
    assert endpoint["EndpointStatus"] == "InService" and endpoint["ProductionVariants"][0]["VariantName"] == "v3"
    assert endpoint["EndpointConfigName"].startswith("california-housing-qa-")


def test_deployment_history_and_the_qa_gate_read_back_from_version_metadata(accounts):
    topology = copy.deepcopy(load_topology(ROOT))
    registry, stub = stubbed_registry(accounts)
    passed = json.dumps(
        {
            "at": "2026-11-23T10:05:00+00:00",
            "by": "arn:aws:sts::333333333333:assumed-role/ci/1",
            "account": "444444444444",
            "endpoint": "california-housing-qa",
            "outcome": "Passed",
            "variants": [["v2", None]],
        }
    )
    deployed = json.dumps(
        {
            "at": "2026-11-23T10:00:00+00:00",
            "by": "arn:aws:sts::333333333333:assumed-role/ci/1",
            "account": "444444444444",
            "endpoint": "california-housing-qa",
            "outcome": "Succeeded",
            "variants": [["v2", 1.0]],
        }
    )
    summaries = {
        "ModelPackageSummaryList": [
            {
                "ModelPackageArn": PACKAGE.format(v),
                "ModelPackageGroupName": "california-housing",
                "ModelPackageVersion": v,
                "CreationTime": datetime.datetime(2026, 11, 23),
                "ModelPackageStatus": "Completed",
                "ModelApprovalStatus": "Approved",
            }
            for v in (1, 2)
        ]
    }
    with stub:
        stub.add_response(
            "list_model_packages", summaries, {"ModelPackageGroupName": GROUP_ARN, "SortBy": "CreationTime", "SortOrder": "Descending"}
        )
        stub.add_response(
            "describe_model_package",
            described(2, metadata={"sagespec:qa:deploy": deployed, "sagespec:qa:qa-test": passed, "team": "pricing"}),
            {"ModelPackageName": PACKAGE.format(2)},
        )
        stub.add_response("describe_model_package", described(1), {"ModelPackageName": PACKAGE.format(1)})
        history = registry.deployments(GROUP_ARN, "qa")
        stub.assert_no_pending_responses()  # one DescribeModelPackage per version
    assert [(d.action, d.version, d.outcome) for d in history] == [("deploy", 2, "Succeeded"), ("qa-test", 2, "Passed")]
    assert history[0].variants == [{"name": "v2", "version": 2, "weight": 1.0}]
    promoter = Promoter(registry, None, topology, "california-housing", "prod")
    promoter.registry = type("Recorded", (), {"deployments": lambda self, group, stage=None: history})()
    assert promoter.passed_qa(type("P", (), {"version": 2})()) and not promoter.passed_qa(type("P", (), {"version": 1})())


def test_a_qa_result_is_kept_on_the_version_within_sagemakers_metadata_limits(accounts):
    from sagespec.workflows.promotion import qa

    registry, stub = stubbed_registry(accounts)
    sent = []
    registry.sm.meta.events.register("provide-client-params.sagemaker.UpdateModelPackage", lambda params, **_: sent.append(params))
    result = qa.VariantResult("v2", 2, PACKAGE.format(2), 3096, 0.2761, 0.2760, 0.01)
    with stub:
        stub.add_response(
            "update_model_package",
            {"ModelPackageArn": PACKAGE.format(2)},
            {"ModelPackageArn": PACKAGE.format(2), "ModelLifeCycle": {"Stage": "QA", "StageStatus": "TestPassed", "StageDescription": ANY}},
        )
        stub.add_response("describe_model_package", described(2), {"ModelPackageName": PACKAGE.format(2)})
        stub.add_response(
            "update_model_package",
            {"ModelPackageArn": PACKAGE.format(2)},
            {"ModelPackageArn": PACKAGE.format(2), "CustomerMetadataProperties": {"sagespec:qa:qa-test": ANY}},
        )
        qa.record(registry, [result], GROUP_ARN, "444444444444", "california-housing-qa", "s3://bucket/test.csv")
        stub.assert_no_pending_responses()
    value = sent[-1]["CustomerMetadataProperties"]["sagespec:qa:qa-test"]
    assert len(value) <= 256 and json.loads(value)["outcome"] == "Passed" and json.loads(value)["variants"] == [["v2", None]]
