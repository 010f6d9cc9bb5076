"""Pipelines and their executions: one protocol, two implementations.

`sagespec.executor.LocalPipelines` runs definitions on the local control plane;
`sagespec.pipelines.sagemaker.SageMakerPipelines` calls SageMaker through boto3. Commands get
one from `sagespec.backends.open_pipelines` and never ask which it is. An execution is
described with the same keys on both: arn, pipeline, status, started_at, ended_at,
failure_reason, parameters, steps (name, type, status, failure_reason, started_at, ended_at,
properties, cached_from, log_path) and outbox.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

TERMINAL = ("Succeeded", "Failed", "Stopped")


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
    def start(
        self, name: str, overrides: dict[str, str], on_event=None, retry: str | None = None, display_name: str | None = None
    ) -> dict: ...
    def wait(self, arn: str, on_status=None) -> dict: ...
    def describe_execution(self, arn: str) -> dict: ...
    def list_executions(self, name: str | None = None) -> list[dict]: ...
    def logs(self, execution: str, step: str) -> str: ...
    def stop(self, execution: str) -> dict: ...
    def send_success(self, token: str, outputs: dict[str, str]) -> dict: ...
    def send_failure(self, token: str, reason: str) -> dict: ...
