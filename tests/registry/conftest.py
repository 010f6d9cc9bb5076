import boto3
import pytest

from helpers import SHARED, fake_aws_credentials, local_registry
from sagespec.backends.local.database import connect
from sagespec.backends.sagemaker.registry import SageMakerRegistry


@pytest.fixture
def workspace(tmp_path):
    return tmp_path / "ws"


@pytest.fixture
def local_as(workspace):
    """A factory: the local registry as a given principal, all on one workspace."""

    def make(principal=SHARED):
        return local_registry(connect(workspace), principal)

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
