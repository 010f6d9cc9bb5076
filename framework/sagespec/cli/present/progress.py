"""How an execution shows itself while it runs, locally or on SageMaker: a live table on a
terminal, one line per event elsewhere (CI logs).

A running local job step reports again whenever its metrics change (the latest value of each
metric definition, read from its log): the detail column shows them while the elapsed time keeps
ticking. On SageMaker a step reports each status change the polling sees."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any, Literal

import click

from sagespec.cli.console import grid, live

if TYPE_CHECKING:
    from collections.abc import Callable

    from rich.table import Table

    from sagespec.backends.records import StepEvent

# StepStatus of ListPipelineExecutionSteps, and NotStarted for a step a local run never reached.
MARKS = {"Starting": "..", "Executing": "..", "Stopping": "..", "Succeeded": "ok", "Failed": "!!", "Stopped": "--", "NotStarted": "--"}
STYLES = {
    "Starting": "yellow",
    "Executing": "yellow",
    "Stopping": "yellow",
    "Succeeded": "green",
    "Failed": "bold red",
    "Stopped": "dim",
    "NotStarted": "dim",
}
RUNNING = ("Starting", "Executing", "Stopping")


class LineProgress:
    def __init__(self) -> None:
        self.started: dict[str, float] = {}

    def __enter__(self) -> LineProgress:
        return self

    def __exit__(self, *exc: object) -> Literal[False]:
        return False

    def __call__(self, event: StepEvent) -> None:
        if event.status in RUNNING:  # again while it runs: its latest metrics, same start
            self.started.setdefault(event.step, time.monotonic())
        if event.seconds is not None and event.status not in RUNNING:
            elapsed = f" {event.seconds:6.1f}s"
        elif event.step in self.started and event.status not in RUNNING:
            elapsed = f" {time.monotonic() - self.started[event.step]:6.1f}s"
        else:
            elapsed = "        "
        click.echo(f"  [{MARKS.get(event.status, '  ')}] {event.step:<28} {event.status:<11}{elapsed}  {event.detail}".rstrip())


class LiveProgress:
    """A rich Live table: every step with its status and a ticking elapsed time."""

    def __init__(self, title: str):
        self.title = title
        self.rows: dict[str, list[Any]] = {}  # step -> [status, started, ended, detail]
        self.live = live(self._table)

    def _table(self) -> Table:
        table = grid(("", "step", "status", "elapsed", "detail"), self.title, overflow="fold")
        now = time.monotonic()
        for step, (status, started, ended, detail) in self.rows.items():
            elapsed = f"{(ended or now) - started:.1f}s" if started else ""
            style = STYLES.get(status, "")
            table.add_row(MARKS.get(status, ""), step, f"[{style}]{status}[/{style}]" if style else status, elapsed, detail)
        return table

    def __enter__(self) -> LiveProgress:
        self.live.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        return self.live.__exit__(*exc)

    def __call__(self, event: StepEvent) -> None:
        row = self.rows.setdefault(event.step, [event.status, None, None, ""])
        now = time.monotonic()
        if event.status in RUNNING:
            row[1] = row[1] if row[0] in RUNNING and row[1] is not None else now
        elif event.seconds is not None:
            row[1], row[2] = now - event.seconds, now
        elif row[1] is not None:
            row[2] = now
        row[0], row[3] = event.status, event.detail or row[3]


class Progress:
    """The progress view of one command, started by the first step event (a start that only starts
    an execution elsewhere shows nothing): a live table on a terminal, lines elsewhere. `header`
    is printed once, before the first event (a function: asked then, so a start that runs
    elsewhere never computes it)."""

    def __init__(self, title: str, header: str | Callable[[], str] | None = None):
        self.title, self.header = title, header
        self.view: LineProgress | LiveProgress | None = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: Any) -> Literal[False]:
        if self.view is not None:
            self.view.__exit__(*exc)
        return False

    def __call__(self, event: StepEvent) -> None:
        if self.view is None:
            if self.header:
                click.echo(self.header if isinstance(self.header, str) else self.header())
            self.view = LiveProgress(self.title) if sys.stdout.isatty() else LineProgress()
            self.view.__enter__()
        self.view(event)
