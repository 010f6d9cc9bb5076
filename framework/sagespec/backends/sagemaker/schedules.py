"""A pipeline's schedule on EventBridge Scheduler: CreateSchedule, or UpdateSchedule where it
exists (the request is sagespec.compiler.schedules')."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import botocore.exceptions

from sagespec.accounts.render import scheduler_role_arn
from sagespec.aws.sessions import aws_errors
from sagespec.compiler.compiled import CompiledPipeline
from sagespec.compiler.schedules import schedule_request

if TYPE_CHECKING:
    import boto3


class EventBridgeSchedules:
    def __init__(self, session: boto3.Session):
        self.session = session

    def apply(self, compiled: CompiledPipeline, role_arn: str | None = None) -> tuple[str, str, dict[str, Any]]:
        """Create the schedule in the caller's account (a schedule starts a pipeline of its own
        account), or replace it where it exists; (created | updated, schedule ARN, the request)."""
        with aws_errors("checking who is calling (sts:GetCallerIdentity)"):
            account = self.session.client("sts").get_caller_identity()["Account"]
        scheduler = self.session.client("scheduler")
        body = schedule_request(compiled, role_arn or scheduler_role_arn(compiled.role, account), account)
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
