"""Tasks on schedules: when each spec's schedule fires next, and the schedule on EventBridge
Scheduler (CreateSchedule / UpdateSchedule)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict
from zoneinfo import ZoneInfo

from sagespec.aws.schedule_expressions import next_times, of_spec
from sagespec.backends.factory import open_scheduler
from sagespec.context import Context
from sagespec.diagnostics import UserError
from sagespec.workflows.project_pipelines import spec_files
from sagespec.workflows.specs import compiled, load_valid, spec_data


class Upcoming(TypedDict):
    """A spec's schedule and when it fires next (`schedules list`; its JSON output as it is)."""

    pipeline: str
    spec: str  # relative to the project root when under it
    expression: str  # cron(...) or rate(...)
    timezone: str
    state: str  # ENABLED | DISABLED
    parameters: dict[str, str]  # the pipeline parameters each scheduled execution starts with
    next: list[str] | None  # ISO 8601 to the minute; [] while disabled; None where it is not computed here


def _fire_times(schedule: dict[str, Any], after: datetime, count: int) -> list[str] | None:
    kind = "cron" if "cron" in schedule else "rate"
    times = next_times(of_spec(kind, schedule[kind]), after.astimezone(ZoneInfo(schedule.get("timezone", "UTC"))), count)
    return None if times is None else [t.isoformat(timespec="minutes") for t in times]


def upcoming(ctx: Context, paths: list[str], after: datetime, count: int) -> list[Upcoming]:
    """Each spec's schedule (specs under pipelines/, or PATHS) with its next `count` fire times after `after`."""
    found: list[Upcoming] = []
    for path in spec_files(ctx, paths or [str(ctx.root / "pipelines")]):
        data = spec_data(load_valid(ctx, path))
        schedule = data.get("schedule")
        if not schedule:
            continue
        kind = "cron" if "cron" in schedule else "rate"
        enabled = schedule.get("enabled", True)
        found.append(
            {
                "pipeline": data["name"],
                "spec": str(path.relative_to(ctx.root)) if path.is_relative_to(ctx.root) else str(path),
                "expression": of_spec(kind, schedule[kind]).expression,
                "timezone": schedule.get("timezone", "UTC"),
                "state": "ENABLED" if enabled else "DISABLED",
                "parameters": {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in (schedule.get("parameters") or {}).items()},
                "next": _fire_times(schedule, after, count) if enabled else [],
            }
        )
    return found


def apply(ctx: Context, spec: str, role: str | None = None) -> tuple[str, str, dict[str, Any]]:
    """Create or update SPEC's schedule: (created | updated, the schedule's ARN, the request sent)."""
    pipeline = compiled(ctx, spec)
    if not pipeline.schedule:
        raise UserError("E6005", f"{spec} has no schedule", hint="add `schedule: {cron: ..., parameters: {...}}` to the spec", exit_code=2)
    return open_scheduler(ctx.with_target("aws").for_region(pipeline.region)).apply(pipeline, role)
