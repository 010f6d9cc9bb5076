import boto3
import pytest

from helpers import fake_aws_credentials
from sagespec.iam import Principal
from sagespec.local.database import connect
from sagespec.local.registry import LocalRegistry
from sagespec.registry.sagemaker import SageMakerRegistry

SHARED = Principal.role("222222222222", "sagespec-shared-services-admin")
DATA_SCIENCE = Principal.role("111111111111", "sagespec-data-science-execution")
DEPLOYMENT = Principal.role("333333333333", "sagespec-deployment")

INFERENCE = {
    "Containers": [
        {
            "Image": "763104351884.dkr.ecr.us-east-1.amazonaws.com/tensorflow-inference:2.13-cpu",
            "ModelDataUrl": "s3://sagespec-shared-artifacts-222222222222/california-housing/job/output/model.tar.gz",
        }
    ],
    "SupportedContentTypes": ["text/csv", "application/json"],
    "SupportedResponseMIMETypes": ["application/json"],
}


@pytest.fixture
def workspace(tmp_path):
    return tmp_path / "ws"


@pytest.fixture
def local_as(workspace):
    """A factory: the local registry as a given principal, all on one workspace."""

    def make(principal=SHARED):
        return LocalRegistry(connect(workspace), principal)

    return make


@pytest.fixture
def aws_session(monkeypatch):
    from moto import mock_aws

    fake_aws_credentials(monkeypatch)
    with mock_aws():
        yield boto3.Session(region_name="us-east-1")


@pytest.fixture(params=["local", "sagemaker"])
def registry(request):
    """The contract suite runs against both implementations."""
    if request.param == "local":
        return request.getfixturevalue("local_as")()
    return SageMakerRegistry(request.getfixturevalue("aws_session"))
