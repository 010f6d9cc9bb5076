"""SageMaker pipelines through boto3: upsert, start, describe, wait.

Upsert sends the compiled definition JSON (the same bytes `sagespec compile` prints) after
uploading the code objects the compile captured, under the very keys the definition names.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass

from sagespec.aws import aws_errors
from sagespec.diagnostics import UserError

TERMINAL = ("Succeeded", "Failed", "Stopped")


@dataclass
class UpsertResult:
    action: str  # created | updated
    arn: str
    uploaded: list[str]
    unchanged: list[str]


def _compact(definition: dict) -> str:
    # SageMaker limits PipelineDefinition to 100 KB; compact and sorted, still deterministic.
    return json.dumps(definition, sort_keys=True, separators=(",", ":"))


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
            raise UserError("E6008", f"execution role {role} does not exist in account {account}",
                            hint="create it (see `sagespec accounts render`) or pass --role with an existing role") from None


def upsert(session, compiled, role: str | None = None) -> UpsertResult:
    import botocore.exceptions

    role = role or compiled.role
    if not role:
        raise UserError("E6008", f"pipeline '{compiled.name}' has no execution role",
                        hint="set session.role in the spec or pass --role ARN")
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
    common = {"PipelineName": compiled.name, "PipelineDefinition": _compact(compiled.definition), "RoleArn": role}
    if compiled.description:
        common["PipelineDescription"] = compiled.description
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


def typed_overrides(definition: dict, overrides: dict[str, str], pipeline: str) -> list[dict]:
    """Check --param NAME=VALUE against the pipeline's declared parameters; SageMaker wants strings."""
    declared = {p["Name"]: p for p in definition.get("Parameters", [])}
    out = []
    for name, value in overrides.items():
        if name not in declared:
            raise UserError("E6006", f"pipeline '{pipeline}' has no parameter '{name}'",
                            hint=f"its parameters: {', '.join(declared) or 'none'}", exit_code=2)
        kind = declared[name]["Type"]
        try:
            if kind == "Integer":
                value = str(int(value))
            elif kind == "Float":
                value = repr(float(value))
            elif kind == "Boolean":
                if value.lower() not in ("true", "false"):
                    raise ValueError
                value = value.lower()
        except ValueError:
            raise UserError("E6007", f"parameter '{name}' of pipeline '{pipeline}' is {kind}; '{value}' is not",
                            exit_code=2) from None
        enum = declared[name].get("EnumValues")
        if enum and value not in enum:
            raise UserError("E6007", f"parameter '{name}' must be one of {', '.join(enum)}; got '{value}'", exit_code=2)
        out.append({"Name": name, "Value": value})
    return out


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
