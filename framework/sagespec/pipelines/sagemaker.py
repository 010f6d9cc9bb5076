"""SageMaker pipelines through boto3: upsert, start, wait, executions, their steps and logs, stop.

Upsert sends the compiled definition JSON (the same bytes `sagespec compile` prints) after
uploading the code objects the compile captured, under the very keys the definition names.
"""

from __future__ import annotations

import json
import re
import time
import uuid

from sagespec.aws import aws_errors
from sagespec.definition import compact_json, typed_overrides
from sagespec.diagnostics import UserError
from sagespec.pipelines import TERMINAL, UpsertResult


def check_role(session, role: str) -> None:
    """Fail early when the execution role does not exist in the caller's own account.

    A role in another account, or a caller without iam:GetRole, cannot be checked here; then
    SageMaker itself reports the problem on create.
    """
    import botocore.exceptions

    parts = role.split(":")
    if len(parts) < 6 or not parts[5].startswith("role/"):
        raise UserError("E6008", f"'{role}' is not an IAM role ARN", hint="arn:aws:iam::<account>:role/<name>")
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


def upsert(session, compiled, role: str | None = None) -> UpsertResult:
    import botocore.exceptions

    role = role or compiled.role
    if not role:
        raise UserError(
            "E6008", f"pipeline '{compiled.name}' has no execution role", hint="set session.role in the spec or pass --role ARN"
        )
    check_role(session, role)
    s3 = session.client("s3")
    uploaded, unchanged = [], []
    for upload in compiled.uploads:
        # Code keys are content hashes: an object already at the key holds these very files.
        if _exists(s3, upload):
            unchanged.append(upload.uri)
            continue
        with aws_errors(f"uploading {upload.uri}"):
            s3.put_object(Bucket=upload.bucket, Key=upload.key, Body=upload.body, **upload.extra)
        uploaded.append(upload.uri)
    sm = session.client("sagemaker")
    tags = [{"Key": k, "Value": v} for k, v in sorted(compiled.tags.items())]
    common = {"PipelineName": compiled.name, "PipelineDefinition": compact_json(compiled.definition), "RoleArn": role}
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
        return UpsertResult("created", arn, uploaded, unchanged)
    with aws_errors(f"updating pipeline {compiled.name}"):
        arn = sm.update_pipeline(**common)["PipelineArn"]
        if tags:
            sm.add_tags(ResourceArn=arn, Tags=tags)
    return UpsertResult("updated", arn, uploaded, unchanged)


def _exists(s3, upload) -> bool:
    import botocore.exceptions

    try:
        s3.head_object(Bucket=upload.bucket, Key=upload.key)
        return True
    except botocore.exceptions.ClientError:
        return False  # missing, or not allowed to look: upload


def deployed_definition(session, name: str) -> dict:
    with aws_errors(f"describing pipeline {name}"):
        described = session.client("sagemaker").describe_pipeline(PipelineName=name)
    return json.loads(described["PipelineDefinition"])


def start(session, name: str, overrides: dict[str, str], display_name: str | None = None) -> str:
    parameters = typed_overrides(deployed_definition(session, name), overrides, name)
    request = {"PipelineName": name, "PipelineParameters": parameters, "ClientRequestToken": str(uuid.uuid4())}
    if display_name:
        request["PipelineExecutionDisplayName"] = display_name
    with aws_errors(f"starting pipeline {name}"):
        return session.client("sagemaker").start_pipeline_execution(**request)["PipelineExecutionArn"]


def wait(session, execution_arn: str, on_status=None, poll_seconds: float = 15.0, timeout_seconds: float = 6 * 3600) -> dict:
    """Poll until the execution ends; UserError E6009 unless it Succeeded."""
    final = _poll(session, execution_arn, on_status, poll_seconds, timeout_seconds)
    if final["PipelineExecutionStatus"] != "Succeeded":
        reason = final.get("FailureReason", "")
        raise UserError("E6009", f"execution {execution_arn} ended {final['PipelineExecutionStatus']}" + (f": {reason}" if reason else ""))
    return final


def _poll(session, execution_arn: str, on_status, poll_seconds: float, timeout_seconds: float) -> dict:
    sm = session.client("sagemaker")
    deadline = time.monotonic() + timeout_seconds
    last = None
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


def _when(value) -> str | None:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _execution(described: dict, summaries: list[dict], parameters: dict) -> dict:
    """DescribePipelineExecution (+ its steps and parameters) in the keys a local execution has."""
    status = described["PipelineExecutionStatus"]
    return {
        "arn": described["PipelineExecutionArn"],
        "pipeline": described.get("PipelineArn", "").rsplit("/", 1)[-1],
        "status": status,
        "started_at": _when(described.get("CreationTime")),
        "ended_at": _when(described.get("LastModifiedTime")) if status in TERMINAL else None,
        "failure_reason": described.get("FailureReason"),
        "parameters": parameters,
        "steps": [_step(s) for s in summaries],
        "outbox": [],
    }


def _step(summary: dict) -> dict:
    """A ListPipelineExecutionSteps entry in the keys a local execution's step has."""
    metadata = summary.get("Metadata") or {}
    job = next((v for v in metadata.values() if isinstance(v, dict) and "Arn" in v), {})
    condition = metadata.get("Condition") or {}
    properties = {"Metadata": metadata} | ({"Outcome": condition["Outcome"] == "True"} if "Outcome" in condition else {})
    cache = summary.get("CacheHitResult") or {}
    return {
        "name": summary["StepName"],
        "type": summary.get("StepType") or _step_type(metadata),
        "status": summary.get("StepStatus"),
        "failure_reason": summary.get("FailureReason"),
        "started_at": _when(summary.get("StartTime")),
        "ended_at": _when(summary.get("EndTime")),
        "properties": properties,
        "cached_from": cache.get("SourcePipelineExecutionArn"),
        "log_path": None,
        "job_arn": job.get("Arn"),
    }


def _step_type(metadata: dict) -> str:
    # Older responses have no StepType; the metadata key names the kind (TrainingJob, ProcessingJob, ...).
    key = next(iter(metadata), "")
    return {
        "TrainingJob": "Training",
        "ProcessingJob": "Processing",
        "RegisterModel": "RegisterModel",
        "Model": "Model",
        "Condition": "Condition",
        "Fail": "Fail",
        "Lambda": "Lambda",
        "TransformJob": "Transform",
        "TuningJob": "Tuning",
    }.get(key, key)


# CloudWatch Logs groups of SageMaker jobs ("Log Amazon SageMaker Events with Amazon CloudWatch"):
# streams are named <job name>/<host>-<n>...
_LOG_GROUPS = {
    "training-job": "/aws/sagemaker/TrainingJobs",
    "processing-job": "/aws/sagemaker/ProcessingJobs",
    "transform-job": "/aws/sagemaker/TransformJobs",
}


class SageMakerPipelines:
    """The pipelines backend of SageMaker (see sagespec.pipelines.Pipelines)."""

    target = "aws"
    runs_here = False

    def __init__(self, session):
        self.session = session

    def upsert(self, compiled, role: str | None = None) -> UpsertResult:
        return upsert(self.session, compiled, role)

    def deployed_definition(self, name: str) -> dict:
        return deployed_definition(self.session, name)

    def start(self, name: str, overrides: dict[str, str], on_event=None, retry: str | None = None, display_name: str | None = None) -> dict:
        if retry:
            raise UserError(
                "E6012",
                "--retry reruns a local execution; SageMaker's RetryPipelineExecution is not wired up yet",
                hint="start a new execution, or retry it in SageMaker Studio",
                exit_code=2,
            )
        return {"arn": start(self.session, name, overrides, display_name), "status": "Executing", "pipeline": name}

    def wait(self, arn: str, on_status=None) -> dict:
        """Poll until the execution ends (E6009 unless it succeeded); its description without the steps."""
        return _execution(wait(self.session, arn, on_status), [], {})

    def describe_execution(self, arn: str) -> dict:
        sm = self.session.client("sagemaker")
        with aws_errors(f"describing execution {arn}"):
            described = sm.describe_pipeline_execution(PipelineExecutionArn=arn)
        summaries = self._step_summaries(arn)
        with aws_errors(f"reading the parameters of execution {arn}"):
            parameters = {
                p["Name"]: p["Value"]
                for page in sm.get_paginator("list_pipeline_parameters_for_execution").paginate(PipelineExecutionArn=arn)
                for p in page["PipelineParameters"]
            }
        return _execution(described, summaries, parameters)

    def _step_summaries(self, arn: str) -> list[dict]:
        sm = self.session.client("sagemaker")
        with aws_errors(f"listing the steps of execution {arn}"):
            return [
                summary
                for page in sm.get_paginator("list_pipeline_execution_steps").paginate(PipelineExecutionArn=arn, SortOrder="Ascending")
                for summary in page["PipelineExecutionSteps"]
            ]

    def list_executions(self, name: str | None = None) -> list[dict]:
        sm = self.session.client("sagemaker")
        with aws_errors("listing pipelines"):
            names = (
                [name]
                if name
                else [p["PipelineName"] for page in sm.get_paginator("list_pipelines").paginate() for p in page["PipelineSummaries"]]
            )
        found = []
        for pipeline in names:
            with aws_errors(f"listing executions of pipeline {pipeline}"):
                for page in sm.get_paginator("list_pipeline_executions").paginate(PipelineName=pipeline):
                    found += [
                        {
                            "arn": e["PipelineExecutionArn"],
                            "pipeline": pipeline,
                            "status": e["PipelineExecutionStatus"],
                            "started_at": _when(e.get("StartTime")),
                            "ended_at": None,
                            "failure_reason": e.get("PipelineExecutionFailureReason"),
                        }
                        for e in page["PipelineExecutionSummaries"]
                    ]
        return sorted(found, key=lambda e: e["started_at"] or "", reverse=True)

    def logs(self, execution: str, step: str) -> str:
        # Only the steps: the execution's description and parameters are not needed for its logs.
        found = next((_step(s) for s in self._step_summaries(execution) if s["StepName"] == step), None)
        if found is None:
            raise UserError("E6005", f"execution {execution} has no step {step}")
        arn = found.get("job_arn") or ""
        m = re.fullmatch(r"arn:[\w-]+:sagemaker:[\w-]+:\d{12}:(training-job|processing-job|transform-job)/(.+)", arn)
        if not m:
            raise UserError("E6005", f"step {step} ({found['type']}) of {execution} ran no job with CloudWatch logs")
        group, job = _LOG_GROUPS[m.group(1)], m.group(2)
        logs = self.session.client("logs")
        lines = []
        with aws_errors(f"reading the logs of {job} in {group}"):
            streams = [
                s["logStreamName"]
                for page in logs.get_paginator("describe_log_streams").paginate(logGroupName=group, logStreamNamePrefix=f"{job}/")
                for s in page["logStreams"]
            ]
            for stream in sorted(streams):
                token = None
                while True:
                    kwargs = {"logGroupName": group, "logStreamName": stream, "startFromHead": True}
                    if token:
                        kwargs["nextToken"] = token
                    page = logs.get_log_events(**kwargs)
                    lines += [e["message"] for e in page["events"]]
                    if not page["events"] or page.get("nextForwardToken") == token:
                        break
                    token = page.get("nextForwardToken")
        if not streams:
            raise UserError("E6005", f"no log streams of {job} in {group} yet")
        return "\n".join(lines) + "\n"

    def stop(self, execution: str) -> dict:
        with aws_errors(f"stopping execution {execution}"):
            self.session.client("sagemaker").stop_pipeline_execution(PipelineExecutionArn=execution, ClientRequestToken=str(uuid.uuid4()))
        return self.describe_execution(execution)

    def send_success(self, token: str, outputs: dict[str, str]) -> dict:
        request = {
            "CallbackToken": token,
            "OutputParameters": [{"Name": k, "Value": v} for k, v in outputs.items()],
            "ClientRequestToken": str(uuid.uuid4()),
        }
        with aws_errors(f"answering callback {token}"):
            arn = self.session.client("sagemaker").send_pipeline_execution_step_success(**request)["PipelineExecutionArn"]
        return {"execution": arn, "step": "(callback)", "status": "Succeeded"}

    def send_failure(self, token: str, reason: str) -> dict:
        request = {"CallbackToken": token, "FailureReason": reason[:256], "ClientRequestToken": str(uuid.uuid4())}
        with aws_errors(f"answering callback {token}"):
            arn = self.session.client("sagemaker").send_pipeline_execution_step_failure(**request)["PipelineExecutionArn"]
        return {"execution": arn, "step": "(callback)", "status": "Failed"}
