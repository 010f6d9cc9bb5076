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

import datetime
import os
import re
import shlex
import shutil
import signal
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
FIXED_TIME = "2026-01-01T12:00:00.000000+00:00"
RECENT_DATES = {(datetime.date.today() + datetime.timedelta(days=d)).isoformat() for d in (-1, 0, 1)}


def same_shape(found: str, fixed: str) -> str:
    """`fixed`'s characters where `found` has digits, `found`'s own elsewhere: the masked time keeps
    the length and separators it had (a table's columns stay aligned)."""
    return "".join(
        fixed[i] if c.isdigit() and i < len(fixed) and fixed[i].isdigit() else ("0" if c.isdigit() else c) for i, c in enumerate(found)
    )


MASKS: list[tuple[re.Pattern[str], str]] = [
    # times of today (or a day either side: a run may cross midnight), ISO with or without a zone,
    # and bare dates; other dates are data (an IAM policy's "2012-10-17", a definition's "2020-12-01")
    (re.compile(r"\b(?P<date>\d{4}-\d\d-\d\d)([T ]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)?)?"), "NOW"),
    # durations a run prints ("in 3.2 s", "(12.0 s)", "41 ms"); a right-aligned column of them keeps its width
    (re.compile(r"(?<=\S {2})( *)\d+(\.\d+)?(ms|s)\b"), "COLUMN"),
    (re.compile(r"\b\d+(\.\d+)? ?(ms|s)\b"), "1.0 s"),
    # UUIDs a run makes (a project file's own, such as a KMS key ID, are kept)
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"), "UUID"),
    (re.compile(r"\b(execution/|executions? )[a-z0-9]{12}\b"), r"\1abcdefghijkl"),
    # loopback ports the local endpoints and moto's server listen on
    (re.compile(r"(127\.0\.0\.1|localhost):\d+"), r"\1:8080"),
    # the time stamp in a local endpoint config's name (churn-qa-20261123-111255-524)
    (re.compile(r"-\d{8}-\d{6}-\d{3}\b"), "-20260101-120000-000"),
    # a local endpoint server's process ID and port, as `endpoints stop-servers` names them
    (re.compile(r"\bpid \d+"), "pid 4242"),
    (re.compile(r"\bport \d+"), "port 8080"),
    # this checkout's folder (a step's command line names .venv/bin/python by its absolute path)
    (re.compile(re.escape(str(ROOT)) + "/"), ""),
    # the Python version in a virtual environment's paths (.venv/lib/python3.11/site-packages)
    (re.compile(r"\blib/python3\.\d+/"), "lib/python3.X/"),
]

# The ID of an execution, once an output has shown its ARN (.../execution/ID), is masked wherever it
# appears later in the session too: in job names (pipelines-ID-TrainModel), S3 keys, "cache hit: ID".
EXECUTION_ARN_ID = re.compile(r"\bexecution/([a-z0-9]{12})\b")
# A prompt waiting for an answer, at the end of what a command has printed on its terminal.
PROMPT = re.compile(rb"[:?] $")
# A moto server (the AWS API on 127.0.0.1, as the tests use it): prints its URL, stops at EOF on stdin.
MOTO_SERVER = """
import sys
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
host, port = server.get_host_and_port()
print(f"http://{host}:{port}", flush=True)
sys.stdin.read()
server.stop()
"""


class Session:
    """A project in a scratch folder, and the commands run in it, in order."""

    def __init__(
        self,
        name: str,
        *,
        init: str | None = None,
        copy: bool = True,
        env: dict[str, str] | None = None,
        sagespec: str | Path | None = None,
    ):
        """`name`: the project's folder name (shown in paths). `init`: a template to scaffold the
        project from with `sagespec init` (that run is not shown); else, with `copy`, a copy of
        this repository's project; else an empty folder with a sagespec.toml. `sagespec`: the
        `sagespec` executable the commands run (default: .venv's, next to this Python), e.g.
        ROOT / ".venv-v3/bin/sagespec" for the SDK v3 environment; shell commands find its
        environment's other tools first on PATH."""
        self.sagespec = Path(sagespec) if sagespec is not None else SAGESPEC
        self.scratch = Path(tempfile.mkdtemp(prefix="sagespec-docs-"))
        self.home = self.scratch / "home"
        self.home.mkdir()
        self.project = self.scratch / name
        self.env = {**self._clean_env(), **(env or {})}
        self.execution_ids: set[str] = set()
        self.servers: list[subprocess.Popen[str]] = []
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
        done = subprocess.run([str(self.sagespec), *argv], cwd=cwd, env=self.env, input=stdin, capture_output=True, text=True, timeout=900)
        if check and done.returncode != 0:
            raise RuntimeError(f"sagespec {shlex.join(argv)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
        return done

    def own_text(self) -> str:
        """The text of the project's specs and accounts file: what an output quotes from them is not masked."""
        return "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in sorted(self.project.glob("pipelines/**/*.y*ml")))

    def mask(self, text: str) -> str:
        text = text.replace(str(self.scratch) + "/", "~/")
        self.execution_ids.update(EXECUTION_ARN_ID.findall(text))
        for execution_id in sorted(self.execution_ids):
            text = text.replace(execution_id, "abcdefghijkl")
        for pattern, replacement in MASKS:
            if replacement == "COLUMN":
                text = pattern.sub(lambda m: "1.0 s".rjust(len(m.group(0))), text)
            elif replacement == "NOW":
                text = pattern.sub(lambda m: same_shape(m.group(0), FIXED_TIME) if m.group("date") in RECENT_DATES else m.group(0), text)
            elif replacement == "UUID":
                text = pattern.sub(lambda m: m.group(0) if m.group(0) in self.own_text() else "00000000-0000-0000-0000-000000000000", text)
            else:
                text = pattern.sub(replacement, text)
        return "\n".join(line.rstrip() for line in text.splitlines())

    def output(
        self, command: str, *, expect: int | None = 0, stdin: str | None = None, cwd: str = ".", shell: bool = False, tty: bool = False
    ) -> tuple[str, int]:
        """The masked output of one `sagespec ...` command line and its exit code. `expect`: the
        exit code the page promises (None: any); another one stops the docs build, as a changed
        behaviour should. `shell`: any command line, run by bash (curl, a pipe; `sagespec` is the
        installed one). `tty`: on a terminal of its own (stdin, stdout and stderr, 88 columns), as
        a user at a terminal runs it; each line of `stdin` is typed when a prompt waits for it."""
        if shell:
            argv = ["bash", "-c", command]
        else:
            argv = shlex.split(command)
            if argv[0] != "sagespec":
                raise ValueError(f"docs run sagespec commands only (or shell=True): {command}")
            argv = [str(self.sagespec), *argv[1:]]
        if tty:
            text, code = self._run_tty(argv, cwd=self.project / cwd, typed=stdin or "")
        else:
            env = {**self.env, "PATH": f"{self.sagespec.parent}{os.pathsep}{self.env.get('PATH', '')}"} if shell else self.env
            done = subprocess.run(argv, cwd=self.project / cwd, env=env, input=stdin, capture_output=True, text=True, timeout=900)
            text, code = done.stdout + done.stderr, done.returncode
        if expect is not None and code != expect:
            raise RuntimeError(f"{command}: exit code {code}, the page says {expect}:\n{text}")
        return self.mask(text), code

    def _run_tty(self, argv: list[str], cwd: Path, typed: str) -> tuple[str, int]:
        """Run `argv` on a pseudo-terminal, typing each line of `typed` at the next prompt; what
        the terminal showed (the typed answers echoed where they were typed) and the exit code."""
        import fcntl
        import pty
        import select
        import struct
        import termios
        import time

        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, COLUMNS, 0, 0))
        env = {**self.env, "PATH": f"{self.sagespec.parent}{os.pathsep}{self.env.get('PATH', '')}"}
        process = subprocess.Popen(argv, cwd=cwd, env=env, stdin=slave, stdout=slave, stderr=slave, close_fds=True)
        os.close(slave)
        answers = typed.splitlines(keepends=True)
        shown, answered_at, deadline, last_output = b"", 0, time.monotonic() + 900, time.monotonic()
        try:
            while time.monotonic() < deadline:
                # a prompt is what ends the output once the command has printed nothing for 0.3 s
                if answers and len(shown) > answered_at and PROMPT.search(shown) and time.monotonic() - last_output > 0.3:
                    os.write(master, answers.pop(0).encode())
                    answered_at = len(shown)
                if not select.select([master], [], [], 0.1)[0]:
                    continue
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # the terminal closed: the command ended
                    break
                if not chunk:
                    break
                shown, last_output = shown + chunk, time.monotonic()
            else:
                process.kill()
                raise RuntimeError(f"{shlex.join(argv)}: still running after 900 s on its terminal:\n{shown.decode(errors='replace')}")
        finally:
            os.close(master)
        code = process.wait(timeout=60)
        return shown.decode(errors="replace").replace("\r\n", "\n"), code

    def aws_server(self, profiles: dict[str, str], *, role: str = "OrganizationAccountAccessRole", region: str = "us-east-1") -> str:
        """From here on, commands reach AWS at a moto server on 127.0.0.1 (started now, stopped by
        close()): AWS_ENDPOINT_URL, moto's test credentials, and an AWS config file whose profiles
        (name -> account ID) each assume `role` in their account, as a user's profiles would. moto
        runs no pipeline steps. Returns the server's URL."""
        server = subprocess.Popen(
            [sys.executable, "-c", MOTO_SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        self.servers.append(server)
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        if not url.startswith("http://"):
            raise RuntimeError("the moto server did not start")
        config = self.home / ".aws" / "config"
        config.parent.mkdir(exist_ok=True)
        config.write_text(
            "".join(
                f"[profile {name}]\nrole_arn = arn:aws:iam::{account}:role/{role}\ncredential_source = Environment\nregion = {region}\n\n"
                for name, account in profiles.items()
            )
        )
        self.env.update(
            {
                "AWS_ENDPOINT_URL": url,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_DEFAULT_REGION": region,
                "AWS_CONFIG_FILE": str(config),
            }
        )
        return url

    def console(
        self,
        *commands: str,
        expect: int | None | list[int | None] = 0,
        stdin: str | None = None,
        cwd: str = ".",
        head: int | None = None,
        tail: int | None = None,
        shell: bool = False,
        tty: bool = False,
    ) -> None:
        """Write a ```console block of `commands` run in order. `expect`: the exit code of every
        command, or a list of one per command (None: any). A command that exits non-zero is
        followed by `$ echo $?` and its code. `head`: show only the first lines of each output;
        `tail` (alone or with `head`): the last lines, the ones between counted. `shell`, `tty`:
        see output(); a shell command is shown masked (a URL's port as the outputs show it)."""
        expected = expect if isinstance(expect, list) else [expect] * len(commands)
        if len(expected) != len(commands):
            raise ValueError(f"expect names {len(expected)} exit codes for {len(commands)} commands")
        lines = ["```console"]
        for command, code_expected in zip(commands, expected):
            text, code = self.output(command, expect=code_expected, stdin=stdin, cwd=cwd, shell=shell, tty=tty)
            shown = text.splitlines()
            if tail is not None and len(shown) > (head or 0) + tail:
                first = shown[: head or 0]
                shown = [*first, f"... ({len(shown) - len(first) - tail} more lines)", *shown[-tail:]]
            elif head is not None and len(shown) > head:
                shown = [*shown[:head], f"... ({len(shown) - head} more lines)"]
            lines += [f"$ {self.mask(command) if shell else command}", *shown]
            if code != 0:
                lines += ["$ echo $?", str(code)]
        lines.append("```")
        out("\n".join(lines))

    def console_interrupted(self, command: str, *, after: str, delay: float = 0.0, sig: int = signal.SIGINT, timeout: float = 300) -> None:
        """A ```console block of one `sagespec ...` command stopped by the signal `sig` once its
        output (stdout and stderr interleaved, as a terminal shows them) holds `after`, and
        `delay` seconds more (a person presses Ctrl-C a moment after reading a line). SIGINT is
        sent to the command's process group, as Ctrl-C at a terminal does, and shown as `^C` on a
        line of its own where it was pressed; another signal (SIGKILL: `kill -9`, the OOM killer)
        goes to the command's process only. The exit code is shown as a shell reports it (128 plus
        the signal's number when the signal ended the command)."""
        import time

        argv = shlex.split(command)
        if argv[0] != "sagespec":
            raise ValueError(f"console_interrupted runs sagespec commands only: {command}")
        log = self.scratch / "interrupted.log"
        with open(log, "wb") as sink:
            process = subprocess.Popen(
                [str(self.sagespec), *argv[1:]],
                cwd=self.project,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while after not in (before := log.read_text(errors="replace")):
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"{command}: ended ({process.wait()}) or timed out before printing {after!r}:\n{before}")
            time.sleep(0.05)
        time.sleep(delay)
        before = log.read_text(errors="replace")
        if sig == signal.SIGINT:
            os.killpg(process.pid, sig)
        else:
            process.send_signal(sig)
        code = process.wait(timeout=120)
        text = log.read_text(errors="replace")
        if sig == signal.SIGINT:
            text = before + ("" if before.endswith("\n") else "\n") + "^C\n" + text[len(before) :]
        code = 128 - code if code < 0 else code
        lines = ["```console", f"$ {command}", *self.mask(text).splitlines()]
        if code != 0:
            lines += ["$ echo $?", str(code)]
        out("\n".join([*lines, "```"]))

    def show_file(self, relative: str, language: str = "yaml", start: int = 1, end: int | None = None) -> None:
        """A file of the project as a fenced block (lines start..end, 1-based, inclusive)."""
        lines = self.read(relative).splitlines()[start - 1 : end]
        out(f'```{language} title="{relative}"\n' + "\n".join(lines) + "\n```")

    def close(self) -> None:
        subprocess.run([str(self.sagespec), "endpoints", "stop-servers"], cwd=self.project, env=self.env, capture_output=True)
        for server in self.servers:
            if server.stdin is not None:
                server.stdin.close()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(self.scratch, ignore_errors=True)
