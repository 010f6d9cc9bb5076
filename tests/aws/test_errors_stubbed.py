"""AWS failures moto does not produce (denials, throttling, failed executions), with botocore's Stubber.

moto accepts every call from any identity and finishes executions as Succeeded at once, so these
paths use Stubber with SageMaker's real response shapes instead.
"""

import boto3
import pytest
from botocore.stub import Stubber

from sagespec.backends.sagemaker import pipelines
from sagespec.diagnostics import UserError


class StubbedSession:
    """A boto3 session whose SageMaker client is stubbed (one client, so the stub sees every call)."""

    def __init__(self):
        self.client_ = boto3.client("sagemaker", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
        self.stub = Stubber(self.client_)

    def client(self, name):
        assert name == "sagemaker"
        return self.client_


def test_access_denied_names_what_was_being_done():
    s = StubbedSession()
    s.stub.add_client_error(
        "describe_pipeline",
        "AccessDeniedException",
        "User: arn:aws:sts::111111111111:assumed-role/ds/x is not authorized to perform: sagemaker:DescribePipeline",
    )
    with s.stub, pytest.raises(UserError) as raised:
        pipelines.deployed_definition(s, "california-housing")
    assert raised.value.code == "E6002"
    assert raised.value.message.startswith("AWS denied describing pipeline california-housing: User:")


def test_other_failures_carry_the_aws_error_code():
    s = StubbedSession()
    s.stub.add_client_error("describe_pipeline", "ThrottlingException", "Rate exceeded")
    with s.stub, pytest.raises(UserError) as raised:
        pipelines.deployed_definition(s, "california-housing")
    assert raised.value.code == "E6004" and "ThrottlingException: Rate exceeded" in raised.value.message


def test_wait_fails_unless_the_execution_succeeded():
    s = StubbedSession()
    arn = "arn:aws:sagemaker:us-east-1:111111111111:pipeline/california-housing/execution/abc123"
    for status in ("Executing", "Failed"):
        response = {"PipelineExecutionArn": arn, "PipelineExecutionStatus": status}
        if status == "Failed":
            response["FailureReason"] = "Step failure: One or multiple steps failed."
        s.stub.add_response("describe_pipeline_execution", response, {"PipelineExecutionArn": arn})
    seen = []
    with s.stub, pytest.raises(UserError) as raised:
        pipelines.wait(s, arn, on_status=lambda status, _: seen.append(status), poll_seconds=0)
    assert seen == ["Executing", "Failed"]
    assert raised.value.code == "E6009" and "ended Failed: Step failure" in raised.value.message


@pytest.mark.parametrize("status, code", [("403", "E6002"), ("404", "E6005")])
def test_a_head_request_without_an_error_body_is_denied_or_missing_by_its_status(status, code):
    """S3's HeadObject and HeadBucket answer with a status and no body: botocore's error code is the
    bare status, which is still AWS saying access denied (403) or not found (404)."""
    from sagespec.aws.sessions import aws_errors

    s3 = boto3.client("s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    with Stubber(s3) as stub, pytest.raises(UserError) as raised, aws_errors("checking bucket b"):
        stub.add_client_error("head_bucket", status, "Forbidden" if status == "403" else "Not Found", http_status_code=int(status))
        s3.head_bucket(Bucket="b")
    assert raised.value.code == code
