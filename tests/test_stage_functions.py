"""The stage functions the CLI calls (moved down from it): what a local run prepares, policy file
names, a hand registration, the QA test data."""

import json
from types import SimpleNamespace

import pytest

from helpers import ROOT, fast_project_copy, local_pipelines
from sagespec.diagnostics import UserError


def test_a_local_run_applies_the_policies_and_seeds_the_bundled_data_once(tmp_path):
    from sagespec.compiler import CompiledPipeline
    from sagespec.context import Context
    from sagespec.workflows.pipelines import prepare_local_run

    project = Context.at(fast_project_copy(tmp_path), tmp_path / "ws")
    golden = json.loads((ROOT / "tests/compiler/golden/california_housing.definition.json").read_text())
    role = "arn:aws:iam::111111111111:role/sagespec-data-science-execution"
    compiled = CompiledPipeline("california-housing", golden, role=role, region="us-east-1")
    pipelines = local_pipelines(project.workspace)
    spec = project.root / "pipelines" / "california_housing.yaml"
    first = prepare_local_run(project, compiled, spec, pipelines, {})
    # resource policies, the trust and identity policies of the roles (derived from this pipeline
    # alone: a run compiles only its own spec), the workload deployer roles, and the experiments group
    assert first.applied == 25 and first.accounts_file == "accounts.yaml" and first.uncovered is None
    uri = "s3://sagespec-shared-artifacts-222222222222/california-housing/datasets/cal_housing.tgz"
    assert first.seeded == [(uri, "pipelines/data/cal_housing.tgz")]
    assert pipelines.objects.get(uri) == (ROOT / "pipelines/data/cal_housing.tgz").read_bytes()
    again = prepare_local_run(project, compiled, spec, pipelines, {})
    assert again.applied == 0 and again.seeded == []
    elsewhere = prepare_local_run(project, compiled, spec, pipelines, {"InputData": "s3://other-bucket/x/mine.tgz"})
    assert elsewhere.seeded == []  # no bundled file of that name: the user's data is theirs to upload


def test_policy_files_are_named_by_account_kind_and_resource():
    from sagespec.accounts.files import policy_files
    from sagespec.spec.topology import load_topology

    topology = load_topology(ROOT)
    names = set(policy_files(topology))
    assert "shared-services/s3-bucket.sagespec-shared-artifacts-222222222222.json" in names
    assert "shared-services/model-package-group.california-housing.json" in names
    assert "data-science/role.sagespec-data-science-execution.json" in names
    assert set(policy_files(topology, "cloudformation")) == {
        f"{a}.template.json" for a in ("shared-services", "data-science", "deployment", "qa", "prod")
    }


def test_a_hand_registration_serves_the_model_with_the_regions_tensorflow_image():
    from sagespec.workflows.registry import registration

    made = registration("s3://b/m/model.tar.gz", None, ("text/csv",), ("application/json",), "s3://b/e/evaluation.json", "eu-west-1")
    container = made.inference_specification["Containers"][0]
    assert container == {
        "Image": "763104351884.dkr.ecr.eu-west-1.amazonaws.com/tensorflow-inference:2.13-cpu",
        "ModelDataUrl": "s3://b/m/model.tar.gz",
    }
    assert made.model_metrics["ModelQuality"]["Statistics"]["S3Uri"] == "s3://b/e/evaluation.json"
    assert [e.kind for e in made.lineage] == ["model", "metrics"]
    own = registration("s3://b/m.tgz", "my/image:1", ("text/csv",), ("text/csv",), None, "us-east-1")
    assert own.inference_specification["Containers"][0]["Image"] == "my/image:1" and own.model_metrics is None


def test_qa_test_data_is_the_given_file_or_the_versions_test_split():
    from sagespec.workflows.promotion.qa import test_data

    group = "arn:aws:sagemaker:us-east-1:222222222222:model-package-group/g"
    described = {"ProductionVariants": [{"VariantName": "v3"}]}
    asked = []
    backends = SimpleNamespace(registry=SimpleNamespace(describe=lambda arn: asked.append(arn) or arn), test_data_for=lambda package: None)
    assert test_data(backends, described, group, "test.csv") == "test.csv" and asked == []
    with pytest.raises(UserError) as missing:
        test_data(backends, described, group, None)
    assert missing.value.code == "E7006" and asked == ["arn:aws:sagemaker:us-east-1:222222222222:model-package/g/3"]
    backends.test_data_for = lambda package: f"s3://b/{package.rsplit('/', 1)[-1]}/test.csv"
    assert test_data(backends, described, group, None) == "s3://b/3/test.csv"
