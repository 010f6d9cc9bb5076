"""A SageMaker job's log in CloudWatch Logs: read it whole, or follow it while the job runs.

SageMaker writes each job's output to a log group of its kind, one stream per instance named
`<job name>/<host>-<n>-<timestamp>` ("Log Amazon SageMaker Events with Amazon CloudWatch"). A
multi-instance job's streams are read in name order (algo-1 before algo-2), each from its head.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import botocore.exceptions

from sagespec.aws.sessions import aws_errors
from sagespec.diagnostics import UserError

if TYPE_CHECKING:
    from mypy_boto3_logs import CloudWatchLogsClient

LOG_GROUPS = {
    "training-job": "/aws/sagemaker/TrainingJobs",
    "processing-job": "/aws/sagemaker/ProcessingJobs",
    "transform-job": "/aws/sagemaker/TransformJobs",
}


def log_group(kind: str) -> str | None:
    return LOG_GROUPS.get(kind)


def _streams(logs: CloudWatchLogsClient, group: str, job: str) -> list[str]:
    try:
        pages = list(logs.get_paginator("describe_log_streams").paginate(logGroupName=group, logStreamNamePrefix=f"{job}/"))
    except botocore.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return []  # the account's first job of this kind has not created its log group yet
        with aws_errors(f"listing the log streams of {job} in {group}"):
            raise
    return sorted(s["logStreamName"] for page in pages for s in page["logStreams"])


def _new_events(logs: CloudWatchLogsClient, group: str, stream: str, token: str | None) -> tuple[list[str], str | None]:
    """The stream's events after `token` (from its head without one), and the token to go on from."""
    lines: list[str] = []
    while True:
        request: dict[str, Any] = {"logGroupName": group, "logStreamName": stream, "startFromHead": True}
        if token:
            request["nextToken"] = token
        with aws_errors(f"reading log stream {stream} in {group}"):
            page = logs.get_log_events(**request)
        lines += [e["message"] for e in page["events"]]
        # GetLogEvents: the end of the stream is reached when the forward token comes back unchanged.
        if not page["events"] or page.get("nextForwardToken") in (None, token):
            return lines, page.get("nextForwardToken") or token
        token = page["nextForwardToken"]


def read(logs: CloudWatchLogsClient, group: str, job: str) -> str:
    streams = _streams(logs, group, job)
    if not streams:
        raise UserError("E6005", f"no log streams of {job} in {group} yet", hint="a job's log appears once its instance starts")
    lines: list[str] = []
    for stream in streams:
        lines += _new_events(logs, group, stream, None)[0]
    return "\n".join(lines) + "\n"


def follow(
    logs: CloudWatchLogsClient,
    group: str,
    job: str,
    done: Callable[[], bool],
    sleep: Callable[[float], None] = time.sleep,
    interval: float = 5.0,
) -> Iterator[str]:
    """Every line of the job's streams as it arrives, until `done()` (the step ended) and a last
    read found nothing new. Streams that appear later (more instances) are followed too."""
    tokens: dict[str, str | None] = {}
    while True:
        finished = done()  # asked before reading, so nothing written before the end is missed
        fresh = False
        for stream in _streams(logs, group, job):
            lines, tokens[stream] = _new_events(logs, group, stream, tokens.get(stream))
            fresh = fresh or bool(lines)
            yield from lines
        if finished and not fresh:
            return
        sleep(interval)
