"""`sagespec models ...`: the blog's workflow as commands, on the local control plane."""

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from helpers import ROOT
from sagespec.cli import cli

GROUP = "arn:aws:sagemaker:us-east-1:222222222222:model-package-group/california-housing"
PACKAGE = "arn:aws:sagemaker:us-east-1:222222222222:model-package/california-housing"
POLICY = str(ROOT / "pipelines" / "policies" / "model-package-group.california-housing.json")
MODEL = "s3://sagespec-shared-artifacts-222222222222/california-housing/job/output/model.tar.gz"


@pytest.fixture
def sagespec(tmp_path, monkeypatch):
    monkeypatch.setenv("SAGESPEC_WORKSPACE", str(tmp_path / "ws"))
    monkeypatch.delenv("SAGESPEC_AS", raising=False)
    monkeypatch.chdir(ROOT)

    def run(*args):
        result = CliRunner().invoke(cli, ["models", *args], catch_exceptions=False)
        return result.exit_code, result.output

    return run


@pytest.fixture
def shared_group(sagespec):
    assert sagespec("create-group", "california-housing", "--as", "shared-services")[0] == 0
    assert sagespec("policy", "put", "california-housing", POLICY, "--as", "shared-services")[0] == 0
    return sagespec


def test_register_as_data_science_then_approve_as_deployment(shared_group):
    run = shared_group
    code, out = run("register", GROUP, "--model-data", MODEL, "--as", "data-science")
    assert (code, out.strip()) == (0, f"registered {PACKAGE}/1 (PendingManualApproval)")
    run("register", GROUP, "--model-data", MODEL, "--as", "data-science", "--metrics", "s3://b/evaluation.json")
    code, out = run("list", GROUP, "--as", "deployment", "--output", "json")
    assert [p["version"] for p in json.loads(out)] == [2, 1]
    code, out = run("approve", f"{PACKAGE}/2", "--reason", "test MSE 0.266", "--as", "deployment")
    assert code == 0 and out.strip() == f"{PACKAGE}/2: Approved (test MSE 0.266)"
    run("reject", f"{PACKAGE}/1", "--reason", "superseded", "--as", "deployment")
    code, out = run("list", GROUP, "--status", "Approved", "--latest", "--as", "deployment", "--output", "json")
    assert [(p["version"], p["approval_description"]) for p in json.loads(out)] == [(2, "test MSE 0.266")]
    code, out = run("describe", f"{PACKAGE}/2", "--as", "deployment", "--output", "json")
    history = json.loads(out)["history"]
    assert [(h["to_status"], h["by_account"]) for h in history] == [("PendingManualApproval", "111111111111"), ("Approved", "333333333333")]
    code, out = run("lineage", f"{PACKAGE}/2", "--as", "deployment", "--output", "json")
    assert [e["kind"] for e in json.loads(out)["lineage"]] == ["model", "metrics"]
    code, out = run("describe", f"{PACKAGE}/2", "--as", "deployment")
    assert "Approval history" in out and "test MSE 0.266" in out


def test_tables_for_people(shared_group):
    shared_group("register", GROUP, "--model-data", MODEL, "--as", "data-science")
    code, out = shared_group("list", GROUP, "--as", "deployment")
    assert code == 0 and "PendingManualApproval" in out and "111111111111" in out
    code, out = shared_group("groups", "--as", "deployment")
    assert "california-housing" in out and "222222222222" in out
    assert shared_group("groups", "--as", "qa")[1].strip() == "no model package groups visible to this caller"


def test_denied_calls_name_caller_action_and_resource(shared_group):
    code, out = shared_group("register", GROUP, "--model-data", MODEL, "--as", "qa")
    assert code == 1
    assert out.startswith(
        "error[E6002]: User: arn:aws:iam::444444444444:role/sagespec-qa-sagemaker is not authorized to perform: "
        f"sagemaker:CreateModelPackage on resource: {PACKAGE}/1"
    )


def test_who_is_calling_must_be_said(shared_group):
    code, out = shared_group("list", GROUP)
    assert code == 1 and "error[E6010]: say who is calling" in out and "data-science, shared-services" in out
    code, out = shared_group("list", GROUP, "--as", "nobody")
    assert code == 1 and "'nobody' is not an account name" in out


def test_policy_get_and_bad_policy_files(shared_group, tmp_path):
    code, out = shared_group("policy", "get", "california-housing", "--as", "shared-services")
    assert code == 0 and json.loads(out)["Statement"][0]["Sid"] == "DataScienceRegistersVersions"
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    code, out = shared_group("policy", "put", "california-housing", str(bad), "--as", "shared-services")
    assert code == 2 and "is not JSON" in out


def test_bad_status_and_arn_are_usage_errors(shared_group):
    code, out = shared_group("list", GROUP, "--status", "Accepted", "--as", "deployment")
    assert code == 2 and "error[E6007]" in out
    code, out = shared_group("describe", GROUP, "--as", "deployment")
    assert code == 2 and "is not a model package ARN" in out


def test_models_commands_do_not_import_the_sdk_or_tensorflow(tmp_path):
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from sagespec.cli import cli\n"
        "r = CliRunner().invoke(cli, ['models', 'create-group', 'g', '--as', 'shared-services'])\n"
        "assert r.exit_code == 0, r.output\n"
        "r = CliRunner().invoke(cli, ['models', 'list', 'g', '--as', 'shared-services'])\n"
        "assert r.exit_code == 0, r.output\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sagemaker', 'tensorflow', 'keras', 'jsonschema', 'jinja2')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "SAGESPEC_WORKSPACE": str(tmp_path / "ws")},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
