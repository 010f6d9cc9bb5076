"""SageMaker pipelines through boto3: upsert, start (and retry, and selective runs), follow,
executions, their steps and logs, stop.

Upsert sends the compiled definition JSON (the same bytes `sagespec compile` prints) after
uploading the code objects the compile captured, under the very keys the definition names.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import botocore.exceptions

from sagespec.aws.sessions import aws_errors
from sagespec.backends import watch
from sagespec.backends.records import TERMINAL, UpsertResult
from sagespec.backends.sagemaker import buckets, cloudwatch, functions
from sagespec.backends.sagemaker.executions import add_details, execution_of, job_of, when
from sagespec.backends.sagemaker.objects import S3Objects
from sagespec.definition import compact_json, typed_overrides
from sagespec.definition.reuse import selected
from sagespec.diagnostics import UserError

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sagemaker.type_defs import DescribePipelineExecutionResponseTypeDef, PipelineExecutionStepTypeDef, TagTypeDef

    from sagespec.backends.records import StepEvent
    from sagespec.compiler.compiled import CompiledPipeline, Upload
    from sagespec.definition.diff import Change

    # Told each status an execution being waited for takes: (status, DescribePipelineExecution's answer).
    OnStatus: TypeAlias = Callable[[str, DescribePipelineExecutionResponseTypeDef], object]


def _caller(session: boto3.Session) -> str:
    with aws_errors("checking who is calling (sts:GetCallerIdentity)"):
        account: str = session.client("sts").get_caller_identity()["Account"]
    return account


def check_role(session: boto3.Session, role: str) -> None:
    """Fail early when the execution role does not exist in the caller's own account.

    A role in another account, or a caller without iam:GetRole, cannot be checked here; then
    SageMaker itself reports the problem on create.
    """

    parts = role.split(":")
    if len(parts) < 6 or not parts[5].startswith("role/"):
        raise UserError("E6008", f"'{role}' is not an IAM role ARN", hint="arn:<partition>:iam::<account>:role/<name>")
    account, name = parts[4], parts[5].rsplit("/", 1)[-1]
    with aws_errors("checking who is calling (sts:GetCallerIdentity)"):
        caller = session.client("sts").get_caller_identity()["Account"]
    if caller != account:
        return
    try:
        session.client("iam").get_role(RoleName=name)
    except botocore.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "NoSuchEntity":
            raise UserError(
                "E6008",
                f"execution role {role} does not exist in account {account}",
                hint="create it (see `sagespec accounts render`) or pass --role with an existing role",
            ) from None


def upsert(session: boto3.Session, compiled: CompiledPipeline, role: str | None = None) -> UpsertResult:
    role = role or compiled.role
    if not role:
        raise UserError(
            "E6008", f"pipeline '{compiled.name}' has no execution role", hint="set session.role in the spec or pass --role ARN"
        )
    check_role(session, role)
    # Before the pipeline, as the SDK's LambdaStep creates its function while the definition is written.
    changed = [c.done for c in functions.upsert(session, compiled.functions, _caller(session))] if compiled.functions else []
    uploaded, unchanged = upload(session, compiled)
    sm = session.client("sagemaker")
    tags: list[TagTypeDef] = [{"Key": k, "Value": v} for k, v in sorted(compiled.tags.items())]
    common: dict[str, Any] = {"PipelineName": compiled.name, "PipelineDefinition": compact_json(compiled.definition), "RoleArn": role}
    if compiled.description:
        common["PipelineDescription"] = compiled.description
    if compiled.max_parallel_steps:
        common["ParallelismConfiguration"] = {"MaxParallelExecutionSteps": compiled.max_parallel_steps}
    try:
        existing = sm.describe_pipeline(PipelineName=compiled.name)
    except botocore.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in ("ResourceNotFound", "ValidationException"):
            with aws_errors(f"describing pipeline {compiled.name}"):
                raise
        existing = None
    if existing is None:
        with aws_errors(f"creating pipeline {compiled.name}"):
            arn = sm.create_pipeline(**common, Tags=tags, ClientRequestToken=str(uuid.uuid4()))["PipelineArn"]
        return UpsertResult("created", arn, uploaded, unchanged, functions=changed)
    with aws_errors(f"updating pipeline {compiled.name}"):
        arn = sm.update_pipeline(**common)["PipelineArn"]
        if tags:
            sm.add_tags(ResourceArn=arn, Tags=tags)
    return UpsertResult("updated", arn, uploaded, unchanged, functions=changed)


def upload(session: boto3.Session, compiled: CompiledPipeline) -> tuple[list[str], list[str]]:
    """Put the code objects and the definition at their keys; (uploaded, already there) URIs."""
    s3 = session.client("s3")
    uploaded: list[str] = []
    unchanged: list[str] = []
    for item in [*compiled.uploads, compiled.definition_upload]:
        # Code and definition keys are content hashes: an object already at the key holds these very
        # bytes. A fixed key (compiler.compiled.Upload) may hold an older content: put every time.
        if not item.fixed_key and _exists(s3, item):
            unchanged.append(item.uri)
            continue
        with aws_errors(f"uploading {item.uri}"):
            s3.put_object(Bucket=item.bucket, Key=item.key, Body=item.body, **item.extra)
        uploaded.append(item.uri)
    return uploaded, unchanged


def _exists(s3: S3Client, upload: Upload) -> bool:
    try:
        s3.head_object(Bucket=upload.bucket, Key=upload.key)
        return True
    except botocore.exceptions.ClientError:
        return False  # missing, or not allowed to look: upload


def deployed_definition(session: boto3.Session, name: str) -> dict[str, Any]:
    with aws_errors(f"describing pipeline {name}"):
        described = session.client("sagemaker").describe_pipeline(PipelineName=name)
    definition: dict[str, Any] = json.loads(described["PipelineDefinition"])
    return definition


def start(session: boto3.Session, name: str, overrides: dict[str, str], display_name: str | None = None, **settings: Any) -> str:
    """StartPipelineExecution with type-checked parameter overrides; `settings`: ParallelismConfiguration,
    SelectiveExecutionConfig."""
    parameters = typed_overrides(deployed_definition(session, name), overrides, name)
    request: dict[str, Any] = {"PipelineName": name, "PipelineParameters": parameters, "ClientRequestToken": str(uuid.uuid4()), **settings}
    if display_name:
        request["PipelineExecutionDisplayName"] = display_name
    with aws_errors(f"starting pipeline {name}"):
        return session.client("sagemaker").start_pipeline_execution(**request)["PipelineExecutionArn"]


def wait(
    session: boto3.Session,
    execution_arn: str,
    on_status: OnStatus | None = None,
    poll_seconds: float = 15.0,
    timeout_seconds: float = 6 * 3600,
) -> DescribePipelineExecutionResponseTypeDef:
    """Poll until the execution ends; UserError E6009 unless it Succeeded."""
    final = _poll(session, execution_arn, on_status, poll_seconds, timeout_seconds)
    if final["PipelineExecutionStatus"] != "Succeeded":
        reason = final.get("FailureReason", "")
        raise UserError("E6009", f"execution {execution_arn} ended {final['PipelineExecutionStatus']}" + (f": {reason}" if reason else ""))
    return final


def _poll(
    session: boto3.Session, execution_arn: str, on_status: OnStatus | None, poll_seconds: float, timeout_seconds: float
) -> DescribePipelineExecutionResponseTypeDef:
    sm = session.client("sagemaker")
    deadline = time.monotonic() + timeout_seconds
    last: str | None = None
    while True:
        with aws_errors(f"describing execution {execution_arn}"):
            described = sm.describe_pipeline_execution(PipelineExecutionArn=execution_arn)
        status = described["PipelineExecutionStatus"]
        if status != last and on_status:
            on_status(status, described)
        last = status
        if status in TERMINAL:
            return described
        if time.monotonic() > deadline:
            raise UserError("E6009", f"execution {execution_arn} still {status} after {timeout_seconds:.0f} s")
        time.sleep(poll_seconds)


class SageMakerPipelines:
    """The pipelines backend of SageMaker (see sagespec.backends.protocols.Pipelines)."""

    label = "SageMaker"
    runs_here = False

    def isolation(self) -> str | None:
        return None  # the jobs run in SageMaker's containers

    def __init__(self, session: boto3.Session):
        self.session = session

    def upsert(self, compiled: CompiledPipeline, role: str | None = None) -> UpsertResult:
        return upsert(self.session, compiled, role)

    def deployed_definition(self, name: str) -> dict[str, Any]:
        return deployed_definition(self.session, name)

    def function_changes(self, compiled: CompiledPipeline) -> list[Change]:
        return functions.function_changes(self.session, compiled.functions)

    def upload(self, compiled: CompiledPipeline) -> UpsertResult:
        """The code and the definition only, for a CloudFormation stack to create the pipeline from."""
        uploaded, unchanged = upload(self.session, compiled)
        return UpsertResult("uploaded", compiled.definition_upload.uri, uploaded, unchanged)

    def missing_buckets(self, compiled: CompiledPipeline) -> list[str]:
        return buckets.missing(self.session, sorted({u.bucket for u in [*compiled.uploads, compiled.definition_upload]}))

    def create_bucket(self, bucket: str, region: str, kms_key: str | None, policy: dict[str, Any] | None) -> list[str]:
        return buckets.create(self.session, bucket, region, kms_key, policy)

    def caller_account(self) -> str:
        return _caller(self.session)

    def seed(self, uri: str, source: Path) -> bool:
        """Put `source` at `uri` unless an object is already there."""
        objects = S3Objects(self.session)
        if objects.exists(uri):
            return False
        objects.put(uri, source.read_bytes())
        return True

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
        """Start an execution and return at once: StartPipelineExecution, or RetryPipelineExecution
        of `retry` (the same execution runs again from its failed steps, with its parameters)."""
        sm = self.session.client("sagemaker")
        parallelism: dict[str, Any] = (
            {"ParallelismConfiguration": {"MaxParallelExecutionSteps": max_parallel_steps}} if max_parallel_steps else {}
        )
        if retry:
            previous = self.describe_execution(retry, details=False)
            if previous["pipeline"] != name:
                raise UserError("E6012", f"execution {retry} belongs to pipeline {previous['pipeline']}, not {name}", exit_code=2)
            # The API reference names no states; refused here is what cannot be meant: a retry of
            # an execution that succeeded (nothing failed) or has not ended yet.
            if previous["status"] == "Succeeded":
                raise UserError("E6012", f"execution {retry} succeeded; there is nothing to retry")
            if previous["status"] not in TERMINAL:
                raise UserError("E6012", f"execution {retry} is {previous['status']}; retry it once it has ended")
            if overrides:
                raise UserError("E6012", "a retry runs with the execution's own parameters; --param does not apply", exit_code=2)
            with aws_errors(f"retrying execution {retry}"):
                arn = sm.retry_pipeline_execution(PipelineExecutionArn=retry, ClientRequestToken=str(uuid.uuid4()), **parallelism)[
                    "PipelineExecutionArn"
                ]
            return {"arn": arn, "status": "Executing", "pipeline": name}
        selective: dict[str, Any] = {}
        if selected_steps:
            source = self.describe_execution(source_execution, details=False) if source_execution else None
            selected(name, self.deployed_definition(name), selected_steps, source)
            config: dict[str, Any] = {"SelectedSteps": [{"StepName": s} for s in selected_steps]}
            if source:
                config["SourcePipelineExecutionArn"] = source["arn"]
            selective = {"SelectiveExecutionConfig": config}
        arn = start(self.session, name, overrides, display_name, **parallelism, **selective)
        return {"arn": arn, "status": "Executing", "pipeline": name}

    def wait(self, arn: str, on_status: OnStatus | None = None) -> dict[str, Any]:
        """Poll until the execution ends (E6009 unless it succeeded); its description without the steps."""
        return execution_of(wait(self.session, arn, on_status), [], {})

    def follow(self, arn: str, on_event: Callable[[StepEvent], None], sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
        """Report each step's status change until the execution ends; then its whole description."""
        watch.follow(lambda: self.describe_execution(arn, details=False), on_event, sleep=sleep)
        return self.describe_execution(arn)

    def describe_execution(self, arn: str, details: bool = True) -> dict[str, Any]:
        """The execution with its steps; with `details` also its parameters and what each finished
        step made (a training job's metrics, a registered version's status, a condition's values)."""
        sm = self.session.client("sagemaker")
        with aws_errors(f"describing execution {arn}"):
            described = sm.describe_pipeline_execution(PipelineExecutionArn=arn)
        summaries = self._step_summaries(arn)
        if not details:
            return execution_of(described, summaries, {})
        with aws_errors(f"reading the parameters of execution {arn}"):
            parameters = {
                p["Name"]: p["Value"]
                for page in sm.get_paginator("list_pipeline_parameters_for_execution").paginate(PipelineExecutionArn=arn)
                for p in page["PipelineParameters"]
            }
        return add_details(self.session, execution_of(described, summaries, parameters))

    def _step_summaries(self, arn: str) -> list[PipelineExecutionStepTypeDef]:
        sm = self.session.client("sagemaker")
        with aws_errors(f"listing the steps of execution {arn}"):
            return [
                summary
                for page in sm.get_paginator("list_pipeline_execution_steps").paginate(PipelineExecutionArn=arn, SortOrder="Ascending")
                for summary in page["PipelineExecutionSteps"]
            ]

    def list_executions(self, name: str | None = None) -> list[dict[str, Any]]:
        sm = self.session.client("sagemaker")
        with aws_errors("listing pipelines"):
            names = (
                [name]
                if name
                else [p["PipelineName"] for page in sm.get_paginator("list_pipelines").paginate() for p in page["PipelineSummaries"]]
            )
        found: list[dict[str, Any]] = []
        for pipeline in names:
            with aws_errors(f"listing executions of pipeline {pipeline}"):
                for page in sm.get_paginator("list_pipeline_executions").paginate(PipelineName=pipeline):
                    found += [
                        {
                            "arn": e["PipelineExecutionArn"],
                            "pipeline": pipeline,
                            "status": e["PipelineExecutionStatus"],
                            "started_at": when(e.get("StartTime")),
                            "ended_at": None,  # ListPipelineExecutions does not say; `executions describe` does
                            # only an execution that failed or stopped has one (moto fills in "None" otherwise)
                            "failure_reason": e.get("PipelineExecutionFailureReason")
                            if e["PipelineExecutionStatus"] in ("Failed", "Stopped")
                            else None,
                        }
                        for e in page["PipelineExecutionSummaries"]
                    ]
        return sorted(found, key=lambda e: e["started_at"] or "", reverse=True)

    def _job_log(self, execution: str, step: str) -> tuple[str, str, PipelineExecutionStepTypeDef]:
        """(log group, job name, step summary) of the job `step` ran."""
        summary = next((s for s in self._step_summaries(execution) if s["StepName"] == step), None)
        if summary is None:
            raise UserError("E6005", f"execution {execution} has no step {step}")
        job = job_of(summary)
        group = cloudwatch.log_group(job[0]) if job else None
        if job is None or group is None:
            kind = summary.get("StepType") or next(iter(summary.get("Metadata") or {}), "no job")
            raise UserError("E6005", f"step {step} ({kind}) of {execution} ran no job with CloudWatch logs")
        return group, job[1], summary

    def logs(self, execution: str, step: str) -> str:
        group, job, _ = self._job_log(execution, step)
        return cloudwatch.read(self.session.client("logs"), group, job)

    def follow_logs(self, execution: str, step: str, sleep: Callable[[float], None] = time.sleep) -> Iterator[str]:
        """The step's log lines as its job writes them, until the step has ended."""
        group, job, _ = self._job_log(execution, step)

        def ended() -> bool:
            summary = next(s for s in self._step_summaries(execution) if s["StepName"] == step)
            return summary.get("StepStatus") in ("Succeeded", "Failed", "Stopped")

        yield from cloudwatch.follow(self.session.client("logs"), group, job, ended, sleep=sleep)

    def stop(self, execution: str) -> dict[str, Any]:
        with aws_errors(f"stopping execution {execution}"):
            self.session.client("sagemaker").stop_pipeline_execution(PipelineExecutionArn=execution, ClientRequestToken=str(uuid.uuid4()))
        return self.describe_execution(execution, details=False)

    def send_success(self, token: str, outputs: dict[str, str]) -> dict[str, Any]:
        request: dict[str, Any] = {
            "CallbackToken": token,
            "OutputParameters": [{"Name": k, "Value": v} for k, v in outputs.items()],
            "ClientRequestToken": str(uuid.uuid4()),
        }
        with aws_errors(f"answering callback {token}"):
            arn = self.session.client("sagemaker").send_pipeline_execution_step_success(**request)["PipelineExecutionArn"]
        return {"execution": arn, "step": "(callback)", "status": "Succeeded"}

    def send_failure(self, token: str, reason: str) -> dict[str, Any]:
        request = {"CallbackToken": token, "FailureReason": reason[:256], "ClientRequestToken": str(uuid.uuid4())}
        with aws_errors(f"answering callback {token}"):
            arn = self.session.client("sagemaker").send_pipeline_execution_step_failure(**request)["PipelineExecutionArn"]
        return {"execution": arn, "step": "(callback)", "status": "Failed"}
