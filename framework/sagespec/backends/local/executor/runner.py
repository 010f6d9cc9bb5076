"""Local pipelines: upsert a compiled definition, run executions of it.

The runner schedules the definition's steps by their data dependencies (`Get Steps.X...`),
`DependsOn` and condition branches, running independent steps in parallel threads (each step's
script is its own process). A failed step fails the execution and its dependants never start;
a Fail step ends the execution Failed with its message; a condition runs one branch.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sagespec.accounts.places import Places
from sagespec.aws import arns
from sagespec.backends.functions import changes as function_changes
from sagespec.backends.local.aws_endpoint.server import aws_endpoint
from sagespec.backends.local.database import now
from sagespec.backends.local.executor import callback, lambda_function, quality, training, transform, tuning  # noqa: F401  (register their handlers)
from sagespec.backends.local.executor.execution import DEFAULT_PARALLEL_STEPS, Execution
from sagespec.backends.local.executor.faults import interrupted, termination_as_interrupt
from sagespec.backends.local.executor.isolation import Choice, choose
from sagespec.backends.local.executor.preflight import unrunnable_steps
from sagespec.backends.local.functions import LocalFunctions
from sagespec.backends.local.objects import ObjectStore
from sagespec.backends.local.pipelines import PipelineStore
from sagespec.backends.records import TERMINAL, StepEvent, UpsertResult
from sagespec.backends.watch import Backoff, follow, follow_file
from sagespec.definition import execution_parameters, steps
from sagespec.definition.reuse import retried, selected
from sagespec.diagnostics import UserError

if TYPE_CHECKING:
    from sagespec.compiler.compiled import CompiledPipeline
    from sagespec.definition.diff import Change


class LocalPipelines:
    """The pipelines backend of the local control plane (see sagespec.backends.pipelines.Pipelines)."""

    label = "local"
    runs_here = True

    def __init__(self, workspace: Path, places: Places, isolation: str | None = None):
        self.workspace = workspace
        self.requested_isolation = isolation  # $SAGESPEC_ISOLATION through the context; None: the first mode available
        self.places = places  # the partition and region, and what the accounts file adds to the IAM checks of each step
        self.region, self.aws = places.region, places.aws
        self.store = PipelineStore(workspace)
        self.conn = self.store.conn
        self.objects = ObjectStore(workspace, self.conn)

    # -- upsert ----------------------------------------------------------------------------
    def upsert(self, compiled: CompiledPipeline, role: str | None = None) -> UpsertResult:
        """Store the code objects and the definition (a new version only when it changed)."""
        uploaded: list[str] = []
        unchanged: list[str] = []
        for upload in compiled.uploads:
            if self.objects.exists(upload.uri) and self.objects.sha256(upload.uri) == hashlib.sha256(upload.body).hexdigest():
                unchanged.append(upload.uri)
                continue
            self.objects.put(upload.uri, upload.body)
            uploaded.append(upload.uri)
        role = role or compiled.role
        arn = self.aws.sagemaker(compiled.region, arns.account_of(role), f"pipeline/{compiled.name}")
        functions = [
            f"{f.arn}: {LocalFunctions(self.workspace).put(f)}" for f in compiled.functions
        ]  # before the pipeline, as on SageMaker
        version, new = self.store.put_definition(
            compiled.name, arn, role, compiled.description, compiled.definition_json, compiled.max_parallel_steps
        )
        return UpsertResult("stored" if new else "unchanged", arn, uploaded, unchanged, version, functions)

    def deployed_definition(self, name: str) -> dict[str, Any]:
        return self.store.pipeline(name)[1]

    def function_changes(self, compiled: CompiledPipeline) -> list[Change]:
        stored = LocalFunctions(self.workspace)
        found: list[Change] = []
        for function in compiled.functions:
            current = stored.get(function.arn)
            found += function_changes(function, current.configuration if current else None)
        return found

    def missing_buckets(self, compiled: CompiledPipeline) -> list[str]:
        return []  # the local object store holds every bucket

    def create_bucket(self, bucket: str, region: str, kms_key: str | None, policy: dict[str, Any] | None) -> list[str]:
        return []  # every bucket exists here

    def caller_account(self) -> str:
        raise UserError(
            "E6015", "the local control plane has no caller of its own: each command acts as the role it names (--as)", exit_code=2
        )

    def upload(self, compiled: CompiledPipeline) -> UpsertResult:
        raise UserError(
            "E6015",
            "--upload-only prepares a CloudFormation deployment: use it with --target aws",
            hint="locally, `sagespec upsert SPEC` stores the pipeline itself",
            exit_code=2,
        )

    @functools.cached_property
    def choice(self) -> Choice:
        """The isolation mode of this run's jobs, chosen once (sagespec.backends.local.executor.isolation)."""
        return choose(self.requested_isolation)

    def isolation(self) -> str | None:
        return self.choice.header

    # -- data the bundled run needs ----------------------------------------------------------
    def seed(self, uri: str, source: Path) -> bool:
        if self.objects.exists(uri):
            return False
        self.objects.put_file(uri, source)
        return True

    # -- executions ------------------------------------------------------------------------
    def start(
        self,
        name: str,
        overrides: dict[str, str],
        on_event: Callable[[StepEvent], None] | None = None,
        retry: str | None = None,
        display_name: str | None = None,
        max_parallel_steps: int | None = None,
        selected_steps: list[str] | None = None,
        source_execution: str | None = None,
    ) -> dict[str, Any]:
        """Run an execution to its end. With `retry`, the steps that succeeded in that execution
        (and whose definition is unchanged) are reused and the rest run again, with its parameters.
        With `selected_steps`, only those run; the others keep their results in `source_execution`
        (SelectiveExecutionConfig). `max_parallel_steps` overrides the pipeline's ParallelismConfiguration."""
        pipeline, current, version = self.store.pipeline(name)
        reuse: dict[str, tuple[dict[str, Any], str]] = {}
        retry_arn: str | None = None
        base: dict[str, Any] | None = None
        selective: tuple[str | None, list[str]] | None = None
        if selected_steps:
            source = self.describe_execution(source_execution) if source_execution else None
            reuse = selected(name, current, selected_steps, source)
            selective = (source["arn"] if source else None, list(selected_steps))
        if retry:
            previous = self.describe_execution(retry)
            retry_arn, base = previous["arn"], previous["parameters"]
            reuse = retried(name, previous, self.store.definition(name, previous["definition_version"]), current)
        parameters = execution_parameters(current, overrides, name, base)
        runs = set(selected_steps or steps(current)) - set(reuse)
        unrunnable = [(step, why) for step, why in unrunnable_steps(steps(current), self.workspace) if step in runs]
        if unrunnable:  # before anything is stored: the execution would fail at that step
            listed = "; ".join(f"step '{step}': {why}" for step, why in unrunnable)
            raise UserError("E6019", f"pipeline {name} cannot run here: {listed}")
        execution_id = secrets.token_hex(6)
        arn = f"{pipeline['arn']}/execution/{execution_id}"
        started = now()
        parallel = max_parallel_steps or pipeline.get("max_parallel_steps") or DEFAULT_PARALLEL_STEPS
        self.store.begin_execution(arn, name, version, parameters, retry_arn, started, max_parallel_steps or None, selective)
        execution = Execution(self, pipeline, current, parameters, execution_id, arn, started, on_event or (lambda e: None), reuse)
        execution.max_parallel, execution.selected = parallel, set(selected_steps) if selected_steps else None
        try:
            with termination_as_interrupt(), aws_endpoint(self.workspace, self.places) as endpoint:
                execution.aws_endpoint = endpoint
                status, reason = execution.run()
        except BaseException as exc:  # Ctrl-C, SIGTERM, a closed pipe, a full disk, a bug: never left Executing
            status, reason = interrupted(exc)
            try:
                self.store.end_execution(arn, status, reason, running_steps=status)
            except Exception:  # noqa: BLE001 - e.g. the disk is full: a later command fails it as an orphan
                pass
            raise
        self.store.end_execution(arn, status, reason)
        return self.describe_execution(arn)

    def wait(self, arn: str, on_status: Callable[..., object] | None = None) -> dict[str, Any]:
        """Local executions run to their end in `start`: there is nothing to wait for."""
        return self.describe_execution(arn)

    def follow(self, arn: str, on_event: Callable[[StepEvent], None], sleep: Callable[[float], None] | None = None) -> dict[str, Any]:
        """Report each step change of an execution another process runs, until it ends."""

        settings: dict[str, Any] = {"sleep": sleep} if sleep else {}
        return follow(lambda: self.describe_execution(arn), on_event, Backoff(0.5, 1.5, 5.0), **settings)

    def describe_execution(self, arn: str) -> dict[str, Any]:
        return self.store.describe_execution(arn)

    def list_executions(self, name: str | None = None) -> list[dict[str, Any]]:
        return self.store.list_executions(name)

    def logs(self, execution: str, step: str) -> str:
        found = next((s for s in self.describe_execution(execution)["steps"] if s["name"] == step), None)
        if found is None:
            raise UserError("E6005", f"execution {execution} has no step {step}")
        if not found["log_path"]:
            origin = f"; its result came from {found['cached_from']}" if found.get("cached_from") else ""
            raise UserError("E6005", f"step {step} of execution {execution} ran no job and has no log{origin}")
        return Path(found["log_path"]).read_text(encoding="utf-8", errors="replace")

    def follow_logs(self, execution: str, step: str, sleep: Callable[[float], None] | None = None) -> Iterator[str]:
        """The step's log as it is written, until the step has ended (the run is another process)."""

        def state() -> tuple[str | None, bool]:
            found = next((s for s in self.describe_execution(execution)["steps"] if s["name"] == step), None)
            if found is None and self.describe_execution(execution)["status"] in TERMINAL:
                raise UserError("E6005", f"execution {execution} has no step {step}")
            return (found or {}).get("log_path"), found is not None and found["status"] not in ("Executing", "Stopping")

        settings: dict[str, Any] = {"sleep": sleep} if sleep else {}
        return follow_file(state, **settings)

    def stop(self, execution: str) -> dict[str, Any]:
        return self.store.request_stop(execution)

    def send_success(self, token: str, outputs: dict[str, str]) -> dict[str, Any]:
        return callback.send_success(self.store, token, outputs)

    def send_failure(self, token: str, reason: str) -> dict[str, Any]:
        return callback.send_failure(self.store, token, reason)
