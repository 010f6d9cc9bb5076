"""Console blocks that are real runs: the docs' examples are written by running them.

A page's cog block makes a `Session` (a project in a scratch folder: a copy of this repository's
project, or one `sagespec init` made) and calls `console(...)` with the commands a reader would
type; the block's output is a ```console block with each `$ command` and what it printed (stdout,
then stderr, as a terminal shows them), and `$ echo $?` after a command that fails.

Each command runs as a user runs it: the installed `sagespec` entry point in a process of its
own, in the project folder, with no AWS settings of this machine's (a session that needs AWS
names its endpoint), no colour, an 88-column terminal, and HOME in the scratch folder (nothing
is written to the real one). What changes from run to run (times, durations, execution IDs, the
scratch folder's path, ports) is masked, so that a regenerated page differs only when the
output a user would see differs.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAGESPEC = Path(sys.executable).parent / "sagespec"
# The parts of the repository a project copy takes (what `sagespec init` would scaffold, and more).
PROJECT_PARTS = ("pyproject.toml", "pipelines", "training_code", "xgboost_code", "sklearn_code")
COLUMNS = 88
# Every session a page opened, closed (its endpoints stopped, its folder removed) when the page is done.
OPEN: list[Session] = []


def out(text: str) -> None:
    """Write `text` as the output of the cog block being run (the `cog` module of the Cog instance
    running now, looked up at call time: one process may cog several pages)."""
    sys.modules["cog"].outl(text)


def close_all() -> None:
    while OPEN:
        OPEN.pop().close()


# (pattern, replacement) applied to every output, in order. Each names what varies between runs.
MASKS: list[tuple[re.Pattern[str], str]] = [
    # ISO times, with or without a zone, and `HH:MM:SS` clock times
    (re.compile(r"\b\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)?"), "2026-01-01T12:00:00Z"),
    (re.compile(r"\b\d{4}-\d\d-\d\d\b"), "2026-01-01"),
    # durations a run prints ("in 3.2 s", "(12.0 s)", "41 ms")
    (re.compile(r"\b\d+(\.\d+)? ?(ms|s)\b"), "1.0 s"),
    # local execution IDs and model package versions' UUIDs
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"), "00000000-0000-0000-0000-000000000000"),
    (re.compile(r"\b(execution/|executions? )[a-z0-9]{12}\b"), r"\1abcdefghijkl"),
    # loopback ports the local endpoints and moto's server listen on
    (re.compile(r"(127\.0\.0\.1|localhost):\d+"), r"\1:8080"),
]


class Session:
    """A project in a scratch folder, and the commands run in it, in order."""

    def __init__(self, name: str, *, init: str | None = None, copy: bool = True, env: dict[str, str] | None = None):
        """`name`: the project's folder name (shown in paths). `init`: a template to scaffold the
        project from with `sagespec init` (that run is not shown); else, with `copy`, a copy of
        this repository's project; else an empty folder with a sagespec.toml."""
        self.scratch = Path(tempfile.mkdtemp(prefix="sagespec-docs-"))
        self.home = self.scratch / "home"
        self.home.mkdir()
        self.project = self.scratch / name
        self.env = {**self._clean_env(), **(env or {})}
        OPEN.append(self)
        if init is not None:
            self._run(["init", name, "--template", init], cwd=self.scratch, check=True)
        elif copy:
            self.project.mkdir()
            for part in PROJECT_PARTS:
                source = ROOT / part
                if source.is_dir():
                    shutil.copytree(source, self.project / part, ignore=shutil.ignore_patterns("__pycache__"))
                else:
                    shutil.copy(source, self.project / part)
        else:
            self.project.mkdir()
            (self.project / "sagespec.toml").write_text("")

    def _clean_env(self) -> dict[str, str]:
        keep = ("PATH", "LANG", "LC_ALL", "PYTHONDONTWRITEBYTECODE", "SAGEMAKER_SUPPRESS_V2_WARNING", "SAGESPEC_SDK", "TMPDIR")
        env = {k: v for k, v in os.environ.items() if k in keep}
        return {
            **env,
            "HOME": str(self.home),
            "NO_COLOR": "1",
            "TERM": "dumb",
            "COLUMNS": str(COLUMNS),
            "AWS_CONFIG_FILE": str(self.home / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.home / "no-aws-credentials"),
            "SAGEMAKER_SUPPRESS_V2_WARNING": "1",
        }

    def write(self, relative: str, text: str) -> Path:
        """A file of the project, written before the commands that read it (shown separately)."""
        path = self.project / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def read(self, relative: str) -> str:
        return (self.project / relative).read_text(encoding="utf-8")

    def _run(self, argv: list[str], cwd: Path, check: bool = False, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([str(SAGESPEC), *argv], cwd=cwd, env=self.env, input=stdin, capture_output=True, text=True, timeout=900)
        if check and done.returncode != 0:
            raise RuntimeError(f"sagespec {shlex.join(argv)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
        return done

    def mask(self, text: str) -> str:
        text = text.replace(str(self.scratch) + "/", "~/")
        for pattern, replacement in MASKS:
            text = pattern.sub(replacement, text)
        return "\n".join(line.rstrip() for line in text.splitlines())

    def output(self, command: str, *, expect: int | None = 0, stdin: str | None = None, cwd: str = ".") -> tuple[str, int]:
        """The masked output of one `sagespec ...` command line and its exit code. `expect`: the
        exit code the page promises (None: any); another one stops the docs build, as a changed
        behaviour should."""
        argv = shlex.split(command)
        if argv[0] != "sagespec":
            raise ValueError(f"docs run sagespec commands only: {command}")
        done = self._run(argv[1:], cwd=self.project / cwd, stdin=stdin)
        if expect is not None and done.returncode != expect:
            raise RuntimeError(f"{command}: exit code {done.returncode}, the page says {expect}:\n{done.stdout}{done.stderr}")
        return self.mask(done.stdout + done.stderr), done.returncode

    def console(
        self, *commands: str, expect: int | None | list[int | None] = 0, stdin: str | None = None, cwd: str = ".", head: int | None = None
    ) -> None:
        """Write a ```console block of `commands` run in order. `expect`: the exit code of every
        command, or a list of one per command (None: any). A command that exits non-zero is
        followed by `$ echo $?` and its code. `head`: show only the first lines of each output."""
        expected = expect if isinstance(expect, list) else [expect] * len(commands)
        if len(expected) != len(commands):
            raise ValueError(f"expect names {len(expected)} exit codes for {len(commands)} commands")
        lines = ["```console"]
        for command, code_expected in zip(commands, expected):
            text, code = self.output(command, expect=code_expected, stdin=stdin, cwd=cwd)
            shown = text.splitlines()
            if head is not None and len(shown) > head:
                shown = [*shown[:head], f"... ({len(shown) - head} more lines)"]
            lines += [f"$ {command}", *shown]
            if code != 0:
                lines += ["$ echo $?", str(code)]
        lines.append("```")
        out("\n".join(lines))

    def show_file(self, relative: str, language: str = "yaml", start: int = 1, end: int | None = None) -> None:
        """A file of the project as a fenced block (lines start..end, 1-based, inclusive)."""
        lines = self.read(relative).splitlines()[start - 1 : end]
        out(f'```{language} title="{relative}"\n' + "\n".join(lines) + "\n```")

    def close(self) -> None:
        subprocess.run([str(SAGESPEC), "endpoints", "stop-servers"], cwd=self.project, env=self.env, capture_output=True)
        shutil.rmtree(self.scratch, ignore_errors=True)
