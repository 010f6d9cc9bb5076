"""`sagespec graph`, `sagespec diff --against`, and SDK rejections reported at the step."""

import copy
import json
import shutil
from pathlib import Path

import pytest

from helpers import run_cli
from sagespec.compiler import compile_spec
from sagespec.definition import diff as differ
from sagespec.diagnostics import DiagnosticError
from sagespec.spec.load import load_spec

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "compiler" / "golden" / "california_housing.definition.json"


def test_mermaid_shows_steps_dependencies_and_branches():
    r = run_cli("graph", "pipelines/california_housing.yaml")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "flowchart TD"
    assert '    s3{"CheckMseThreshold<br/><small>condition</small>"}' in lines
    assert "    s0 --> s1" in lines  # PreprocessData -> TrainModel (reference)
    assert "    s2 -->|property file| s3" in lines
    assert "    s3 -->|if| s4" in lines and "    s3 -->|else| s7" in lines


def test_dot_output_is_valid_graphviz_syntax():
    r = run_cli("graph", "pipelines/california_housing.yaml", "--format", "dot")
    assert r.stdout.startswith('digraph "california-housing" {') and r.stdout.rstrip().endswith("}")
    assert '"CheckMseThreshold" -> "RegisterModel" [label="if", color="darkgreen"];' in r.stdout


def test_image_formats_need_graphviz_and_say_so(tmp_path):
    r = run_cli("graph", "pipelines/california_housing.yaml", "--format", "svg", env={"PATH": str(tmp_path)})
    assert r.returncode == 2
    assert "error[E0008]" in r.stderr and "Graphviz" in r.stderr and "--output mermaid|dot" in r.stderr


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_svg_when_graphviz_is_installed(tmp_path):
    out = tmp_path / "graph.svg"
    r = run_cli("graph", "pipelines/california_housing.yaml", "--format", "svg", "-o", str(out))
    assert r.returncode == 0 and "<svg" in out.read_text() and "CheckMseThreshold" in out.read_text()


def test_diff_against_a_saved_definition(tmp_path):
    same = run_cli("diff", "pipelines/california_housing.yaml", "--against", str(GOLDEN))
    assert same.returncode == 0 and same.stdout.startswith("no differences"), same.stdout + same.stderr
    changed = json.loads(GOLDEN.read_text())
    changed["Parameters"][4]["DefaultValue"] = 7
    condition = changed["Steps"][3]["Arguments"]
    condition["ElseSteps"] = condition["ElseSteps"][:1]
    saved = tmp_path / "old.json"
    saved.write_text(json.dumps(changed))
    r = run_cli("diff", "pipelines/california_housing.yaml", "--against", str(saved))
    assert r.returncode == 1
    assert "parameter TrainingEpochs\n  ~ DefaultValue: 7 -> 150" in r.stdout
    assert "step FailMseTooHigh (Fail)\n  + added (else branch of CheckMseThreshold)" in r.stdout
    assert r.stdout.rstrip().endswith("change(s)")


def test_diff_names_code_changes_and_moves():
    old = json.loads(GOLDEN.read_text())
    new = copy.deepcopy(old)
    train = new["Steps"][1]["Arguments"]["HyperParameters"]
    code_hash = train["sagemaker_submit_directory"].split("/code/")[1].split("/")[0]
    train["sagemaker_submit_directory"] = train["sagemaker_submit_directory"].replace(code_hash, "0" * 64)
    condition = new["Steps"][3]["Arguments"]
    condition["IfSteps"].append(condition["ElseSteps"].pop())
    text = differ.format_text(differ.diff(old, new), "old", "new")
    assert "(code changed)" in text
    assert "~ moved from else branch of CheckMseThreshold to if branch of CheckMseThreshold" in text
    assert differ.diff(old, json.loads(GOLDEN.read_text())) == []


def test_diff_needs_exactly_one_baseline():
    r = run_cli("diff", "pipelines/california_housing.yaml")
    assert r.returncode == 2 and "exactly one of --against FILE or --target aws" in r.stderr


def test_sdk_rejection_is_reported_at_the_step(tmp_path):
    spec = tmp_path / "p.yaml"
    text = (ROOT / "tests/spec/fixtures/good/minimal.yaml").read_text()
    spec.write_text(
        text.replace(
            'framework: tensorflow, framework_version: "2.13", py_version: py310, instance_type: "${params.InstanceType}"}\n    source_dir',
            'framework: tensorflow, framework_version: "1.99", py_version: py310, instance_type: "${params.InstanceType}"}\n    source_dir',
        )
    )
    result = load_spec(spec, ROOT)
    assert result.ok
    with pytest.raises(DiagnosticError) as raised:
        compile_spec(result)
    (d,) = raised.value.diagnostics
    assert d.code == "E5001" and "step 'Train'" in d.message and "1.99" in d.message
    assert d.span.line + 1 == 23  # the `- name: Train` line


def test_an_aws_call_during_compile_is_refused_not_sent(monkeypatch, tmp_path):
    """Offline compile answers only S3 bucket checks and uploads; anything else is E5003."""
    from sagespec.compiler import build, control  # noqa: F401  (control registers the fail builder)

    original = build.BUILDERS["v2"]["fail"]

    def calls_sts(ctx, step):
        ctx.session.boto_session.client("sts").get_caller_identity()
        return original(ctx, step)

    monkeypatch.setitem(build.BUILDERS["v2"], "fail", calls_sts)
    with pytest.raises(DiagnosticError) as raised:
        compile_spec(load_spec(ROOT / "pipelines" / "california_housing.yaml"))
    (d,) = raised.value.diagnostics
    assert d.code == "E5003" and d.message == "offline compile does not answer AWS sts:GetCallerIdentity"


def test_a_pipeline_level_sdk_rejection_is_reported(monkeypatch):
    from sagemaker.workflow.pipeline import Pipeline

    def broken_definition(self):
        raise ValueError("Pipeline name too long")

    monkeypatch.setattr(Pipeline, "definition", broken_definition)
    with pytest.raises(DiagnosticError) as raised:
        compile_spec(load_spec(ROOT / "pipelines" / "california_housing.yaml"))
    (d,) = raised.value.diagnostics
    assert d.code == "E5002" and "Pipeline name too long" in d.message


def test_an_integer_default_of_a_float_parameter_validates_and_compiles_as_a_float(tmp_path):
    """YAML reads `default: 1` as an integer; the SDK's ParameterFloat refuses one. sagespec coerces it."""
    spec = tmp_path / "p.yaml"
    spec.write_text(
        (ROOT / "tests/spec/fixtures/good/minimal.yaml")
        .read_text()
        .replace("Threshold: {type: Float, default: 0.5", "Threshold: {type: Float, default: 1")
    )
    result = load_spec(spec, ROOT)
    assert result.ok, [d.message for d in result.diagnostics]
    declared = {p["Name"]: p for p in compile_spec(result).definition["Parameters"]}
    assert declared["Threshold"] == {"Name": "Threshold", "Type": "Float", "DefaultValue": 1.0}
