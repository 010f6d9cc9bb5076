"""Tasks on executions, on either target: list, describe, logs, stop, answer a callback."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sagespec.backends.factory import open_pipelines
from sagespec.context import Context


def where(ctx: Context) -> str:
    """The target's name for people: local, or SageMaker."""
    return open_pipelines(ctx).label


def list_executions(ctx: Context, pipeline: str | None = None) -> list[dict[str, Any]]:
    """Executions (of one pipeline, or all), newest first."""
    return open_pipelines(ctx).list_executions(pipeline)


def describe(ctx: Context, execution: str) -> dict[str, Any]:
    return open_pipelines(ctx).describe_execution(execution)


def logs(ctx: Context, execution: str, step: str) -> str:
    return open_pipelines(ctx).logs(execution, step)


def follow_logs(ctx: Context, execution: str, step: str) -> Iterator[str]:
    """The step's log lines as they are written, until the step ends."""
    return open_pipelines(ctx).follow_logs(execution, step)


def stop(ctx: Context, execution: str) -> dict[str, Any]:
    return open_pipelines(ctx).stop(execution)


def send_success(ctx: Context, token: str, outputs: dict[str, str]) -> dict[str, Any]:
    return open_pipelines(ctx).send_success(token, outputs)


def send_failure(ctx: Context, token: str, reason: str) -> dict[str, Any]:
    return open_pipelines(ctx).send_failure(token, reason)
