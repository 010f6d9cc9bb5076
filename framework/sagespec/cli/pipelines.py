"""Commands on pipelines and executions: upsert, start, run, executions list|describe|follow|logs|stop|send-success|send-failure."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from sagespec.cli.options import (
    aws_options,
    build_context,
    option_group,
    output_option,
    parse_pairs,
    project_option,
    show,
    target_option,
    warn,
    workspace_option,
)
from sagespec.cli.present.progress import Progress
from sagespec.cli.present.summary import summary_lines
from sagespec.diagnostics import UserError
from sagespec.workflows import executions as executions_workflow
from sagespec.workflows import pipelines as pipelines_workflow

if TYPE_CHECKING:
    from sagespec.context import Context

param_option = click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help="Override a pipeline parameter (repeatable).")


@click.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--role", default=None, metavar="ARN", help="Pipeline execution role (default: the spec's session.role).")
@click.option(
    "--create-bucket",
    is_flag=True,
    help="aws: create a missing default bucket (SSE-KMS with the accounts file's key, TLS only, no public access).",
)
@click.option(
    "--upload-only",
    is_flag=True,
    help="aws: upload the code and the definition but leave the pipeline to a stack (`compile --output cloudformation`).",
)
@target_option()
@aws_options
@project_option
@workspace_option
def upsert(
    spec: str,
    role: str | None,
    create_bucket: bool,
    upload_only: bool,
    target: str | None,
    profile: str | None,
    region: str | None,
    assume_role: str | None,
    project_dir: str | None,
    workspace: str | None,
) -> None:
    """Upload SPEC's code and definition and create or update the pipeline (SageMaker, or the local control plane)."""
    ctx = build_context(spec, project_dir, workspace, target, profile, region, assume_role)
    done = pipelines_workflow.upsert(ctx, spec, role, create_bucket, upload_only)
    warn(done.pipeline.warnings)
    for line in done.created:
        click.echo(line)
    result = done.result
    for line in result.functions:  # created or updated before the pipeline
        click.echo(f"function {line}")
    if result.version is not None:  # a definition version of the local control plane
        click.echo(f"{'stored' if result.action == 'stored' else 'unchanged'} {result.arn} definition version {result.version} (local)")
        return
    for uri in result.uploaded:
        click.echo(f"uploaded {uri}")
    for uri in result.unchanged:
        click.echo(f"unchanged {uri}")
    if result.action == "uploaded":
        click.echo(f"definition at {result.arn}: deploy the stack of `sagespec compile {spec} --output cloudformation`")
        return
    click.echo(f"{result.action} pipeline {result.arn}")


def _ended(execution: dict[str, Any]) -> None:
    """The summary of an ended execution; E6009 unless it succeeded."""
    click.echo("\n".join(summary_lines(execution)))
    if execution["status"] != "Succeeded":
        reason = f": {execution['failure_reason']}" if execution["failure_reason"] else ""
        raise UserError("E6009", f"execution ended {execution['status']}{reason}")


@click.command()
@click.argument("name")
@param_option
@click.option(
    "--wait", is_flag=True, help="Follow the execution's steps until it ends; exit 1 unless it succeeded (local runs always wait)."
)
@click.option("--display-name", default=None, help="Execution display name.")
@click.option(
    "--retry",
    default=None,
    metavar="EXECUTION",
    help="Run a failed execution again from its failed steps (locally after a fix and an upsert; RetryPipelineExecution on SageMaker).",
)
@click.option(
    "--from-step",
    "from_steps",
    default=None,
    metavar="STEP[,STEP]",
    help="Run only these steps; the others keep their results in the source execution (SelectiveExecutionConfig).",
)
@click.option(
    "--source-execution",
    default=None,
    metavar="EXECUTION",
    help="With --from-step: the execution whose results the other steps keep (default: the latest that ended Succeeded or Failed).",
)
@click.option(
    "--max-parallel-steps", type=click.IntRange(min=1), default=None, help="At most this many steps at once (ParallelismConfiguration)."
)
@target_option()
@workspace_option
@aws_options
@project_option
def start(
    name: str,
    params: tuple[str, ...],
    wait: bool,
    display_name: str | None,
    retry: str | None,
    from_steps: str | None,
    source_execution: str | None,
    max_parallel_steps: int | None,
    target: str | None,
    workspace: str | None,
    profile: str | None,
    region: str | None,
    assume_role: str | None,
    project_dir: str | None,
) -> None:
    """Start an execution of the pipeline NAME (SageMaker, or the local control plane)."""
    ctx = build_context(None, project_dir, workspace, target, profile, region, assume_role)
    overrides = parse_pairs(params, "--param")
    selected = [s.strip() for s in from_steps.split(",") if s.strip()] if from_steps is not None else None
    if selected is not None and not selected:
        raise click.UsageError("--from-step names no step: --from-step STEP[,STEP]")
    if source_execution and selected is None:
        raise click.UsageError("--source-execution goes with --from-step")
    if selected and retry:
        raise click.UsageError("--retry and --from-step do not go together: a retry reruns what failed")
    if selected and not source_execution:
        source_execution = pipelines_workflow.latest_ended(ctx, name)
        if source_execution:
            click.echo(f"source execution {source_execution}")
    with Progress(f"pipeline {name} (local)", lambda: pipelines_workflow.running_here(ctx, name)) as progress:
        started = pipelines_workflow.start(
            ctx, name, overrides, progress, retry, display_name, max_parallel_steps, selected, source_execution
        )
    if started.execution is not None:  # it ran here, to its end
        _ended(started.execution)
        return
    click.echo(f"{'retrying' if retry else 'started'} {started.arn}")
    if wait:
        _follow(ctx, started.arn, name, started.where, target or ctx.target)


def _follow(ctx: Context, arn: str, name: str, where: str, target: str) -> None:
    """The live step view of an execution running elsewhere (SageMaker, or another terminal), then
    the summary a local run prints."""
    try:
        with Progress(f"pipeline {name} ({where})") as progress:
            ended = pipelines_workflow.follow(ctx, arn, progress)
    except KeyboardInterrupt:
        click.echo(f"stopped following {arn}: it goes on running ({where})", err=True)
        click.echo(f"  follow it again: sagespec executions follow {arn} --target {target}", err=True)
        click.echo(f"  stop it: sagespec executions stop {arn} --target {target}", err=True)
        sys.exit(130)
    _ended(ended)


@click.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@param_option
@project_option
@workspace_option
def run(spec: str, params: tuple[str, ...], project_dir: str | None, workspace: str | None) -> None:
    """Compile SPEC, store it in the local control plane and run it here (upsert + start + wait).

    Each job sees its folders at SageMaker's /opt/ml paths where this machine allows a mount
    namespace, else through SM_* variables only; `sagespec doctor` says which, and
    $SAGESPEC_ISOLATION (auto, namespace, bubblewrap or variables) chooses."""

    def before(ran: pipelines_workflow.Ran) -> None:
        stored, prepared = ran.stored, ran.prepared
        for line in stored.functions:
            if not line.endswith(": unchanged"):
                click.echo(f"function {line}")
        click.echo(f"{'stored' if stored.action == 'stored' else 'unchanged'} {stored.arn} definition version {stored.version}")
        if prepared.applied:
            click.echo(
                f"applied {prepared.applied} changes (policies, model package groups) from {prepared.accounts_file} to the local control plane"
            )
        if prepared.uncovered:
            click.echo(
                f"note: the accounts file's roles are not derived from {prepared.uncovered}: its grants are in the local control plane"
                " only; add its spec to `pipelines:` in the accounts file before `sagespec accounts apply`"
            )
        if prepared.left_out:
            click.echo(
                f"note: the roles leave out what {', '.join(prepared.left_out)} need: not compiled in this workspace yet"
                " (`sagespec accounts apply --target local` derives the roles from every pipeline, as on AWS)"
            )
        for uri, source in prepared.seeded:
            click.echo(f"seeded {uri} from {source}")
        click.echo(f"running pipeline {ran.pipeline.name} locally" + (f" ({ran.isolation})" if ran.isolation else ""))

    ctx = build_context(spec, project_dir, workspace, target="local")
    with Progress(f"{spec} (local)") as progress:
        ran = pipelines_workflow.run(ctx, spec, parse_pairs(params, "--param"), progress, before)
    warn(ran.pipeline.warnings)
    _ended(ran.execution)


@click.group()
def executions() -> None:
    """Executions of pipelines: list, describe, logs, stop, answer callbacks (local control plane, or SageMaker)."""


execution_options = option_group(
    target_option("local"),
    workspace_option,
    project_option,
    click.option("--profile", default=None, help="aws: the profile to call as."),
    click.option("--region", default=None, help="aws: the region."),
)


def _ctx(target: str, workspace: str | None, project_dir: str | None, profile: str | None, region: str | None) -> Context:
    return build_context(None, project_dir, workspace, target, profile, region)


@executions.command("list")
@click.argument("pipeline", required=False)
@output_option()
@execution_options
def executions_list(
    pipeline: str | None, output: str, target: str, workspace: str | None, project_dir: str | None, profile: str | None, region: str | None
) -> None:
    """List executions, newest first."""
    found = executions_workflow.list_executions(_ctx(target, workspace, project_dir, profile, region), pipeline)
    show(
        output,
        found,
        lambda: click.echo(
            "\n".join(
                f"{(e['started_at'] or '')[:19]}  {e['status']:<10}  {e['arn']}"
                + (f"  ({e['failure_reason']})" if e["failure_reason"] else "")
                for e in found
            )
            or "no executions"
        ),
    )


@executions.command("describe")
@click.argument("execution")
@output_option("json", "text")
@execution_options
def executions_describe(
    execution: str, output: str, target: str, workspace: str | None, project_dir: str | None, profile: str | None, region: str | None
) -> None:
    """Show an execution (ARN or ID) with its steps (JSON by default; --output text for a summary)."""
    found = executions_workflow.describe(_ctx(target, workspace, project_dir, profile, region), execution)

    def text() -> None:
        for step in found["steps"]:
            cached = f"  (cached from {step['cached_from']})" if step.get("cached_from") else ""
            click.echo(f"{step['name']:<28} {step['type']:<14} {step['status']:<11}{cached}")
        click.echo("\n".join(summary_lines(found)))

    show(output, found, text)


@executions.command("logs")
@click.argument("execution")
@click.argument("step")
@click.option("-f", "--follow", is_flag=True, help="Keep printing what the step writes until it ends.")
@execution_options
def executions_logs(
    execution: str,
    step: str,
    follow: bool,
    target: str,
    workspace: str | None,
    project_dir: str | None,
    profile: str | None,
    region: str | None,
) -> None:
    """Print the log of STEP in EXECUTION (locally the step's log; on SageMaker its job's CloudWatch logs)."""
    ctx = _ctx(target, workspace, project_dir, profile, region)
    if not follow:
        click.echo(executions_workflow.logs(ctx, execution, step).rstrip())
        return
    try:
        for line in executions_workflow.follow_logs(ctx, execution, step):
            click.echo(line)
    except KeyboardInterrupt:
        sys.exit(130)  # the reader stopped following; the step goes on


@executions.command("follow")
@click.argument("execution")
@execution_options
def executions_follow(
    execution: str, target: str, workspace: str | None, project_dir: str | None, profile: str | None, region: str | None
) -> None:
    """Show the steps of a running EXECUTION as they change, then its summary (exit 1 unless it succeeded)."""
    ctx = _ctx(target, workspace, project_dir, profile, region)
    described = executions_workflow.describe(ctx, execution)
    _follow(ctx, described["arn"], described["pipeline"], executions_workflow.where(ctx), target)


@executions.command("stop")
@click.argument("execution")
@execution_options
def executions_stop(
    execution: str, target: str, workspace: str | None, project_dir: str | None, profile: str | None, region: str | None
) -> None:
    """Stop a running execution: no new step starts, and it ends Stopped (StopPipelineExecution)."""
    found = executions_workflow.stop(_ctx(target, workspace, project_dir, profile, region), execution)
    click.echo(f"{found['arn']}: {found['status']}")


@executions.command("send-success")
@click.argument("token")
@click.option("--output", "outputs", multiple=True, metavar="NAME=VALUE", help="An output of the callback step (repeatable).")
@execution_options
def executions_send_success(
    token: str,
    outputs: tuple[str, ...],
    target: str,
    workspace: str | None,
    project_dir: str | None,
    profile: str | None,
    region: str | None,
) -> None:
    """Let the callback step waiting with TOKEN succeed, with its outputs (SendPipelineExecutionStepSuccess)."""
    ctx = _ctx(target, workspace, project_dir, profile, region)
    answered = executions_workflow.send_success(ctx, token, parse_pairs(outputs, "--output"))
    click.echo(f"step {answered['step']} of {answered['execution']}: {answered['status']}")


@executions.command("send-failure")
@click.argument("token")
@click.option("--reason", required=True, help="Why the step failed (FailureReason, up to 256 characters).")
@execution_options
def executions_send_failure(
    token: str, reason: str, target: str, workspace: str | None, project_dir: str | None, profile: str | None, region: str | None
) -> None:
    """Let the callback step waiting with TOKEN fail (SendPipelineExecutionStepFailure)."""
    answered = executions_workflow.send_failure(_ctx(target, workspace, project_dir, profile, region), token, reason)
    click.echo(f"step {answered['step']} of {answered['execution']}: {answered['status']}")


COMMANDS = [upsert, start, run, executions]
