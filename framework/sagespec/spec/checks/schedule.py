"""A spec's `schedule:` as EventBridge Scheduler would take it: one valid expression, a time zone
it knows, parameters the pipeline declares with values of their type, and a schedule name (the
pipeline's) within the service's limit."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sagespec.aws.schedule_expressions import ExpressionError, of_spec
from sagespec.spec.checks.base import CheckContext, rule

# CreateSchedule: Name 1-64 characters of [0-9a-zA-Z-_.] (EventBridge Scheduler API Reference).
SCHEDULE_NAME_LENGTH = 64
_CASTS = {"Integer": int, "Float": float}


@rule
def schedule_is_valid(ctx: CheckContext) -> None:
    schedule = ctx.data.get("schedule")
    if not isinstance(schedule, dict):
        return
    kinds = [k for k in ("cron", "rate") if k in schedule]
    if len(kinds) != 1:
        ctx.report(
            "E4021",
            "a schedule has exactly one of cron and rate" + (", not both" if kinds else ""),
            ("schedule",),
            hint="cron: '0 3 ? * MON-FRI *' (EventBridge's six fields) or rate: 1 day",
        )
    for kind in kinds:
        if isinstance(schedule[kind], str):
            try:
                of_spec(kind, schedule[kind])
            except ExpressionError as exc:
                ctx.report("E4021", f"schedule {kind}: {exc}", ("schedule", kind))
    zone = schedule.get("timezone")
    if isinstance(zone, str):
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            ctx.report(
                "E4021", f"schedule timezone '{zone}' is not an IANA time zone", ("schedule", "timezone"), hint="e.g. UTC, Europe/Berlin"
            )
    name = ctx.data.get("name")
    if isinstance(name, str) and len(name) > SCHEDULE_NAME_LENGTH:
        ctx.report(
            "E4021",
            f"the schedule is named after the pipeline, and '{name}' is {len(name)} characters; EventBridge Scheduler allows {SCHEDULE_NAME_LENGTH}",
            ("schedule",),
        )
    given = schedule.get("parameters")
    for param, value in (given if isinstance(given, dict) else {}).items():
        where = ("schedule", "parameters", param)
        declared = ctx.parameters.get(param)
        if not isinstance(declared, dict):
            known = ", ".join(ctx.parameters) or "none"
            ctx.report(
                "E4021",
                f"schedule parameter '{param}' is not a parameter of the pipeline",
                where,
                hint=f"its parameters: {known}",
                key=True,
            )
            continue
        kind = declared.get("type", "String")
        text = str(value).lower() if isinstance(value, bool) else str(value)
        ok = True
        if kind in _CASTS:
            try:
                _CASTS[kind](text)
            except ValueError:
                ok = False
        elif kind == "Boolean":
            ok = text in ("true", "false")
        if not ok:
            ctx.report("E4021", f"schedule parameter '{param}' is {kind}; {value!r} is not", where)
        elif isinstance(declared.get("enum"), list) and text not in [str(v) for v in declared["enum"]]:
            ctx.report("E4021", f"schedule parameter '{param}' must be one of {', '.join(map(str, declared['enum']))}", where)
        if len(text) > 1024:  # SageMakerPipelineParameter.Value: 1 to 1024 characters
            ctx.report("E4021", f"schedule parameter '{param}': EventBridge Scheduler passes values of up to 1024 characters", where)
