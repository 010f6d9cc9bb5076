"""Pipelines and their executions: one protocol, two implementations.

`sagespec.executor.LocalPipelines` runs definitions on the local control plane;
`sagespec.pipelines.sagemaker.SageMakerPipelines` calls SageMaker through boto3. Commands get
one from `sagespec.backends.open_pipelines` and never ask which it is. An execution is
described with the same keys on both (EXECUTION_KEYS, STEP_KEYS, LISTED_KEYS).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

TERMINAL = ("Succeeded", "Failed", "Stopped")

# The keys of an execution, one of its steps, and a listed execution, on either target (what
# `--output json` prints; a key one target cannot know is null there).
EXECUTION_KEYS = (
    "arn",
    "pipeline",
    "definition_version",
    "status",
    "parameters",
    "failure_reason",
    "retry_of",
    "started_at",
    "ended_at",
    "runner_pid",
    "max_parallel_steps",
    "selective_source",
    "selected_steps",
    "steps",
    "outbox",
    "callbacks",
)
STEP_KEYS = (
    "execution",
    "name",
    "type",
    "status",
    "properties",
    "cache_key",
    "cached_from",
    "failure_reason",
    "log_path",
    "started_at",
    "ended_at",
    "attempt_count",
)
LISTED_KEYS = ("arn", "pipeline", "status", "started_at", "ended_at", "failure_reason")


@dataclass
class StepEvent:
    """A step's status changed (or, while it runs, its metrics): what a progress view shows."""

    step: str
    status: str  # Executing | Succeeded | Failed | NotStarted; on SageMaker also Starting | Stopping | Stopped
    detail: str = ""
    seconds: float | None = None  # how long the step took, when the backend knows it (SageMaker's StartTime..EndTime)


@dataclass
class UpsertResult:
    action: str  # created | updated (SageMaker); stored | unchanged (local definition versions)
    arn: str
    uploaded: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    version: int | None = None  # the local definition version


class Pipelines(Protocol):
    target: str
    runs_here: bool  # start() runs the execution in this process to its end (local), or only starts it

    def upsert(self, compiled, role: str | None = None) -> UpsertResult: ...
    def deployed_definition(self, name: str) -> dict: ...
    def missing_buckets(self, compiled) -> list[str]: ...
    def start(
        self,
        name: str,
        overrides: dict[str, str],
        on_event=None,
        retry: str | None = None,
        display_name: str | None = None,
        max_parallel_steps: int | None = None,
        selected_steps: list[str] | None = None,
        source_execution: str | None = None,
    ) -> dict: ...
    def wait(self, arn: str, on_status=None) -> dict: ...
    def follow(self, arn: str, on_event) -> dict: ...  # report step changes of an execution running elsewhere until it ends
    def describe_execution(self, arn: str) -> dict: ...
    def list_executions(self, name: str | None = None) -> list[dict]: ...
    def logs(self, execution: str, step: str) -> str: ...
    def follow_logs(self, execution: str, step: str) -> Iterator[str]: ...
    def stop(self, execution: str) -> dict: ...
    def send_success(self, token: str, outputs: dict[str, str]) -> dict: ...
    def send_failure(self, token: str, reason: str) -> dict: ...
