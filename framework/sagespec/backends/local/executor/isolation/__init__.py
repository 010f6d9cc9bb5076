"""How a local job sees SageMaker's container layout: one isolation mode per run, from a table.

SageMaker puts a job's data at fixed paths (/opt/ml/processing/... at each input's and output's
LocalPath, /opt/ml/input/data/<channel>, /opt/ml/input/config, /opt/ml/model, /opt/ml/output,
/opt/ml/code). Here each path is one of the job's folders in the workspace; a mode decides how the
job reaches it:

- `namespace`: a private user and mount namespace per job (sagespec.backends.local.executor.isolation.namespace):
  the job sees the folders at the container paths, and the host's /opt/ml is never visible.
- `bubblewrap`: the same layout made by bwrap, where it is installed and only when asked for
  (sagespec.backends.local.executor.isolation.bubblewrap).
- `variables`: only the SM_* variables point at the folders (sagespec.backends.local.executor.isolation.variables);
  the job's Python is kept away from the host's /opt/ml, and the run says so in its header.

Jobs whose image has no local equivalent run in Docker with the real image
(sagespec.backends.local.executor.docker), whatever the mode. The mode is chosen once per run:
the first available of AUTO, or the one the context names ($SAGESPEC_ISOLATION).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sagespec.backends.local.executor.isolation import bubblewrap, namespace, variables
from sagespec.backends.local.executor.isolation.launch import Launch, Mounts
from sagespec.diagnostics import UserError

__all__ = ["MODES", "Choice", "Launch", "Mode", "Mounts", "choose"]


class Mode(Protocol):
    name: str
    summary: str  # what a job sees in this mode (`sagespec doctor`)
    caveat: str  # what a run's header says of it, "" when a job sees what it sees on SageMaker

    def unavailable(self) -> str | None:
        """Why this machine cannot use the mode, or None when it can."""

    def launch(self, argv: list[str], env: dict[str, str], cwd: Path, mounts: Mounts, work: Path) -> Launch:
        """How to start one program of a job whose folders are `mounts`."""


# In order of preference: the first available one is the default.
# bubblewrap lays out the same paths faster, but its job is its child, not itself: a job killed by
# a signal comes back as exit status 128+N, which the executor cannot tell from an exit (a job
# killed from outside is SageMaker's InternalServerError, retried under JOB_INTERNAL_ERROR; an exit
# is the algorithm's error). So it is chosen only when asked for.
MODES: dict[str, Mode] = {mode.name: mode for mode in (namespace.MODE, bubblewrap.MODE, variables.MODE)}
AUTO = ("namespace", "variables")


@dataclass(frozen=True)
class Choice:
    mode: Mode
    passed_over: tuple[tuple[str, str], ...]  # (mode, why not) for the modes preferred to it

    @property
    def header(self) -> str:
        why = "; ".join(f"no {name}: {reason}" for name, reason in self.passed_over)
        return f"isolation: {self.mode.name}" + (f", {self.mode.caveat}" if self.mode.caveat else "") + (f"; {why}" if why else "")


def choose(requested: str | None = None) -> Choice:
    """The run's mode: `requested` ($SAGESPEC_ISOLATION) when given and available, else the
    first available one of AUTO."""
    if requested and requested != "auto":
        mode = MODES.get(requested)
        if mode is None:
            raise UserError(
                "E6019", f"SAGESPEC_ISOLATION={requested} names no isolation mode", hint=f"one of: auto, {', '.join(MODES)}", exit_code=2
            )
        why = mode.unavailable()
        if why:
            raise UserError(
                "E6019", f"the {requested} isolation mode cannot run here: {why}", hint="`sagespec doctor` shows what this machine offers"
            )
        return Choice(mode, ())
    passed: list[tuple[str, str]] = []
    for mode in (MODES[name] for name in AUTO):
        why = mode.unavailable()
        if why is None:
            return Choice(mode, tuple(passed))
        passed.append((mode.name, why))
    raise AssertionError("the variables mode is always available")
