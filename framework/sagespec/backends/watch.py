"""Following an execution that runs elsewhere (SageMaker): poll it with backoff and report each
step's status change as a StepEvent, the events a local run reports, so one progress view shows both.

The poll interval starts short, grows while nothing changes and starts short again when a step
moves: a two-hour training job costs a few hundred requests, not thousands, and the steps after it
show within seconds. DescribePipelineExecution and ListPipelineExecutionSteps are throttled per
account (SageMaker's "Amazon SageMaker endpoints and quotas"); botocore's retry mode covers that.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sagespec.backends.records import TERMINAL, StepEvent, step_summary
from sagespec.diagnostics import UserError


@dataclass(frozen=True)
class Backoff:
    first: float = 2.0  # seconds before the second poll, and after any change
    factor: float = 1.5
    longest: float = 30.0

    def next(self, delay: float, changed: bool) -> float:
        return self.first if changed else min(delay * self.factor, self.longest)


def detail(step: dict[str, Any]) -> str:
    """What a step's line says beside its status: why it failed, where its result came from, what it made."""
    if step["status"] == "Failed":
        return step.get("failure_reason") or ""
    if step["status"] == "Succeeded" and step.get("cached_from"):
        return f"cache hit: {step['cached_from']}"
    if step["status"] == "Succeeded":
        return step_summary(step["properties"])
    return ""


def _seconds(step: dict[str, Any]) -> float | None:
    if not (step.get("started_at") and step.get("ended_at")):
        return None
    return (datetime.fromisoformat(step["ended_at"]) - datetime.fromisoformat(step["started_at"])).total_seconds()


def follow(
    poll: Callable[[], dict[str, Any]],
    on_event: Callable[[StepEvent], None],
    backoff: Backoff = Backoff(),
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    timeout: float = 6 * 3600,
) -> dict[str, Any]:
    """Poll (`poll()` returns the execution with its steps, sagespec.backends.pipelines.EXECUTION_KEYS) until it
    ends; report every step whose status changed; return the last execution seen."""
    seen: dict[str, str] = {}
    delay = backoff.first
    deadline = clock() + timeout
    while True:
        execution = poll()
        changed = False
        for step in execution["steps"]:
            if seen.get(step["name"]) != step["status"]:
                seen[step["name"]] = step["status"]
                on_event(StepEvent(step["name"], step["status"], detail(step), _seconds(step)))
                changed = True
        if execution["status"] in TERMINAL:
            return execution
        if clock() > deadline:
            raise UserError(
                "E6009",
                f"execution {execution['arn']} still {execution['status']} after {timeout:.0f} s",
                hint="it goes on running; follow it again with `sagespec executions follow ARN`",
            )
        delay = backoff.next(delay, changed)
        sleep(delay)


def follow_file(
    state: Callable[[], tuple[str | None, bool]], sleep: Callable[[float], None] = time.sleep, interval: float = 0.5
) -> Iterator[str]:
    """The lines of a step's log file as they are written (by a run in another process), until the
    step has ended: `state()` gives the log's path (None before the step starts) and whether it ended."""
    offset, partial = 0, ""
    while True:
        path, ended = state()  # asked before reading, so nothing written before the end is missed
        if path and Path(path).is_file():
            with open(path, encoding="utf-8", errors="replace") as log:
                log.seek(offset)
                text = partial + log.read()
                offset = log.tell()
            *lines, partial = text.split("\n")
            yield from lines
        if ended:
            if partial:
                yield partial
            return
        sleep(interval)
