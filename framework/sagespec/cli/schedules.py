"""Commands on schedules: list (when each spec's schedule fires next), apply (EventBridge Scheduler)."""

from __future__ import annotations

from datetime import datetime, timezone

import click

from sagespec.cli.options import aws_options, build_context, output_option, project_option, show, workspace_option
from sagespec.workflows import schedules as workflow


@click.group()
def schedules() -> None:
    """Scheduled executions: a spec's `schedule:` as an EventBridge Scheduler schedule."""


@schedules.command("list")
@click.argument("paths", nargs=-1)
@click.option("--after", "after", default=None, metavar="TIME", help="List fire times after this moment (ISO 8601; default: now).")
@click.option("-n", "--count", type=click.IntRange(1, 100), default=3, show_default=True, help="Fire times per schedule.")
@output_option()
@project_option
def schedules_list(paths: tuple[str, ...], after: str | None, count: int, output: str, project_dir: str | None) -> None:
    """When each spec's schedule fires next (specs under pipelines/, or PATHS)."""
    try:
        moment = datetime.fromisoformat(after) if after else datetime.now(timezone.utc)
    except ValueError:
        raise click.BadParameter(f"{after!r} is not an ISO 8601 time", param_hint="--after") from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    found = workflow.upcoming(build_context(project_dir=project_dir), list(paths), moment, count)

    def text() -> None:
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
def schedules_apply(
    spec: str,
    role: str | None,
    profile: str | None,
    region: str | None,
    assume_role: str | None,
    project_dir: str | None,
    workspace: str | None,
) -> None:
    """Create or update SPEC's schedule on EventBridge Scheduler (CreateSchedule / UpdateSchedule)."""
    ctx = build_context(spec, project_dir, workspace, "aws", profile, region, assume_role)
    action, arn, sent = workflow.apply(ctx, spec, role)
    click.echo(f"{action} schedule {arn}: {sent['ScheduleExpression']} in {sent['ScheduleExpressionTimezone']}, {sent['State'].lower()}")
    click.echo(f"  starts {sent['Target']['Arn']} as {sent['Target']['RoleArn']}")


COMMANDS = [schedules]
