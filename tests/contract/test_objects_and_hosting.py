"""The object store's and hosting's contracts (backends.protocols.Objects, Hosting).

Where the targets must differ, the test says why: a local model is created from a version the
caller can read in the local registry, whose artifact the local object store holds; moto's
CreateModel takes any package ARN. moto's endpoints are InService as soon as they are created
and serve nothing; a local endpoint is a server process (its invocations are tested in
tests/promotion), so endpoints are only described and listed here.
"""

from __future__ import annotations

import io
import tarfile

import boto3
import pytest

from sagespec.backends.names import production_variant

BUCKET = "contract-objects"
SKLEARN_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"


@pytest.fixture
def objects(backend):
    if backend.name == "sagemaker":
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
    return backend.objects


def test_objects_are_put_read_back_and_listed_by_prefix(objects):
    assert not objects.exists(f"s3://{BUCKET}/data/train.csv")
    objects.put(f"s3://{BUCKET}/data/train.csv", b"a,b\n1,2\n")
    objects.put(f"s3://{BUCKET}/data/test.csv", b"a,b\n3,4\n")
    objects.put(f"s3://{BUCKET}/other/readme.txt", b"hi")
    assert objects.exists(f"s3://{BUCKET}/data/train.csv")
    assert objects.get(f"s3://{BUCKET}/data/train.csv") == b"a,b\n1,2\n"
    assert objects.list(f"s3://{BUCKET}/data/") == [f"s3://{BUCKET}/data/test.csv", f"s3://{BUCKET}/data/train.csv"]
    described = objects.describe(f"s3://{BUCKET}/data/")
    assert [(d["uri"], d["size"]) for d in described] == [(f"s3://{BUCKET}/data/test.csv", 8), (f"s3://{BUCKET}/data/train.csv", 8)]


def test_a_missing_object_is_not_found(objects):
    from sagespec.diagnostics import UserError

    with pytest.raises(UserError) as raised:
        objects.get(f"s3://{BUCKET}/nothing/here")
    assert raised.value.code == "E6005"


def _registered_version(backend) -> str:
    """A version of the qa account's own group serving a model artifact: locally registered in the
    local registry with its artifact in the object store; on moto, any package ARN does."""
    if backend.name == "sagemaker":
        return "arn:aws:sagemaker:us-east-1:123456789012:model-package/contract-models/1"
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        info = tarfile.TarInfo("model.joblib")
        info.size = 4
        tar.addfile(info, io.BytesIO(b"test"))
    uri = f"s3://{BUCKET}/models/model.tar.gz"
    backend.objects.put(uri, archive.getvalue())
    registry = backend.registry("qa")
    registry.create_group("contract-models")
    spec = {"Containers": [{"Image": SKLEARN_IMAGE, "ModelDataUrl": uri}], "SupportedContentTypes": ["text/csv"]}
    return registry.register("contract-models", spec).arn


def test_models_and_endpoint_configs_are_created_described_and_endpoints_listed(backend):
    hosting = backend.hosting("qa")
    role = f"arn:aws:iam::{hosting.account}:role/sagespec-qa-sagemaker"
    assert hosting.describe_model("contract-models-v1") is None
    assert hosting.describe_endpoint("contract-models-qa") is None
    assert hosting.list_endpoints() == []
    package = _registered_version(backend)
    arn = hosting.create_model("contract-models-v1", package, role)
    assert arn.endswith(":model/contract-models-v1")
    assert hosting.describe_model("contract-models-v1")["ModelPackageName"] == package
    hosting.create_endpoint_config("contract-models-qa-1", [production_variant(1, 1.0, "contract-models")])
    config = hosting.describe_endpoint_config("contract-models-qa-1")
    assert [(v["VariantName"], v["ModelName"]) for v in config["ProductionVariants"]] == [("v1", "contract-models-v1")]
