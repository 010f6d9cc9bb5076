"""A compiled pipeline's schedule on EventBridge Scheduler: the spec's `schedule:` as
CreateSchedule takes it, with a SageMaker pipeline target ("Use templated targets":
SageMakerPipelineParameters). The schedule assumes the accounts file's scheduler role
(sagespec.accounts.render renders it: trusted by scheduler.amazonaws.com for that account only,
allowed sagemaker:StartPipelineExecution on the scheduled pipelines and nothing else).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sagespec.aws.schedule_expressions import of_spec
from sagespec.definition import typed_overrides

if TYPE_CHECKING:
    from sagespec.compiler.compiled import CompiledPipeline


def schedule_of(data: dict[str, Any], definition: dict[str, Any]) -> dict[str, Any] | None:
    """The spec's `schedule:` as EventBridge Scheduler's CreateSchedule takes it (the schedule is
    named after the pipeline; its parameters typed as StartPipelineExecution takes them)."""
    spec = data.get("schedule")
    if not spec:
        return None
    kind = "cron" if "cron" in spec else "rate"
    given = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in (spec.get("parameters") or {}).items()}
    schedule: dict[str, Any] = {
        "Name": data["name"],
        "ScheduleExpression": of_spec(kind, spec[kind]).expression,
        "ScheduleExpressionTimezone": spec.get("timezone", "UTC"),
        "State": "ENABLED" if spec.get("enabled", True) else "DISABLED",
        "PipelineParameterList": typed_overrides(definition, given, data["name"]),
    }
    if spec.get("description"):
        schedule["Description"] = spec["description"]
    return schedule


def schedule_request(compiled: CompiledPipeline, role_arn: str, account: str | None = None) -> dict[str, Any]:
    """CreateSchedule's (and UpdateSchedule's) request for the compiled pipeline's schedule."""
    schedule = compiled.schedule
    if schedule is None:
        raise ValueError(f"pipeline {compiled.name} has no schedule")
    body: dict[str, Any] = {
        "Name": schedule["Name"],
        "ScheduleExpression": schedule["ScheduleExpression"],
        "ScheduleExpressionTimezone": schedule["ScheduleExpressionTimezone"],
        "State": schedule["State"],
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "Target": {
            "Arn": compiled.pipeline_arn(account),
            "RoleArn": role_arn,
            "SageMakerPipelineParameters": {"PipelineParameterList": schedule["PipelineParameterList"]},
        },
    }
    if schedule.get("Description"):
        body["Description"] = schedule["Description"]
    return body
