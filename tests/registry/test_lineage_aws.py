"""A version's lineage on SageMaker in ML Lineage Tracking: registered as artifacts and actions
associated with the version's artifact, read back with QueryLineage, entities of one source reused.

moto has no lineage API (CreateArtifact, CreateAction, AddAssociation, QueryLineage, ...), so
SageMaker is botocore's Stubber here, which checks every request and response against the real
service model.
"""

from datetime import datetime, timezone

import boto3
from botocore.stub import ANY, Stubber

from sagespec.backends.records import LineageEntry
from sagespec.backends.sagemaker.lineage import Lineage

PACKAGE = "arn:aws:sagemaker:us-east-1:222222222222:model-package/california-housing/4"
DATASET = "s3://sagespec-shared-artifacts-222222222222/california-housing/datasets/cal_housing.tgz"
EXECUTION = "arn:aws:sagemaker:us-east-1:111111111111:pipeline/california-housing/execution/k2v9x1m3q8za"
ARTIFACT = "arn:aws:sagemaker:us-east-1:111111111111:artifact/{}"
ACTION = "arn:aws:sagemaker:us-east-1:111111111111:action/{}"
T0 = datetime(2026, 12, 3, 9, 0, tzinfo=timezone.utc)


def stubbed():
    sm = boto3.client("sagemaker", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    return sm, Stubber(sm)


def test_registration_records_artifacts_and_actions_and_reuses_a_known_dataset():
    sm, stub = stubbed()
    version = ARTIFACT.format("0f" * 16)
    stub.add_response("list_artifacts", {"ArtifactSummaries": []}, {"SourceUri": PACKAGE})
    stub.add_response(
        "create_artifact", {"ArtifactArn": version}, {"Source": {"SourceUri": PACKAGE}, "ArtifactType": "ModelPackage", "Properties": {}}
    )
    # the dataset is known from an earlier version: its artifact is reused, only associated
    dataset = ARTIFACT.format("da" * 16)
    stub.add_response(
        "list_artifacts", {"ArtifactSummaries": [{"ArtifactArn": dataset, "ArtifactType": "DataSet"}]}, {"SourceUri": DATASET}
    )
    stub.add_response(
        "add_association",
        {"SourceArn": dataset, "DestinationArn": version},
        {"SourceArn": dataset, "DestinationArn": version, "AssociationType": "ContributedTo"},
    )
    execution = ACTION.format("sagespec-execution-1")
    stub.add_response("list_actions", {"ActionSummaries": []}, {"SourceUri": EXECUTION})
    stub.add_response(
        "create_action",
        {"ActionArn": execution},
        {
            "ActionName": ANY,
            "Source": {"SourceUri": EXECUTION},
            "ActionType": "PipelineExecution",
            "Properties": {"sagespec:kind": "execution", "sagespec:order": "1", "sagespec:detail": '{"pipeline":"california-housing"}'},
        },
    )
    stub.add_response(
        "add_association",
        {"SourceArn": execution, "DestinationArn": version},
        {"SourceArn": execution, "DestinationArn": version, "AssociationType": "ContributedTo"},
    )
    with stub:
        Lineage(sm).record(
            PACKAGE,
            [
                LineageEntry("dataset", DATASET, "5832a120de7c"),
                LineageEntry("execution", EXECUTION, None, {"pipeline": "california-housing"}),
            ],
        )
    stub.assert_no_pending_responses()


def test_lineage_reads_back_in_registration_order_with_endpoints_after():
    sm, stub = stubbed()
    version = ARTIFACT.format("0f" * 16)
    dataset, metrics = ARTIFACT.format("da" * 16), ARTIFACT.format("me" * 16)
    execution = ACTION.format("sagespec-execution-1")
    endpoint = "arn:aws:sagemaker:us-east-1:333333333333:context/sagespec-endpoint-1"
    stub.add_response(
        "list_artifacts", {"ArtifactSummaries": [{"ArtifactArn": version, "ArtifactType": "ModelPackage"}]}, {"SourceUri": PACKAGE}
    )
    query = {"StartArns": [version], "IncludeEdges": False, "MaxDepth": 1}
    stub.add_response(
        "query_lineage",
        {
            "Vertices": [
                {"Arn": metrics, "Type": "Artifact", "LineageType": "Metrics"},
                {"Arn": execution, "Type": "Action", "LineageType": "PipelineExecution"},
                {"Arn": dataset, "Type": "Artifact", "LineageType": "DataSet"},
            ]
        },
        {**query, "Direction": "Ascendants"},
    )
    stub.add_response(
        "query_lineage",
        {"Vertices": [{"Arn": endpoint, "Type": "Context", "LineageType": "Endpoint"}]},
        {**query, "Direction": "Descendants"},
    )
    stub.add_response(
        "describe_artifact",
        {
            "ArtifactArn": metrics,
            "Source": {"SourceUri": "s3://b/evaluation.json"},
            "ArtifactType": "Metrics",
            "Properties": {"sagespec:kind": "metrics", "sagespec:order": "2", "sagespec:detail": '{"mse":0.2871}'},
        },
        {"ArtifactArn": metrics},
    )
    stub.add_response(
        "describe_action",
        {
            "ActionArn": execution,
            "Source": {"SourceUri": EXECUTION},
            "ActionType": "PipelineExecution",
            "Properties": {"sagespec:kind": "execution", "sagespec:order": "1"},
        },
        {"ActionName": execution},
    )
    stub.add_response(
        "describe_artifact",
        {
            "ArtifactArn": dataset,
            "Source": {"SourceUri": DATASET},
            "ArtifactType": "DataSet",
            "Properties": {"sagespec:kind": "dataset", "sagespec:order": "0", "sagespec:sha256": "5832a120de7c"},
        },
        {"ArtifactArn": dataset},
    )
    stub.add_response(
        "describe_context",
        {
            "ContextArn": endpoint,
            "Source": {"SourceUri": "arn:aws:sagemaker:us-east-1:444444444444:endpoint/california-housing-qa"},
            "ContextType": "Endpoint",
            "Properties": {"sagespec:kind": "endpoint", "sagespec:order": "1000"},
            "CreationTime": T0,
        },
        {"ContextName": endpoint},
    )
    with stub:
        entries = Lineage(sm).read(PACKAGE)
    stub.assert_no_pending_responses()
    assert [(e.kind, e.uri, e.sha256, e.detail) for e in entries] == [
        ("dataset", DATASET, "5832a120de7c", {}),
        ("execution", EXECUTION, None, {}),
        ("metrics", "s3://b/evaluation.json", None, {"mse": 0.2871}),
        ("endpoint", "arn:aws:sagemaker:us-east-1:444444444444:endpoint/california-housing-qa", None, {}),
    ]


def test_a_version_without_lineage_entities_has_none():
    sm, stub = stubbed()
    stub.add_response("list_artifacts", {"ArtifactSummaries": []}, {"SourceUri": PACKAGE})
    with stub:
        assert Lineage(sm).read(PACKAGE) == []
