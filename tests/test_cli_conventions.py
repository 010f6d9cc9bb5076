"""The conventions every command keeps: one --output, -o/--out files, retired spellings still
working, quiet closed pipes, one place for errors (codes with one meaning each), and the project
and workspace taken from the spec rather than the current folder."""

import json
import os
import subprocess
import sys

import pytest

from helpers import ROOT, fast_project_copy, run_cli, seeded_compile_cache

SPEC = "pipelines/california_housing.yaml"


def closed_pipe_run(*args: str) -> subprocess.CompletedProcess:
    """Run sagespec with a stdout whose reader is already gone (as `sagespec ... | head -0` would leave it)."""
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "sagespec", *args],
            cwd=ROOT,
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            env={**os.environ, "NO_COLOR": "1"},
        )
    finally:
        os.close(write)
    return done


@pytest.mark.parametrize("args", [("rules",), ("cicd", "render"), ("schema",), ("accounts", "render")])
def test_a_closed_pipe_exits_quietly(args):
    done = closed_pipe_run(*args)
    assert done.returncode == 0, done.stderr
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr
    assert done.stderr == ""


def test_rules_piped_into_head_is_a_clean_exit():
    done = subprocess.run(
        f"{sys.executable} -m sagespec rules | head -1; exit ${{PIPESTATUS[0]}}",
        shell=True,
        executable="/bin/bash",
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and done.stdout.startswith("E0001") and done.stderr == ""


def test_rules_as_json_is_only_json():
    listed = json.loads(run_cli("rules", "--output", "json").stdout)
    assert {"code": "E6013", "title": "the caller is not an account name, account ID or IAM role ARN"} in listed


def test_retired_spellings_still_work_but_are_not_advertised(tmp_path):
    assert run_cli("validate", SPEC, "--format", "json").stdout.strip() == "[]"
    assert "--format" not in run_cli("validate", "--help").stdout
    table = run_cli("models", "groups", "--as", "shared-services", "--output", "table", env={"SAGESPEC_WORKSPACE": str(tmp_path / "ws")})
    assert table.returncode == 0, table.stderr
    rendered = run_cli("accounts", "render", "--output-dir", str(tmp_path / "policies"))
    assert rendered.returncode == 0 and (tmp_path / "policies" / "shared-services").is_dir()
    assert "--output-dir" not in run_cli("accounts", "render", "--help").stdout
    graph = run_cli("graph", SPEC, "--output", str(tmp_path / "g.mmd"))
    assert graph.returncode == 0 and (tmp_path / "g.mmd").read_text().startswith("flowchart")
    assert "write `-o" in graph.stderr


def test_accounts_file_errors_are_located_and_say_accounts_file(tmp_path):
    bad = tmp_path / "accounts.yaml"
    bad.write_text("region: us-east-1\naccounts:\n  data_science: {id: '111111111111', role: r, colour: blue}\n")
    done = run_cli("accounts", "check", "--file", str(bad))
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert any(line.startswith(f"{bad}:3:") and "error[E2001]" in line for line in lines), done.stderr
    assert lines[-1] == f"the accounts file {bad} is invalid"
    assert "E6010" not in done.stderr


@pytest.mark.parametrize(
    "args, code, exit_code",
    [
        (("models", "groups", "--as", "nobody-at-all"), "E6013", 1),
        (("models", "describe", "not-an-arn", "--as", "deployment"), "E6017", 2),
        (("endpoints", "test", "some-endpoint", "--target", "aws"), "E6015", 2),
        (("compile", SPEC, "-o", "/nonexistent-folder/definition.json"), "E6016", 2),
    ],
)
def test_each_error_code_means_one_thing(tmp_path, args, code, exit_code):
    env = {
        "SAGESPEC_WORKSPACE": str(tmp_path / "ws"),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    done = run_cli(*args, env=env)
    assert done.returncode == exit_code, done.stderr
    assert f"error[{code}]" in done.stderr and "internal error" not in done.stderr


def test_a_policy_without_statements_is_a_malformed_policy(tmp_path):
    env = {"SAGESPEC_WORKSPACE": str(tmp_path / "ws")}
    assert run_cli("models", "create-group", "g", "--as", "shared-services", env=env).returncode == 0
    (tmp_path / "p.json").write_text('{"Version": "2012-10-17"}')
    done = run_cli("models", "policy", "put", "g", str(tmp_path / "p.json"), "--as", "shared-services", env=env)
    assert done.returncode == 2 and "error[E6018]" in done.stderr


def test_promotion_without_workload_accounts_names_what_is_missing(tmp_path):
    project = tmp_path / "p"
    (project / "pipelines").mkdir(parents=True)
    (project / "pyproject.toml").write_text("")
    (project / "pipelines" / "accounts.yaml").write_text((ROOT / "pipelines" / "accounts.yaml").read_text().split("  workloads:")[0])
    done = run_cli("endpoints", "list", cwd=project)
    assert done.returncode == 1 and "error[E6014]" in done.stderr, done.stderr


@pytest.mark.slow
def test_local_dry_run_shows_what_the_apply_changes(tmp_path):
    env = {"SAGESPEC_WORKSPACE": str(seeded_compile_cache(tmp_path / "ws"))}
    dry = run_cli("accounts", "apply", "--target", "local", "--dry-run", env=env)
    total = dry.stdout.strip().splitlines()[-1]
    assert dry.returncode == 0 and total.endswith("would change") and not total.startswith("0 of"), dry.stdout
    changed = run_cli("accounts", "apply", "--target", "local", env=env)
    assert changed.stdout.strip().splitlines()[-1] == total.replace("would change", "changed")
    again = json.loads(run_cli("accounts", "apply", "--target", "local", "--dry-run", "--output", "json", env=env).stdout)
    assert again and all(c["action"] == "unchanged" and not c["applied"] for c in again)


@pytest.mark.slow
def test_upsert_from_another_folder_keeps_cache_and_control_plane_in_the_specs_workspace(tmp_path):
    project = fast_project_copy(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: "" for k in ("SAGESPEC_WORKSPACE",)}
    done = run_cli("upsert", str(project / SPEC), "--target", "local", cwd=elsewhere, env=env)
    assert done.returncode == 0, done.stderr
    # the template's notify function is stored first (as upsert deploys a Lambda step's function before the pipeline)
    assert [line.split(" ")[0] for line in done.stdout.splitlines()] == ["function", "stored"], done.stdout
    assert "stored arn:aws:sagemaker:us-east-1:" in done.stdout
    workspace = project / ".sagespec"
    assert (workspace / "control-plane.sqlite3").is_file()
    assert any((workspace / "cache" / "compile").iterdir())
    assert not (elsewhere / ".sagespec").exists()
    listed = run_cli("executions", "list", "--output", "json", cwd=project, env=env)
    assert listed.returncode == 0 and json.loads(listed.stdout) == []
    again = run_cli("upsert", str(project / SPEC), "--target", "local", "--workspace", str(tmp_path / "ws"), cwd=elsewhere, env=env)
    assert again.returncode == 0 and (tmp_path / "ws" / "control-plane.sqlite3").is_file()
    assert any((tmp_path / "ws" / "cache" / "compile").iterdir())


def test_tables_never_break_an_arn_mid_word():
    from rich.console import Console

    from sagespec.cli.console import table

    arn = "arn:aws:sagemaker:us-east-1:222222222222:model-package/california-housing/12"
    console = Console(width=60, record=True, color_system=None)
    console.print(table("Versions", ["version", "arn", "why"], [[12, arn, "looks good to me, ship it"]]))
    text = console.export_text()
    pieces = [word for line in text.splitlines() for word in line.split() if word.startswith("arn:")]
    assert pieces and all(p == arn or p.endswith("…") for p in pieces), text
    assert not any(line.strip().startswith(("222222222222", "model-package", "sagemaker:")) for line in text.splitlines())


def test_a_registry_command_loads_only_what_it_uses(tmp_path):
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from sagespec.cli import cli\n"
        "for args in (['create-group', 'g'], ['list', 'g']):\n"
        "    r = CliRunner().invoke(cli, ['models', *args, '--as', 'shared-services', '--output', 'json'])\n"
        "    assert r.exit_code == 0, r.output\n"
        "heavy = ('sagemaker', 'tensorflow', 'boto3', 'botocore', 'rich', 'jsonschema', 'jinja2')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy or m.startswith('sagespec.cli.')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "SAGESPEC_WORKSPACE": str(tmp_path / "ws")},
    )
    assert done.returncode == 0, done.stderr
    # its own command module, the options every command shares, and its presentation (rich itself stays unloaded)
    assert (
        done.stdout.strip()
        == "['sagespec.cli.console', 'sagespec.cli.models', 'sagespec.cli.options', 'sagespec.cli.present', 'sagespec.cli.present.registry']"
    )


def test_every_command_module_is_mapped():
    import importlib

    from sagespec.cli import COMMAND_MODULES

    for module in set(COMMAND_MODULES.values()):
        names = {c.name for c in importlib.import_module(f"sagespec.cli.{module}").COMMANDS}
        assert names == {n for n, m in COMMAND_MODULES.items() if m == module}


def test_botocore_info_logging_never_reaches_the_terminal(monkeypatch, caplog):
    import logging

    import boto3

    from helpers import fake_aws_credentials
    from sagespec.aws import sessions as aws

    fake_aws_credentials(monkeypatch)
    caplog.set_level(logging.INFO)  # as if something (the SageMaker SDK) configured INFO logging
    aws.session(region="us-east-1")
    boto3.Session(region_name="us-east-1").get_credentials()  # logs "Found credentials in environment variables." at INFO
    assert not [r for r in caplog.records if r.name.startswith(("botocore", "boto3")) and r.levelno < logging.WARNING]


def test_control_characters_in_values_cannot_write_ci_commands(tmp_path):
    env = {"SAGESPEC_WORKSPACE": str(tmp_path / "ws")}
    assert run_cli("models", "create-group", "g", "--as", "shared-services", env=env).returncode == 0
    registered = run_cli(
        "models",
        "register",
        "g",
        "--model-data",
        "s3://b/m.tar.gz",
        "--as",
        "shared-services",
        "--metadata",
        "note=fine\n::error file=x::pwned",
        "--description",
        "two\nlines\x1b[2J",
        "--output",
        "json",
        env=env,
    )
    assert registered.returncode == 0, registered.stderr
    arn = json.loads(registered.stdout)["arn"]
    shown = run_cli("models", "describe", arn, "--as", "shared-services", env=env)
    assert shown.returncode == 0, shown.stderr
    assert not [line for line in shown.stdout.splitlines() if line.lstrip().startswith("::")]
    assert "\x1b" not in shown.stdout and "\\n::error" in shown.stdout
    spec = tmp_path / "s.yaml"
    spec.write_text('name: "x\\n::error file=a,line=1::pwned"\n')
    for output in ("text", "github"):
        done = run_cli("validate", str(spec), "--output", output)
        assert done.returncode == 1
        assert [line for line in done.stdout.splitlines() if line.startswith("::")] == (
            [] if output == "text" else [line for line in done.stdout.splitlines() if line.startswith("::error file=")]
        )
        assert "\n::error file=a" not in done.stdout


@pytest.mark.parametrize(
    "args, says",
    [
        (("approve", "arn:aws:sagemaker:us-east-1:222222222222:model-package/g/1", "--reason", " "), "must say why"),
        (("register", "g", "--model-data", "/tmp/model.tar.gz"), "is not an s3://bucket/key URI"),
        (("register", "g", "--model-data", "s3://b/m.tgz", "--metadata", "novalue"), "--metadata"),
    ],
)
def test_small_option_checks_name_the_option(tmp_path, args, says):
    done = run_cli("models", *args, "--as", "deployment", env={"SAGESPEC_WORKSPACE": str(tmp_path / "ws")})
    assert done.returncode == 2 and says in done.stderr, done.stderr


@pytest.mark.parametrize(
    "failure, says",
    [
        (__import__("sqlite3").OperationalError("attempt to write a readonly database"), "cannot be written (read-only or no permission)"),
        (__import__("sqlite3").OperationalError("database or disk is full"), "is full: free some space"),
        (OSError(28, "No space left on device"), "is full: free some space"),
        (__import__("sqlite3").DatabaseError("file is not a database"), "move it aside"),
    ],
)
def test_a_workspace_that_cannot_be_used_says_why(tmp_path, monkeypatch, failure, says):
    import sqlite3

    from sagespec.backends.local import database
    from sagespec.diagnostics import UserError

    def refuse(*args, **kwargs):
        raise failure

    monkeypatch.setattr(sqlite3, "connect", refuse)
    with pytest.raises(UserError) as error:
        database.connect(tmp_path / "ws")
    assert error.value.code == "E6011" and says in error.value.hint


def test_a_registry_command_reads_an_unchanged_accounts_file_without_a_yaml_parser(tmp_path):
    """The first command parses pipelines/accounts.yaml; later ones read the workspace's JSON copy
    of it (no PyYAML import) until the file's text changes, and then see the change."""
    project = tmp_path / "project"
    (project / "pipelines").mkdir(parents=True)
    accounts = project / "pipelines" / "accounts.yaml"
    accounts.write_text((ROOT / "pipelines" / "accounts.yaml").read_text())
    (project / "pyproject.toml").write_text("")
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from sagespec.cli import cli\n"
        "r = CliRunner().invoke(cli, ['models', 'create-group', sys.argv[1], '--as', 'shared-services', '--output', 'json'])\n"
        "assert r.exit_code == 0, r.output\n"
        "print('yaml' in sys.modules, r.output.split('model-package-group/')[0].split(':')[-2])\n"
    )
    env = {**os.environ, "SAGESPEC_WORKSPACE": str(tmp_path / "ws")}

    def create(group: str) -> str:
        done = subprocess.run([sys.executable, "-c", code, group], cwd=project, capture_output=True, text=True, env=env)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    assert create("first") == "True 222222222222"  # parsed, and its data kept
    assert create("second") == "False 222222222222"  # the kept data: no YAML parser
    accounts.write_text(accounts.read_text().replace('"222222222222"', '"999999999999"'))
    assert create("third") == "True 999999999999"  # the file changed: parsed again


def test_a_hint_of_several_lines_prints_each_line_escaped_under_the_hint():
    """A failed endpoint's hint carries its log's tail: the lines stay lines, and what a log holds
    cannot move the terminal's cursor."""
    from sagespec.diagnostics import UserError

    shown = UserError("E7003", "endpoint e failed", hint="its log: /ws/e.log\nTraceback\x1b[2J\nValueError: bad").format()
    assert shown.splitlines() == [
        "error[E7003]: endpoint e failed",
        "  hint: its log: /ws/e.log",
        "        Traceback\\x1b[2J",
        "        ValueError: bad",
    ]
