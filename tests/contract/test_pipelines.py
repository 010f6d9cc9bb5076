"""The pipelines' contract (backends.protocols.Pipelines): upsert a definition, read it back,
start executions and list and describe them, with the same keys on every target.

Where the targets must differ, the test says why:
- an upsert says `stored`/`unchanged` locally (the control plane keeps definition versions) and
  `created`/`updated` on SageMaker (CreatePipeline / UpdatePipeline);
- the local control plane runs an execution in `start`; SageMaker only starts it, and moto runs no
  step (its executions are Succeeded as they start, with no steps), and it has no
  ListPipelineExecutionSteps (helpers.moto_lists_execution_steps answers it as SageMaker would);
- SageMaker gives parameter values back as the strings StartPipelineExecution sent; the local
  control plane keeps them typed.
"""

from __future__ import annotations

import boto3
import pytest

from helpers import moto_lists_execution_steps
from sagespec.backends.records import EXECUTION_KEYS, LISTED_KEYS, TERMINAL
from sagespec.compiler.compiled import CompiledPipeline

ACCOUNT = "123456789012"  # moto's account, and the role's: upserts check a role of the caller's account exists
ROLE = f"arn:aws:iam::{ACCOUNT}:role/contract-pipelines"
BUCKET = "contract-pipelines-artifacts"


def definition(threshold: float = 0.5) -> dict:
    """One condition step: nothing to run but the decision, on every target."""
    return {
        "Version": "2020-12-01",
        "Metadata": {},
        "Parameters": [{"Name": "Threshold", "Type": "Float", "DefaultValue": threshold}],
        "PipelineExperimentConfig": {},
        "Steps": [
            {
                "Name": "CheckThreshold",
                "Type": "Condition",
                "Arguments": {
                    "Conditions": [{"Type": "LessThanOrEqualTo", "LeftValue": {"Get": "Parameters.Threshold"}, "RightValue": 1.0}],
                    "IfSteps": [],
                    "ElseSteps": [],
                },
            }
        ],
    }


def pipeline(threshold: float = 0.5) -> CompiledPipeline:
    return CompiledPipeline("contract-pipeline", definition(threshold), role=ROLE, region="us-east-1", default_bucket=BUCKET)


@pytest.fixture
def pipelines(backend, monkeypatch):
    if backend.name == "sagemaker":
        # What an account has before its first upsert: the bucket and the execution role.
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
        boto3.client("iam").create_role(RoleName="contract-pipelines", AssumeRolePolicyDocument="{}")
        moto_lists_execution_steps(monkeypatch)
    return backend.pipelines


def test_an_upsert_stores_the_definition_and_a_second_one_replaces_it(backend, pipelines):
    first = pipelines.upsert(pipeline())
    assert first.arn == f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:pipeline/contract-pipeline"
    assert first.action == {"local": "stored", "sagemaker": "created"}[backend.name]
    assert pipelines.deployed_definition("contract-pipeline") == definition()
    second = pipelines.upsert(pipeline(0.9))
    assert (second.arn, second.action) == (first.arn, {"local": "stored", "sagemaker": "updated"}[backend.name])
    assert pipelines.deployed_definition("contract-pipeline") == definition(0.9)
    assert pipelines.missing_buckets(pipeline()) == []


def test_started_executions_are_listed_newest_first_and_described_with_the_same_keys(backend, pipelines):
    pipelines.upsert(pipeline())
    arns = [pipelines.start("contract-pipeline", {"Threshold": value})["arn"] for value in ("0.2", "0.4")]
    assert all(arn.startswith(f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:pipeline/contract-pipeline/execution/") for arn in arns)
    listed = pipelines.list_executions("contract-pipeline")
    assert [e["arn"] for e in listed] == arns[::-1]
    assert all(set(e) == set(LISTED_KEYS) and e["pipeline"] == "contract-pipeline" for e in listed)
    described = pipelines.describe_execution(arns[1])
    assert set(described) == set(EXECUTION_KEYS)
    assert (described["arn"], described["pipeline"], described["status"]) == (arns[1], "contract-pipeline", "Succeeded")
    assert described["status"] in TERMINAL
    assert str(described["parameters"]["Threshold"]) == "0.4"
    ran = [s["name"] for s in described["steps"]]
    assert ran == {"local": ["CheckThreshold"], "sagemaker": []}[backend.name]


def test_an_unknown_pipeline_or_execution_is_not_found(pipelines):
    from sagespec.diagnostics import UserError

    pipelines.upsert(pipeline())
    for call in (lambda: pipelines.start("no-such-pipeline", {}), lambda: pipelines.deployed_definition("no-such-pipeline")):
        with pytest.raises(UserError) as raised:
            call()
        assert raised.value.code == "E6005"
    with pytest.raises(UserError) as raised:
        pipelines.start("contract-pipeline", {"NoSuchParameter": "1"})
    assert raised.value.code == "E6006"
