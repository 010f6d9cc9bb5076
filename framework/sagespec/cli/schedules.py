"""Commands on schedules: list (when each spec's schedule fires next), apply (EventBridge Scheduler)."""

from __future__ import annotations

import click

from sagespec.cli.options import aws_options, build_project, output_option, project_option, show, workspace_option


@click.group()
def schedules() -> None:
    """Scheduled executions: a spec's `schedule:` as an EventBridge Scheduler schedule."""


def _fire_times(schedule: dict, after, count: int) -> list[str] | None:
    from zoneinfo import ZoneInfo

    from sagespec.spec.schedule_expressions import next_times, of_spec

    kind = "cron" if "cron" in schedule else "rate"
    times = next_times(of_spec(kind, schedule[kind]), after.astimezone(ZoneInfo(schedule.get("timezone", "UTC"))), count)
    return None if times is None else [t.isoformat(timespec="minutes") for t in times]


@schedules.command("list")
@click.argument("paths", nargs=-1)
@click.option("--after", "after", default=None, metavar="TIME", help="List fire times after this moment (ISO 8601; default: now).")
@click.option("-n", "--count", type=click.IntRange(1, 100), default=3, show_default=True, help="Fire times per schedule.")
@output_option()
@project_option
def schedules_list(paths, after, count, output, project_dir) -> None:
    """When each spec's schedule fires next (specs under pipelines/, or PATHS)."""
    from datetime import datetime, timezone

    from sagespec.cli.spec import load_valid
    from sagespec.crossaccount.pipelines import spec_files
    from sagespec.spec.schedule_expressions import of_spec

    project = build_project(project_dir=project_dir)
    try:
        moment = datetime.fromisoformat(after) if after else datetime.now(timezone.utc)
    except ValueError:
        raise click.BadParameter(f"{after!r} is not an ISO 8601 time", param_hint="--after") from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    found = []
    for path in spec_files(project, list(paths) or [str(project.root / "pipelines")]):
        data = load_valid(str(path), project).document.data
        schedule = data.get("schedule")
        if not schedule:
            continue
        kind = "cron" if "cron" in schedule else "rate"
        enabled = schedule.get("enabled", True)
        found.append(
            {
                "pipeline": data["name"],
                "spec": str(path.relative_to(project.root)) if path.is_relative_to(project.root) else str(path),
                "expression": of_spec(kind, schedule[kind]).expression,
                "timezone": schedule.get("timezone", "UTC"),
                "state": "ENABLED" if enabled else "DISABLED",
                "parameters": {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in (schedule.get("parameters") or {}).items()},
                "next": _fire_times(schedule, moment, count) if enabled else [],
            }
        )

    def text():
        if not found:
            click.echo("no spec has a schedule")
        for s in found:
            params = ", ".join(f"{k}={v}" for k, v in s["parameters"].items()) or "the defaults"
            click.echo(f"{s['pipeline']} ({s['spec']}): {s['expression']} in {s['timezone']}, {s['state'].lower()}, with {params}")
            if s["state"] == "DISABLED":
                click.echo("  fires: never while disabled")
            elif s["next"] is None:
                click.echo("  next: not computed here (W and day-of-week L); EventBridge Scheduler decides them")
            else:
                rate = (
                    " (a rate counts from when the schedule is created; shown as if created at --after)"
                    if s["expression"].startswith("rate")
                    else ""
                )
                click.echo(f"  next: {', '.join(s['next'])}{rate}")

    show(output, found, text)


@schedules.command("apply")
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option(
    "--role",
    default=None,
    metavar="ARN",
    help="The role the schedule assumes (default: the accounts file's sagespec-scheduler role in the pipeline's account).",
)
@aws_options
@project_option
@workspace_option
def schedules_apply(spec, role, profile, region, assume_role, project_dir, workspace) -> None:
    """Create or update SPEC's schedule on EventBridge Scheduler (CreateSchedule / UpdateSchedule)."""
    from sagespec.cli.spec import compiled
    from sagespec.diagnostics import UserError
    from sagespec.pipelines import schedules as scheduler

    project = build_project(spec, project_dir, workspace, "aws", profile, region, assume_role)
    pipeline = compiled(spec, project)
    if not pipeline.schedule:
        raise UserError("E6005", f"{spec} has no schedule", hint="add `schedule: {cron: ..., parameters: {...}}` to the spec", exit_code=2)
    action, arn, sent = scheduler.apply(project.session(pipeline.region), pipeline, role)
    click.echo(f"{action} schedule {arn}: {sent['ScheduleExpression']} in {sent['ScheduleExpressionTimezone']}, {sent['State'].lower()}")
    click.echo(f"  starts {sent['Target']['Arn']} as {sent['Target']['RoleArn']}")


COMMANDS = [schedules]
