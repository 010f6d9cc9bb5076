"""Rules the corpus cannot show (warnings, nesting) and the promise that every rule is tested."""

import re
from pathlib import Path

from sagespec.diagnostics.catalog import RULES
from sagespec.spec.load import load_spec

ROOT = Path(__file__).resolve().parents[2]
MINIMAL = (ROOT / "tests" / "spec" / "fixtures" / "good" / "minimal.yaml").read_text()


def diagnose(tmp_path, text, name="spec.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return load_spec(path, ROOT)


def test_equality_between_different_kinds_is_a_warning_only(tmp_path):
    text = (
        MINIMAL.replace("operator: less_than_or_equal_to", "operator: equals")
        .replace('right: "${params.Threshold}"', 'right: "${params.InstanceType}"')
        .replace("left: {step: Eval, property_file: Report, json_path: regression_metrics.mse.value}", "left: 3")
    )
    result = diagnose(tmp_path, text)
    assert [d.code for d in result.diagnostics] == ["W4001"]
    assert result.ok  # warnings do not fail validation


def test_condition_without_branches(tmp_path):
    text = MINIMAL.replace("    if_steps: [Register]\n    else_steps: [Stop]\n", "")
    codes = [(d.code, d.message) for d in diagnose(tmp_path, text).diagnostics]
    assert ("E2007", "step 'Gate' needs one of: if_steps, else_steps") in codes


def test_template_cannot_nest_templates(tmp_path):
    (tmp_path / "sagespec.toml").write_text("")
    (tmp_path / "pipelines" / "templates").mkdir(parents=True)
    (tmp_path / "pipelines" / "templates" / "outer.yaml").write_text(
        "template: {description: d, params: {}}\nspec:\n  template: {name: inner}\n"
    )
    spec = tmp_path / "pipelines" / "p.yaml"
    spec.write_text("template: {name: outer}\n")
    found = [(d.code, Path(d.span.file).name, d.span.line + 1) for d in load_spec(spec).diagnostics]
    assert found == [("E1008", "outer.yaml", 3)]


def test_every_rule_is_exercised_by_some_test():
    tests = ROOT / "tests"
    text = "\n".join(p.read_text() for p in tests.rglob("*") if p.suffix in (".py", ".yaml") and p.is_file())
    untested = [code for code in RULES if not re.search(rf"\b{code}\b", text) or code in ("E0000",)]
    assert untested == []
