"""README examples marked `<!-- readme-test: NAME -->` run as shown.

A marked yaml block is written to the project copy under its NAME; a marked console block is a
session: each `$ sagespec ...` line runs in the copy (stdout then stderr is the expected text up
to the next `$`), and `$ echo $?` checks the exit code of the command before it.
"""

import re
import shlex

import pytest

from helpers import ROOT, fast_project_copy, run_cli

README = (ROOT / "README.md").read_text(encoding="utf-8")
MARKED = re.compile(r"<!-- readme-test: (?P<name>[\w.-]+) -->\n```(?P<kind>\w+)\n(?P<body>.*?)```", re.DOTALL)


def marked(kind: str) -> list[tuple[str, str]]:
    return [(m["name"], m["body"]) for m in MARKED.finditer(README) if m["kind"] == kind]


def session(body: str) -> list[tuple[str, str]]:
    """(command, expected output) pairs of a console block."""
    steps, command, lines = [], None, []
    for line in body.splitlines():
        if line.startswith("$ "):
            if command is not None:
                steps.append((command, "\n".join(lines)))
            command, lines = line[2:], []
        else:
            lines.append(line)
    if command is not None:
        steps.append((command, "\n".join(lines)))
    return steps


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    copy = fast_project_copy(tmp_path_factory.mktemp("readme"))
    for name, body in marked("yaml"):
        (copy / name).write_text(body, encoding="utf-8")
    return copy


def test_the_readme_marks_its_examples():
    assert {name for name, _ in marked("console")} >= {"validate", "validate-github"}
    assert [name for name, _ in marked("yaml")] == ["churn.yaml"]


@pytest.mark.parametrize("name, body", marked("console"), ids=[name for name, _ in marked("console")])
def test_readme_session_runs_as_shown(project, name, body):
    last = None
    for command, expected in session(body):
        if command == "echo $?":
            assert last is not None and str(last.returncode) == expected.strip()
            continue
        argv = shlex.split(command)
        assert argv[0] == "sagespec", command
        last = run_cli(*argv[1:], cwd=project, env={"SAGESPEC_WORKSPACE": str(project / ".sagespec")})
        shown = (last.stdout + last.stderr).rstrip("\n")
        assert shown == expected.rstrip("\n"), f"$ {command}\n--- README\n{expected}\n--- actual\n{shown}"
