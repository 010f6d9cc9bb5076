"""Nested conditions (or, not, in) compile to the SDK's ConditionOr/ConditionNot/ConditionIn and
decide the branch of a local run as SageMaker evaluates them."""

import json

import pytest

from helpers import compile_here, data_science_spec, fast_project_copy, run_cli, seeded_compile_cache

STEPS = """\
  - name: Route
    kind: condition
    conditions:
      - or:
          - operator: in
            value: ${params.Region}
            values: [eu-west-1, eu-central-1]
          - not: {operator: equals, left: "${params.Tier}", right: standard}
    if_steps: [Special]
    else_steps: [Standard]
  - name: Special
    kind: fail
    error_message: special route for ${params.Region}
  - name: Standard
    kind: fail
    error_message: standard route for ${params.Region}
"""
SPEC = data_science_spec("routing", "routing", {"Region": "us-east-1", "Tier": "standard"}, STEPS)


@pytest.fixture
def project(tmp_path):
    copy = fast_project_copy(tmp_path)
    (copy / "pipelines" / "routing.yaml").write_text(SPEC)
    seeded_compile_cache(copy / ".ws", copy, "pipelines/routing.yaml")
    return copy


def test_nested_conditions_compile_to_the_sdks_condition_types(project, tmp_path):
    out = tmp_path / "routing.json"
    done = compile_here("compile", "pipelines/routing.yaml", "-o", str(out), "--no-cache", cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    definition = json.loads(out.read_text())
    (condition,) = [s for s in definition["Steps"] if s["Type"] == "Condition"]
    (either,) = condition["Arguments"]["Conditions"]
    assert either["Type"] == "Or"
    one_of, negated = either["Conditions"]
    assert one_of == {"Type": "In", "QueryValue": {"Get": "Parameters.Region"}, "Values": ["eu-west-1", "eu-central-1"]}
    assert negated["Type"] == "Not" and negated["Condition"]["Type"] == "Equals"


@pytest.mark.slow
@pytest.mark.parametrize(
    "params, route",
    [
        ((), "standard"),
        (("--param", "Region=eu-west-1"), "special"),
        (("--param", "Tier=premium"), "special"),
    ],
    ids=["neither", "in", "not"],
)
def test_nested_conditions_decide_the_local_branch(project, params, route):
    done = run_cli("run", "pipelines/routing.yaml", "--workspace", str(project / ".ws"), *params, cwd=project)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"{route} route for" in done.stdout + done.stderr
    if params == ("--param", "Tier=premium"):  # the summary shows each part with its values
        assert (
            'condition Route: true (or(Parameters.Region "us-east-1" in ["eu-west-1", "eu-central-1"]: false, '
            'not(Parameters.Tier "premium" Equals "standard": false)): true)'
        ) in done.stdout


@pytest.mark.parametrize(
    "condition, says",
    [
        ("{or: [{operator: equals, left: 1, right: 1}]}", "has 1 item(s); it takes at least 2"),
        ('{not: {operator: less_than, left: "${params.Region}", right: 3}}', "error[E4008]: less_than compares numbers"),
        ("{operator: in, value: {step: Nope, property_file: F, json_path: a.b}, values: [1]}", "error[E3001]"),
    ],
    ids=["or of one", "nested type mismatch", "unknown step in in"],
)
def test_a_bad_nested_condition_is_located(tmp_path, condition, says):
    copy = fast_project_copy(tmp_path)
    steps = STEPS.replace(STEPS[STEPS.index("      - or:") : STEPS.index("    if_steps")], f"      - {condition}\n")
    (copy / "pipelines" / "broken.yaml").write_text(data_science_spec("broken", "broken", {"Region": "us-east-1", "Tier": "x"}, steps))
    done = run_cli("validate", "pipelines/broken.yaml", cwd=copy)
    assert done.returncode == 1 and says in done.stdout and "pipelines/broken.yaml:" in done.stdout, done.stdout
