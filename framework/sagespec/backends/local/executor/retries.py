"""A step's RetryPolicies, decided as SageMaker Pipelines documents them ("Retry Policy for
Pipeline Steps"): a failure whose exception type a policy lists runs the step again after
IntervalSeconds x BackoffRate^(retries so far), until the policy's MaxAttempts retries are spent or
ExpireAfterMin minutes have passed since the step started. A failure no policy lists fails the step.

What the local jobs' failures are, by SageMaker's types:
- SageMaker.JOB_INTERNAL_ERROR: the job's process was killed by a signal sagespec did not send
  (the machine took it away: the local face of SageMaker losing the instance, InternalServerError);
- SageMaker.CAPACITY_ERROR: the job's process could not be started for lack of memory or process
  slots (EAGAIN, ENOMEM: the local face of InsufficientCapacityError);
- Step.SERVICE_FAULT: the local control plane (its SQLite database) stayed busy past its timeout;
- a script that exits non-zero is an AlgorithmError, which no policy retries, as on SageMaker.
SageMaker.RESOURCE_LIMIT and Step.THROTTLING have no local cause: they are accepted and never occur.
"""

from __future__ import annotations

import shutil
import sqlite3
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sagespec.backends.local.executor.handlers import StepRun

JOB_INTERNAL_ERROR = "SageMaker.JOB_INTERNAL_ERROR"
CAPACITY_ERROR = "SageMaker.CAPACITY_ERROR"
SERVICE_FAULT = "Step.SERVICE_FAULT"
DEFAULT_INTERVAL_SECONDS = 1
DEFAULT_BACKOFF_RATE = 2.0
WAKE_SECONDS = 0.25  # how often a wait between attempts looks for a stop request


class StepFailed(Exception):
    """A step's job failed; `exception_type` is the RetryPolicy type it counts as (see
    sagespec.backends.local.executor.retries), None for failures no policy retries (an AlgorithmError)."""

    def __init__(self, message: str, exception_type: str | None = None):
        super().__init__(message)
        self.exception_type = exception_type


class ExecutionFailed(Exception):
    """A Fail step: the execution ends Failed with this message."""


class Retries:
    """The retry state of one step of one execution."""

    def __init__(self, policies: list[dict[str, Any]], clock: Callable[[], float] = time.monotonic):
        self.policies = policies
        self.clock = clock
        self.started = clock()
        self.used = [0] * len(policies)  # retries each policy has granted

    def delay(self, exception_type: str | None) -> float | None:
        """Seconds to wait before the next attempt, or None when the failure is final. The first
        policy listing the type decides, as SageMaker matches them in order."""
        if exception_type is None:
            return None
        for index, policy in enumerate(self.policies):
            if exception_type not in policy.get("ExceptionType", []):
                continue
            interval = policy.get("IntervalSeconds", DEFAULT_INTERVAL_SECONDS)
            wait: float = interval * policy.get("BackoffRate", DEFAULT_BACKOFF_RATE) ** self.used[index]
            if "MaxAttempts" in policy and self.used[index] >= policy["MaxAttempts"]:
                return None
            if "ExpireAfterMin" in policy and self.clock() + wait - self.started > policy["ExpireAfterMin"] * 60:
                return None
            self.used[index] += 1
            return wait
        return None


def pause(seconds: float, interrupted: Callable[[], bool]) -> bool:
    """Wait between attempts; False when the execution was interrupted meanwhile."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if interrupted():
            return False
        time.sleep(min(WAKE_SECONDS, max(0.0, deadline - time.monotonic())))
    return not interrupted()


def with_retries(
    attempt_job: Callable[[], dict[str, Any]],
    step: dict[str, Any],
    run: StepRun,
    retrying: Callable[[int, float, StepFailed], None],
    interrupted: Callable[[], bool],
) -> dict[str, Any]:
    """The step's job, started again while its RetryPolicies allow; each attempt starts from an
    empty work folder (all but the step's log), as a new SageMaker job starts on a fresh instance.
    `retrying(attempt, wait, failure)` is told before each wait."""

    retries = Retries(step.get("RetryPolicies") or [])
    attempt = 1
    while True:
        try:
            return attempt_job()
        except (StepFailed, sqlite3.OperationalError) as exc:
            failed = exc if isinstance(exc, StepFailed) else StepFailed(f"the local control plane is busy: {exc}", SERVICE_FAULT)
            wait = None if interrupted() else retries.delay(failed.exception_type)
            if wait is None:
                raise failed from None
            attempt += 1
            retrying(attempt, wait, failed)
            if not pause(wait, interrupted):
                raise failed from None
            for leftover in run.work.iterdir():
                if leftover != run.log_path:
                    shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
