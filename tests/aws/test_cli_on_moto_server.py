"""A user on SageMaker, played against moto's server on 127.0.0.1: `sagespec` runs in its own
process with AWS_ENDPOINT_URL pointing there, as it would at any SageMaker endpoint.

moto's executions succeed the moment they start and run no steps; its missing
ListPipelineExecutionSteps answers that (helpers.moto_lists_execution_steps).
"""

import json
import os

import boto3
import pytest
from moto.server import ThreadedMotoServer

from helpers import ROOT, existing_notify_function, moto_lists_execution_steps, run_cli, seeded_compile_cache
from sagespec.backends.records import EXECUTION_KEYS, LISTED_KEYS

# End to end: `make test-fast` leaves these out, `make test` runs them.
pytestmark = pytest.mark.slow

BUCKET = "sagespec-shared-artifacts-222222222222"


@pytest.fixture
def endpoint(monkeypatch, tmp_path):
    moto_lists_execution_steps(monkeypatch)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = {
        "AWS_ENDPOINT_URL": f"http://{host}:{port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
        "SAGESPEC_WORKSPACE": str(seeded_compile_cache(tmp_path / "ws", ROOT, "pipelines/california_housing.yaml")),
    }
    for key in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(key)
    yield env
    server.stop()


def test_upsert_start_wait_and_executions_as_a_user_runs_them(endpoint):
    s3 = boto3.client(
        "s3", endpoint_url=endpoint["AWS_ENDPOINT_URL"], region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t"
    )
    missing = run_cli("upsert", "pipelines/california_housing.yaml", env=endpoint)
    assert missing.returncode == 1 and f"error[E6020]: bucket {BUCKET} does not exist" in missing.stderr
    s3.create_bucket(Bucket=BUCKET)
    existing_notify_function(endpoint_url=endpoint["AWS_ENDPOINT_URL"])

    upserted = run_cli("upsert", "pipelines/california_housing.yaml", env=endpoint)
    assert upserted.returncode == 0, upserted.stderr
    assert "created pipeline arn:aws:sagemaker:us-east-1:123456789012:pipeline/california-housing" in upserted.stdout
    assert upserted.stdout.count("uploaded s3://") == 5  # four code objects and the definition

    started = run_cli("start", "california-housing", "--target", "aws", "--param", "TrainingEpochs=5", "--wait", env=endpoint)
    assert started.returncode == 0, started.stderr
    first, *_, last = started.stdout.splitlines()
    assert first.startswith("started arn:aws:sagemaker:us-east-1:123456789012:pipeline/california-housing/execution/")
    arn = first.split()[-1]
    assert last == f"execution {arn}: Succeeded"

    listed = run_cli("executions", "list", "--target", "aws", "--output", "json", env=endpoint)
    assert listed.returncode == 0, listed.stderr
    (execution,) = json.loads(listed.stdout)
    assert list(execution) == list(LISTED_KEYS) and execution["arn"] == arn and execution["status"] == "Succeeded"

    described = run_cli("executions", "describe", arn, "--target", "aws", env=endpoint)
    assert described.returncode == 0, described.stderr
    found = json.loads(described.stdout)
    assert set(found) == set(EXECUTION_KEYS)
    assert found["parameters"]["TrainingEpochs"] == "5" and found["pipeline"] == "california-housing"
    text = run_cli("executions", "describe", arn, "--target", "aws", "--output", "text", env=endpoint)
    assert text.stdout.strip() == f"execution {arn}: Succeeded"

    unknown = run_cli("executions", "describe", f"{arn[:-4]}zzzz", "--target", "aws", env=endpoint)
    assert unknown.returncode == 1 and "error[E6005]" in unknown.stderr and "Traceback" not in unknown.stderr
