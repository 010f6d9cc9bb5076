"""The CI/CD files of `sagespec cicd render`: valid CloudFormation, a valid workflow, a buildspec
whose sagespec commands exist, an EventBridge pattern that matches the registry's real events,
and the manual gate before prod in both pipelines."""

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from moto.events.models import EventPattern

from helpers import ROOT, local_registry, run_cli
from sagespec.accounts import cicd
from sagespec.spec.topology import load_topology


@pytest.fixture(scope="module")
def rendered():
    return cicd.render(load_topology(ROOT, validate=True))


def test_committed_copy_is_what_the_topology_renders(rendered):
    for name, content in rendered.items():
        committed = (ROOT / "pipelines" / "cicd" / name).read_text(encoding="utf-8")
        assert committed == (json.dumps(content, indent=2) + "\n" if isinstance(content, dict) else content), name


def test_templates_pass_cfn_lint(rendered):
    from cfnlint.api import lint

    for name, content in rendered.items():
        if isinstance(content, dict):
            matches = lint(json.dumps(content), regions=["us-east-1"])
            assert [f"{m.rule.id} {m.message}" for m in matches] == [], name


def test_github_workflow_matches_the_workflow_schema_and_gates_prod(rendered, tmp_path):
    path = tmp_path / "promote.yml"
    path.write_text(rendered["github-promote.yml"])
    checked = subprocess.run(
        [str(Path(sys.executable).parent / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    workflow = yaml.safe_load(rendered["github-promote.yml"])
    assert workflow["jobs"]["prod"]["needs"] == "qa" and workflow["jobs"]["prod"]["environment"] == "production"
    prod_commands = [s["run"] for s in workflow["jobs"]["prod"]["steps"] if "run" in s]
    assert any("--stage prod" in c and "--yes" in c and "needs.qa.outputs.version" in c for c in prod_commands)


def test_codepipeline_puts_a_manual_approval_between_qa_and_prod(rendered):
    stages = rendered["deployment.promotion.template.json"]["Resources"]["PromotionPipeline"]["Properties"]["Stages"]
    assert [s["Name"] for s in stages] == ["Source", "QA", "ApproveProd", "Prod"]
    assert stages[2]["Actions"][0]["ActionTypeId"]["Provider"] == "Manual"
    prod_env = json.loads(stages[3]["Actions"][0]["Configuration"]["EnvironmentVariables"])
    assert {"name": "VERSION", "value": "#{QA.MODEL_VERSION}", "type": "PLAINTEXT"} in prod_env


def sagespec_invocations(script: str) -> list[list[str]]:
    joined = script.replace("\\\n", " ")
    return [shlex.split(m.group(0))[1:] for m in re.finditer(r"sagespec [a-z]+(?: [a-z]+)?[^\n|]*", joined)]


def test_every_sagespec_option_the_pipelines_use_exists(rendered):
    buildspec = yaml.safe_load(rendered["buildspec.yml"])
    assert buildspec["version"] == 0.2 and buildspec["env"]["exported-variables"] == ["MODEL_VERSION"]
    scripts = (
        "\n".join(buildspec["phases"]["build"]["commands"])
        + "\n"
        + "\n".join(s["run"] for job in yaml.safe_load(rendered["github-promote.yml"])["jobs"].values() for s in job["steps"] if "run" in s)
    )
    invocations = sagespec_invocations(scripts)
    assert {tuple(i[:2]) for i in invocations} >= {("promote", "$GROUP"), ("endpoints", "test"), ("models", "list")}
    helps = {}
    for words in invocations:
        command = words[:2] if words[0] in ("endpoints", "models") else words[:1]
        key = " ".join(command)
        if key not in helps:
            helps[key] = run_cli(*command, "--help").stdout
        for option in (w for w in words if w.startswith("--")):
            assert option in helps[key], f"`sagespec {key}` has no {option}"
    assert "$AWS_OPTIONS" in scripts and "--assume-role-name" in run_cli("promote", "--help").stdout


def test_eventbridge_rules_match_an_approval_of_the_registry_and_nothing_else(rendered, tmp_path):
    from helpers import apply_local
    from sagespec.backends.local.database import connect
    from sagespec.spec.topology import resolve_caller

    topology = load_topology(ROOT, validate=True)
    apply_local(topology, tmp_path)
    conn = connect(tmp_path)
    spec = {"Containers": [{"Image": "i", "ModelDataUrl": "s3://b/m.tar.gz"}]}
    package = local_registry(conn, resolve_caller("data-science", topology, "aws")).register(topology.group_arn("california-housing"), spec)
    local_registry(conn, resolve_caller("deployment", topology, "aws")).update_status(package.arn, "Approved", "ok")
    registered, approved = local_registry(conn, resolve_caller("deployment", topology, "aws")).events()
    for name, rule in [
        ("shared-services.promotion-events.template.json", "ApprovedVersions"),
        ("deployment.promotion.template.json", "StartOnApproval"),
    ]:
        pattern = rendered[name]["Resources"][rule]["Properties"]["EventPattern"]
        pattern = json.loads(json.dumps(pattern).replace('{"Ref": "SharedServicesAccountId"}', '"222222222222"'))
        matcher = EventPattern.load(json.dumps(pattern))
        assert matcher.matches_event(approved) and not matcher.matches_event(registered), name


def test_validating_the_pipelines_folder_skips_the_rendered_cicd_files():
    result = run_cli("validate", "pipelines/")
    assert result.returncode == 0 and "8 file(s) valid" in result.stderr, result.stdout + result.stderr
    named = run_cli("validate", "pipelines/cicd/buildspec.yml")
    assert named.returncode == 1  # named explicitly, it is checked (and is no pipeline spec)


@pytest.mark.slow
def test_with_pipelines_the_projects_pipelines_come_as_stacks(tmp_path):
    from cfnlint.api import lint

    done = run_cli("cicd", "render", "--with-pipelines", "-o", str(tmp_path / "cicd"), env={"SAGESPEC_WORKSPACE": str(tmp_path / "ws")})
    assert done.returncode == 0, done.stderr
    stacks = sorted(p.name for p in (tmp_path / "cicd").glob("pipeline.*.template.json"))
    assert "pipeline.california-housing.template.json" in stacks and len(stacks) >= 3
    template = json.loads((tmp_path / "cicd" / "pipeline.california-housing.template.json").read_text())
    assert set(template["Resources"]) == {"Pipeline", "Schedule"}
    assert [f"{m.rule.id} {m.message}" for m in lint(json.dumps(template), regions=["us-east-1"])] == []
