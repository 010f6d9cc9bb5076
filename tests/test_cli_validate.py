"""`sagespec validate`, `render`, `schema`, `rules` as a user runs them: exit codes, formats, output."""

import json
import re
import shlex
import subprocess
import sys

import pytest
import yaml

from helpers import ROOT, run_cli

GOOD = "tests/spec/fixtures/good/minimal.yaml"
BAD_REF = "tests/spec/fixtures/bad/35_ref_unknown_step.yaml"
BAD_YAML = "tests/spec/fixtures/bad/02_yaml_duplicate_top_key.yaml"


def test_valid_files_exit_zero_with_a_summary():
    r = run_cli("validate", "pipelines/", GOOD)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout == ""
    assert "9 file(s) valid" in r.stderr  # 4 specs, 3 templates, accounts.yaml, minimal.yaml


def test_invalid_file_reports_located_error_and_exits_one():
    r = run_cli("validate", BAD_REF)
    assert r.returncode == 1
    assert re.search(
        r"^tests/spec/fixtures/bad/35_ref_unknown_step\.yaml:30:\d+: error\[E3001\]: .*unknown step 'Preprocess'", r.stdout, re.M
    )
    assert "hint: did you mean 'Prep'?" in r.stdout
    assert "Traceback" not in r.stdout + r.stderr


def test_every_error_of_a_file_is_reported_at_once(tmp_path):
    spec = tmp_path / "many.yaml"
    text = (ROOT / GOOD).read_text().replace("kind: fail", "kind: failure").replace("${params.Epochs}", "${params.Epoch}")
    spec.write_text(text.replace("region: us-east-1", "region: nowhere"))
    r = run_cli("validate", str(spec), "--project-dir", str(ROOT))
    codes = re.findall(r"error\[(E\d+)\]", r.stdout)
    assert {"E2004", "E2005", "E3002"} <= set(codes), r.stdout


def test_missing_path_is_an_io_error_exit_two():
    r = run_cli("validate", "pipelines/nope.yaml")
    assert r.returncode == 2
    assert "pipelines/nope.yaml:1:1: error[E0001]" in r.stdout


def test_usage_error_exits_two():
    assert run_cli("validate").returncode == 2
    assert run_cli("validate", "--format", "xml", GOOD).returncode == 2


def test_globs_are_expanded_by_sagespec():
    r = run_cli("validate", "tests/spec/fixtures/bad/3*_ref_*.yaml", "--format", "json")
    assert r.returncode == 1
    files = {d["file"] for d in json.loads(r.stdout)}
    assert len(files) >= 5 and all("_ref_" in f for f in files)


def test_json_format_is_machine_readable():
    r = run_cli("validate", BAD_YAML, "--format", "json")
    found = json.loads(r.stdout)
    assert found[0] == {
        "file": BAD_YAML,
        "line": 3,
        "column": 1,
        "severity": "error",
        "code": "E0003",
        "message": "duplicate key 'name' (first defined at line 2, column 1)",
        "path": "$.name",
        "hint": "YAML would silently keep only the last value; remove or rename one of them",
        "via": None,
    }


def test_github_format_emits_annotations():
    r = run_cli("validate", BAD_REF, "--format", "github")
    assert r.returncode == 1
    line = r.stdout.splitlines()[0]
    assert line.startswith(f"::error file={BAD_REF},line=30,col=")
    assert "title=E3001::" in line and "%0Ahint%3A" not in line.split("::", 2)[1]


def test_color_follows_no_color_and_always():
    plain = run_cli("validate", BAD_REF, "--color", "auto")
    assert "\x1b[" not in plain.stdout
    colored = run_cli("validate", BAD_REF, "--color", "always")
    assert "\x1b[1;31merror" in colored.stdout


def test_validate_does_not_import_sagemaker_or_tensorflow():
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from sagespec.cli import cli\n"
        f"r = CliRunner().invoke(cli, ['validate', 'pipelines/', {BAD_REF!r}])\n"
        "assert r.exit_code == 1, r.output\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('sagemaker', 'tensorflow', 'keras', 'boto3', 'botocore', 'rich'))\n"
        "print(heavy)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


def test_render_prints_the_templated_spec():
    r = run_cli("render", "pipelines/california_housing.yaml")
    assert r.returncode == 0, r.stderr
    data = yaml.safe_load(r.stdout)
    assert data["name"] == "california-housing"
    assert data["parameters"]["TrainingEpochs"] == {"type": "Integer", "default": 150}
    register = next(s for s in data["steps"] if s["kind"] == "register_model")
    # The accounts file's group is rendered into the parameter's default; the step registers where the parameter says.
    assert register["model_package_group"] == "${params.ModelPackageGroup}"
    group = data["parameters"]["ModelPackageGroup"]["default"]
    assert group == "arn:aws:sagemaker:us-east-1:222222222222:model-package-group/california-housing"


def test_render_of_an_invalid_spec_exits_one_with_errors_on_stderr():
    r = run_cli("render", BAD_REF)
    assert r.returncode == 1 and r.stdout == "" and "E3001" in r.stderr


def test_schema_command_prints_the_published_schema():
    r = run_cli("schema")
    assert json.loads(r.stdout) == json.loads((ROOT / "schemas" / "pipeline.schema.json").read_text())


def test_rules_lists_every_code():
    r = run_cli("rules")
    assert "E3003  dependency cycle" in r.stdout


def test_pre_commit_hooks_pass_good_and_fail_bad_files():
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hooks
    for hook in hooks:
        assert re.search(hook["files"], "pipelines/california_housing.yaml")
        assert re.search(hook["exclude"], "pipelines/accounts.yaml")
        argv = shlex.split(hook["entry"])
        assert argv[0] == "sagespec"
        good = run_cli(*argv[1:], "pipelines/california_housing.yaml", "pipelines/templates/tf_regression.yaml")
        assert good.returncode == 0, good.stdout + good.stderr
        bad = run_cli(*argv[1:], "pipelines/california_housing.yaml", BAD_REF)
        assert bad.returncode == 1 and "E3001" in bad.stdout


@pytest.mark.parametrize(
    "spec", sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "pipelines").glob("*.yaml") if p.name != "accounts.yaml")
)
def test_bundled_specs_carry_the_editor_schema_modeline(spec):
    first = (ROOT / spec).read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=../schemas/pipeline.schema.json"


def test_accounts_file_is_validated_against_its_schema(tmp_path):
    bad = tmp_path / "accounts.yaml"
    bad.write_text((ROOT / "pipelines" / "accounts.yaml").read_text().replace('id: "444444444444"', "id: 444444444444"))
    r = run_cli("validate", str(bad))
    assert r.returncode == 1
    assert re.search(
        r"accounts\.yaml:\d+:11: error\[E2003\]: accounts\.workloads\.qa\.id must be string, not integer 444444444444", r.stdout
    ), r.stdout


def test_pre_commit_hooks_pass_on_the_projects_own_files():
    """What pre-commit hands each hook: the tracked files its `files` pattern takes and `exclude` leaves."""
    tracked = subprocess.run(["git", "ls-files", "pipelines"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    for hook in hooks:
        chosen = [f for f in tracked if re.search(hook["files"], f) and not re.search(hook["exclude"], f)]
        assert "pipelines/california_housing.yaml" in chosen and not [f for f in chosen if "/cicd/" in f]
        done = run_cli(*shlex.split(hook["entry"])[1:], *chosen)
        assert done.returncode == 0, done.stdout + done.stderr


def test_an_empty_section_and_a_long_bad_value_are_shown_as_written(tmp_path):
    """A key with nothing after its colon says so (not "null null"); a long value is cut inside
    its quotes, the closing quote kept."""
    spec = (ROOT / GOOD).read_text()
    assert "parameters:" in spec and "steps:" in spec
    long_value = "every thirty days, please, or whenever the data changes " * 2
    text = re.sub(r"(?ms)^parameters:.*?(?=^steps:)", "parameters:\n", spec)
    (tmp_path / "sagespec.toml").write_text("")
    (tmp_path / "empty.yaml").write_text(text)
    r = run_cli("validate", "empty.yaml", cwd=tmp_path)
    assert r.returncode == 1
    assert "error[E2003]: parameters must be object, not null (nothing is written after its colon)" in r.stdout
    from sagespec.spec.schema import _short

    shown = _short(long_value)
    assert shown.startswith("'every thirty days") and shown.endswith("...'") and len(shown) <= 60


def test_a_reference_to_a_step_of_an_unknown_kind_adds_no_error_of_its_own(tmp_path):
    """The unknown kind is the one mistake: what such a step offers is not known, so a reference
    to it is not called wrong as if the kind existed."""
    (tmp_path / "sagespec.toml").write_text("")
    (tmp_path / "prep.py").write_text("print(1)\n")
    (tmp_path / "p.yaml").write_text(
        "name: p\nsession: {region: us-east-1, role: 'arn:aws:iam::111111111111:role/r', default_bucket: b-111111111111}\n"
        "steps:\n  - {name: AutoML, kind: automl}\n"
        "  - name: Use\n    kind: processing\n"
        "    processor: {framework: sklearn, framework_version: 1.2-1, instance_type: ml.m5.xlarge}\n    code: prep.py\n"
        "    inputs:\n      - {source: '${steps.AutoML.model_artifacts}', destination: /opt/ml/processing/input}\n"
    )
    r = run_cli("validate", "p.yaml", cwd=tmp_path)
    assert r.returncode == 1
    assert re.findall(r"error\[(E\d+)\]", r.stdout) == ["E2004"], r.stdout
    assert "'automl' is not an allowed value for step 'AutoML' > kind" in r.stdout
