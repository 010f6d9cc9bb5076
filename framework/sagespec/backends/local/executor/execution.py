"""One local execution: the definition's steps scheduled by their data dependencies (`Get
Steps.X...`), `DependsOn` and condition branches, independent steps in parallel threads (each
step's script is its own process), as many at once as the ParallelismConfiguration allows. A
failed step fails the execution and its dependants never start; a Fail step ends it Failed with
its message; a condition runs one branch; a stop request (StopPipelineExecution) stops the
running jobs and starts no new step.
"""

from __future__ import annotations

import json
import os
import signal
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from sagespec.backends.local.database import connect, now
from sagespec.backends.local.executor import callback, lambda_function, quality, training, transform, tuning  # noqa: F401  (register their handlers)
from sagespec.backends.local.executor.access import authorize, step_requests
from sagespec.backends.local.executor.caching import cache_key, expire_after
from sagespec.backends.local.executor.faults import interrupted
from sagespec.backends.local.executor.handlers import HANDLERS, StepRun
from sagespec.backends.local.executor.retries import ExecutionFailed, StepFailed, with_retries
from sagespec.backends.local.objects import ObjectStore
from sagespec.backends.records import StepEvent, step_summary
from sagespec.definition import step_needs, steps
from sagespec.definition.expressions import Context, EvaluationError, condition_holds, explain, walk
from sagespec.diagnostics import UserError

if TYPE_CHECKING:
    import subprocess

    from sagespec.accounts.needs import Need
    from sagespec.backends.local.aws_endpoint.server import LocalAwsEndpoint
    from sagespec.backends.local.executor.runner import LocalPipelines


STOP_POLL_SECONDS = 0.25
# Steps at once when neither the pipeline nor the start sets a ParallelismConfiguration: each
# step's job is a process of this machine, so more would only share its cores.
DEFAULT_PARALLEL_STEPS = 2


class Execution:
    def __init__(
        self,
        pipelines: LocalPipelines,
        pipeline: dict[str, Any],
        definition: dict[str, Any],
        parameters: dict[str, Any],
        execution_id: str,
        arn: str,
        started: str,
        on_event: Callable[[StepEvent], None],
        reuse: dict[str, tuple[dict[str, Any], str]] | None = None,
    ):
        self.p, self.definition, self.on_event = pipelines, definition, on_event
        self.reuse = reuse or {}
        self.execution_id, self.arn = execution_id, arn
        self.role = pipeline["role_arn"]
        self.work = pipelines.workspace / "executions" / execution_id
        self.ctx = Context(
            parameters,
            {
                "PipelineExecutionId": execution_id,
                "PipelineExecutionArn": arn,
                "PipelineName": pipeline["name"],
                "PipelineArn": pipeline["arn"],
                "StartDateTime": started,
                "CurrentDateTime": started,
            },
            read_property_file=self.read_property_file,
        )
        self.steps = steps(definition)
        self.needs = step_needs(definition)
        self.lock = threading.Lock()
        self.children: set[subprocess.Popen[bytes]] = set()  # running script processes
        self.aborting: str | None = None  # why the execution is being interrupted
        self.aws_endpoint: LocalAwsEndpoint | None = None  # set by the runner for the run's length
        self.cache_keys: dict[str, str] = {}
        self.pipeline_name = pipeline["name"]
        self.requests: list[Need] | None = None  # what each step asks IAM for (sagespec.accounts.needs), made concrete for this execution
        self.max_parallel = DEFAULT_PARALLEL_STEPS  # ParallelismConfiguration.MaxParallelExecutionSteps
        self.selected: set[str] | None = None  # a selective execution runs only these

    def read_property_file(self, step: str, file_name: str) -> Any:
        declared = next(f for f in self.steps[step].get("PropertyFiles", []) if f["PropertyFileName"] == file_name)
        output = walk(self.ctx.steps[step], ["ProcessingOutputConfig", "Outputs", declared["OutputName"], "S3Output", "S3Uri"], step)
        return json.loads(self.p.objects.get(f"{output.rstrip('/')}/{declared['FilePath']}"))

    def record(self, name: str, status: str, **fields: object) -> None:
        with self.lock:
            self.p.store.record_step(self.arn, name, self.steps[name]["Type"], status, **fields)

    def run(self) -> tuple[str, str | None]:
        pending = set(self.steps)
        skipped: set[str] = set()
        done: set[str] = set()
        failure: str | None = None
        stopping = False
        return self._schedule(pending, skipped, done, failure, stopping)

    def abort(self, reason: str) -> None:
        """Stop the running scripts (the scheduler's threads then end their steps as Stopped)."""

        self.aborting = reason
        for child in list(self.children):
            try:
                os.killpg(child.pid, signal.SIGTERM)
            except (ProcessLookupError, PermissionError):
                pass

    def _schedule(
        self, pending: set[str], skipped: set[str], done: set[str], failure: str | None, stopping: bool
    ) -> tuple[str, str | None]:
        pool = ThreadPoolExecutor(max_workers=self.max_parallel)
        try:
            running: dict[Future[str | None], str] = {}
            while True:
                if not stopping and self._stop_requested():
                    stopping = True
                    # As SageMaker stops a running step's job on StopPipelineExecution.
                    self.abort("stopped on request (StopPipelineExecution)")
                progressed = failure is None and not stopping
                while progressed:  # steps that finish at once (conditions, cache hits) free others
                    progressed = False
                    for name in sorted(pending):
                        if name in running.values():
                            continue
                        if name in skipped or self.needs[name] & skipped:
                            # Not on the branch the condition chose (or waiting for such a step).
                            pending.discard(name)
                            skipped.add(name)
                            progressed = True
                            continue
                        if self.selected is not None and name not in self.selected and self.needs[name] <= done | skipped:
                            pending.discard(name)  # not selected: its source result, if it has one, stands in
                            progressed = True
                            (done if self._reused(name, skipped) else skipped).add(name)
                            continue
                        if self.needs[name] <= done:
                            pending.discard(name)
                            progressed = True
                            if self.steps[name]["Type"] == "Condition":
                                failure = self._condition(name, skipped) or failure
                                done.add(name)
                                continue
                            if self._reused(name):
                                done.add(name)
                                continue
                            running[pool.submit(self._run_step, name)] = name
                    if failure is not None:
                        break
                if not running:
                    break
                # Wake now and then to see a stop request (StopPipelineExecution from another process).
                finished, _ = wait(running, timeout=STOP_POLL_SECONDS, return_when=FIRST_COMPLETED)
                for future in finished:
                    name = running.pop(future)
                    error = future.result()
                    if error is None:
                        done.add(name)
                    elif failure is None:
                        failure = error
        except BaseException as exc:
            # Stop the scripts first: shutting the pool down waits for the threads that wait for them.
            self.abort(interrupted(exc)[1])
            pool.shutdown(wait=True)
            try:
                for name in sorted(pending):
                    self.record(name, "NotStarted")
            except Exception:  # noqa: BLE001 - the interruption is what gets reported
                pass
            raise
        pool.shutdown(wait=True)
        for name in sorted(pending):
            self.record(name, "NotStarted")
            self.on_event(StepEvent(name, "NotStarted"))
        if stopping:
            return "Stopped", "stopped on request (StopPipelineExecution); steps not started: " + (", ".join(sorted(pending)) or "none")
        if pending and not failure:  # a guard: validation rules out cycles, so this is a bug to see
            failure = f"steps could not be scheduled: {', '.join(sorted(pending))}"
        return ("Failed", failure) if failure else ("Succeeded", None)

    def _stop_requested(self) -> bool:
        with self.lock:
            return self.p.store.status(self.arn) == "Stopping"

    def _reused(self, name: str, skipped: set[str] | None = None) -> bool:
        """A step taken over from the execution being retried or the selective execution's
        source, or from the step cache."""
        origin = None
        if name in self.reuse:
            properties, origin = self.reuse[name]
            how = "from the source execution" if self.selected is not None else "reused from the retried execution"
            if self.steps[name]["Type"] == "Condition" and skipped is not None:  # its branch, as the source chose
                losing = "ElseSteps" if properties.get("Outcome") else "IfSteps"
                skipped.update(s["Name"] for s in self.steps[name]["Arguments"].get(losing, []))
        elif skipped is not None:  # a step the selective execution does not run, absent from its source
            return False
        else:
            hit = self._cache_hit(name)
            if hit is None:
                return False
            properties, origin = hit
            how = "cache hit"
        with self.lock:
            self.ctx.steps[name] = properties
        stamp = now()
        self.record(
            name,
            "Succeeded",
            properties=properties,
            cached_from=origin,
            started_at=stamp,
            ended_at=stamp,
            cache_key=self.cache_keys.get(name),
        )
        self.on_event(StepEvent(name, "Succeeded", f"{how}: {origin.rsplit('/', 1)[-1]}"))
        return True

    def _cache_hit(self, name: str) -> tuple[dict[str, Any], str] | None:
        key = cache_key(self.steps[name], self.ctx, self.p.objects)
        if key is None:
            return None
        self.cache_keys[name] = key
        horizon = datetime.now(timezone.utc) - expire_after(self.steps[name]["CacheConfig"].get("ExpireAfter"))
        with self.lock:
            return self.p.store.cached_result(key, horizon.isoformat(), self.arn)

    def _condition(self, name: str, skipped: set[str]) -> str | None:
        step = self.steps[name]
        self.record(name, "Executing", started_at=now())
        try:
            evaluated = explain(step["Arguments"]["Conditions"], self.ctx)
            outcome = all(condition_holds(c, self.ctx) for c in step["Arguments"]["Conditions"])
        except (EvaluationError, KeyError, ValueError, TypeError) as exc:
            self.record(name, "Failed", failure_reason=str(exc), ended_at=now())
            self.on_event(StepEvent(name, "Failed", str(exc)))
            return f"step {name} failed: {exc}"
        losing = "ElseSteps" if outcome else "IfSteps"
        skipped.update(s["Name"] for s in step["Arguments"].get(losing, []))
        self.ctx.steps[name] = {"Outcome": outcome}
        self.record(name, "Succeeded", properties={"Outcome": outcome, "Evaluated": evaluated}, ended_at=now())
        self.on_event(StepEvent(name, "Succeeded", f"outcome {str(outcome).lower()}: runs {'IfSteps' if outcome else 'ElseSteps'}"))
        return None

    def _attempts(self, name: str, step: dict[str, Any], run: StepRun) -> dict[str, Any]:
        def retrying(attempt: int, wait: float, failed: StepFailed) -> None:
            run.log(f"attempt {attempt - 1} failed ({failed.exception_type}): {failed}")
            run.log(f"attempt {attempt} starts in {wait:g} s (RetryPolicy)")
            self.record(name, "Executing", attempt_count=attempt)
            self.on_event(StepEvent(name, "Executing", f"attempt {attempt} in {wait:g} s after {failed.exception_type}"))

        return with_retries(lambda: HANDLERS[step["Type"]](step, run), step, run, retrying, lambda: self.aborting is not None)

    def _run_step(self, name: str) -> str | None:
        step = self.steps[name]
        work = self.work / name
        work.mkdir(parents=True, exist_ok=True)
        log = work / "step.log"
        log.touch()
        self.record(name, "Executing", started_at=now(), log_path=str(log), attempt_count=1)
        self.on_event(StepEvent(name, "Executing"))
        conn = connect(self.p.workspace)
        run = StepRun(
            self.execution_id,
            self.arn,
            self.p.region,
            self.p.aws,
            self.role,
            self.ctx,
            work,
            ObjectStore(self.p.workspace, conn),
            conn,
            log,
            self.children,
            progress=lambda detail: self.on_event(StepEvent(name, "Executing", detail)),
            interrupted=lambda: self.aborting is not None,
            prefix=job_prefix(step),
            isolation=self.p.choice.mode,
            job_role=job_role(step),
            aws_endpoint=self.aws_endpoint,
        )
        try:
            if self.requests is None:
                self.requests = step_requests(
                    self.pipeline_name, self.definition, self.role, self.p.places, self.ctx.parameters, self.execution_id
                )
            authorize(self.requests, name, conn)
            properties = self._attempts(name, step, run)
        except ExecutionFailed as exc:
            self.record(name, "Failed", failure_reason=str(exc), ended_at=now())
            self.on_event(StepEvent(name, "Failed", str(exc)))
            return str(exc)
        except (StepFailed, EvaluationError, UserError, KeyError, OSError) as exc:
            message = exc.message if isinstance(exc, UserError) else str(exc)
            if self.aborting:  # its script was stopped because the execution was interrupted
                run.log(f"step stopped: {self.aborting}")
                self.record(name, "Stopped", failure_reason=self.aborting, ended_at=now())
                self.on_event(StepEvent(name, "Stopped", self.aborting))
                return f"step {name} stopped: {self.aborting}"
            run.log(f"step failed: {message}")
            self.record(name, "Failed", failure_reason=message, ended_at=now())
            self.on_event(StepEvent(name, "Failed", message))
            return f"step {name} failed: {message}"
        finally:
            conn.close()
        with self.lock:
            self.ctx.steps[name] = properties
        # The key was computed by the cache lookup before the step ran (None when caching is off).
        self.record(name, "Succeeded", properties=properties, ended_at=now(), cache_key=self.cache_keys.get(name))
        self.on_event(StepEvent(name, "Succeeded", step_summary(properties)))
        return None


def job_role(step: dict[str, Any]) -> str | None:
    """The role a step's job runs as: its RoleArn, or a tuning job's training definition's."""
    args = step.get("Arguments") or {}
    role = args.get("RoleArn") or (args.get("TrainingJobDefinition") or {}).get("RoleArn")
    return role if isinstance(role, str) else None


# Where a definition keeps the job name prefix when use_custom_job_prefix is on (the SDK's trim_request_dict).
JOB_NAME_KEYS = ("ProcessingJobName", "TrainingJobName", "TransformJobName")


def job_prefix(step: dict[str, Any]) -> str | None:
    arguments = step.get("Arguments") or {}
    return next((arguments[key] for key in JOB_NAME_KEYS if isinstance(arguments.get(key), str)), None)
