"""A pipeline's schedule on EventBridge Scheduler: CreateSchedule / UpdateSchedule with a
SageMaker pipeline target ("Use templated targets": SageMakerPipelineParameters).

The schedule assumes the accounts file's scheduler role (`sagespec accounts render` renders it in
the pipeline's account: trusted by scheduler.amazonaws.com for that account only, allowed
sagemaker:StartPipelineExecution on the scheduled pipelines and nothing else).
"""

from __future__ import annotations

import uuid

from sagespec.aws import aws_errors

SCHEDULER_ROLE = "sagespec-scheduler"


def account_of(role_arn: str) -> tuple[str, str]:
    """(partition, account) of an IAM role ARN."""
    parts = role_arn.split(":")
    return parts[1], parts[4]


def scheduler_role_arn(pipeline_role_arn: str, account: str | None = None) -> str:
    partition, role_account = account_of(pipeline_role_arn)
    return f"arn:{partition}:iam::{account or role_account}:role/{SCHEDULER_ROLE}"


def pipeline_arn(compiled, account: str | None = None) -> str:
    """The pipeline's ARN in `account` (default: its execution role's account, where the accounts
    file runs its pipelines)."""
    partition, role_account = account_of(compiled.role)
    return f"arn:{partition}:sagemaker:{compiled.region}:{account or role_account}:pipeline/{compiled.name}"


def request(compiled, role_arn: str, account: str | None = None) -> dict:
    """CreateSchedule's (and UpdateSchedule's) request for the compiled pipeline's schedule."""
    schedule = compiled.schedule
    body = {
        "Name": schedule["Name"],
        "ScheduleExpression": schedule["ScheduleExpression"],
        "ScheduleExpressionTimezone": schedule["ScheduleExpressionTimezone"],
        "State": schedule["State"],
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "Target": {
            "Arn": pipeline_arn(compiled, account),
            "RoleArn": role_arn,
            "SageMakerPipelineParameters": {"PipelineParameterList": schedule["PipelineParameterList"]},
        },
    }
    if schedule.get("Description"):
        body["Description"] = schedule["Description"]
    return body


def apply(session, compiled, role_arn: str | None = None) -> tuple[str, str, dict]:
    """Create the schedule in the caller's account (a schedule starts a pipeline of its own account),
    or replace it where it exists; (created | updated, schedule ARN, the request)."""
    import botocore.exceptions

    with aws_errors("checking who is calling (sts:GetCallerIdentity)"):
        account = session.client("sts").get_caller_identity()["Account"]
    scheduler = session.client("scheduler")
    body = request(compiled, role_arn or scheduler_role_arn(compiled.role, account), account)
    name = body["Name"]
    try:
        scheduler.get_schedule(Name=name)
        exists = True
    except botocore.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            with aws_errors(f"reading schedule {name}"):
                raise
        exists = False
    if exists:
        with aws_errors(f"updating schedule {name}"):
            return "updated", scheduler.update_schedule(**body, ClientToken=str(uuid.uuid4()))["ScheduleArn"], body
    with aws_errors(f"creating schedule {name}"):
        return "created", scheduler.create_schedule(**body, ClientToken=str(uuid.uuid4()))["ScheduleArn"], body
