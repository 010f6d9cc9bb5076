"""Commands on pipelines and executions: upsert, start, run, executions list|describe|logs|stop."""

from __future__ import annotations

import sys

import click

from sagespec.cli.options import (
    aws_options,
    build_project,
    option_group,
    output_option,
    parse_pairs,
    project_option,
    show,
    target_option,
    workspace_option,
)

param_option = click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help="Override a pipeline parameter (repeatable).")


@click.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--role", default=None, metavar="ARN", help="Pipeline execution role (default: the spec's session.role).")
@target_option()
@aws_options
@project_option
@workspace_option
def upsert(spec, role, target, profile, region, assume_role, project_dir, workspace) -> None:
    """Upload SPEC's code and create or update the pipeline (SageMaker, or the local control plane)."""
    from sagespec.backends import open_pipelines
    from sagespec.cli.spec import compiled
    from sagespec.diagnostics import UserError

    project = build_project(spec, project_dir, workspace, target, profile, region, assume_role)
    pipeline = compiled(spec, project)
    if project.target == "aws" and region and region != pipeline.region:
        raise UserError(
            "E6003",
            f"the spec targets {pipeline.region} (session.region) but --region is {region}",
            hint="image URIs and ARNs in the definition are regional; change session.region in the spec",
        )
    result = open_pipelines(project, region=pipeline.region).upsert(pipeline, role)
    if result.version is not None:  # a definition version of the local control plane
        click.echo(f"{'stored' if result.action == 'stored' else 'unchanged'} {result.arn} definition version {result.version} (local)")
        return
    for uri in result.uploaded:
        click.echo(f"uploaded {uri}")
    for uri in result.unchanged:
        click.echo(f"unchanged {uri}")
    click.echo(f"{result.action} pipeline {result.arn}")


def _run_and_report(pipelines, name: str, overrides: dict, retry: str | None = None) -> None:
    """A local execution with live progress, then its summary; E6009 unless it succeeded."""
    from sagespec.diagnostics import UserError
    from sagespec.executor.progress import LineProgress, LiveProgress
    from sagespec.pipelines.summary import summary_lines

    progress = LiveProgress(f"pipeline {name} (local)") if sys.stdout.isatty() else LineProgress()
    click.echo(f"running pipeline {name} locally")
    with progress:
        result = pipelines.start(name, overrides, progress, retry)
    click.echo("\n".join(summary_lines(result)))
    if result["status"] != "Succeeded":
        raise UserError("E6009", f"execution ended {result['status']}: {result['failure_reason']}")


@click.command()
@click.argument("name")
@param_option
@click.option("--wait", is_flag=True, help="Wait until the execution finishes; exit 1 unless it succeeded (local runs always wait).")
@click.option("--display-name", default=None, help="Execution display name.")
@click.option(
    "--retry",
    default=None,
    metavar="EXECUTION",
    help="Local: run a failed execution again, reusing the steps that succeeded (after a fix and an upsert).",
)
@target_option()
@workspace_option
@aws_options
@project_option
def start(name, params, wait, display_name, retry, target, workspace, profile, region, assume_role, project_dir) -> None:
    """Start an execution of the pipeline NAME (SageMaker, or the local control plane)."""
    from sagespec.backends import open_pipelines

    project = build_project(None, project_dir, workspace, target, profile, region, assume_role)
    pipelines = open_pipelines(project)
    overrides = parse_pairs(params, "--param")
    if pipelines.runs_here:
        _run_and_report(pipelines, name, overrides, retry)
        return
    started = pipelines.start(name, overrides, retry=retry, display_name=display_name)
    click.echo(f"started {started['arn']}")
    if wait:
        pipelines.wait(
            started["arn"], on_status=lambda status, described: click.echo(f"  {described.get('LastModifiedTime', '')}  {status}")
        )


@click.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@param_option
@project_option
@workspace_option
def run(spec, params, project_dir, workspace) -> None:
    """Compile SPEC, store it in the local control plane and run it here (upsert + start + wait)."""
    from sagespec.backends import open_pipelines
    from sagespec.cli.spec import compiled
    from sagespec.runs import prepare_local_run

    project = build_project(spec, project_dir, workspace, target="local")
    pipeline = compiled(spec, project)
    pipelines = open_pipelines(project)
    stored = pipelines.upsert(pipeline)
    click.echo(f"{'stored' if stored.action == 'stored' else 'unchanged'} {stored.arn} definition version {stored.version}")
    overrides = parse_pairs(params, "--param")
    prepared = prepare_local_run(project, pipeline, pipelines, overrides)
    if prepared.applied:
        click.echo(
            f"applied {prepared.applied} changes (policies, model package groups) from {prepared.accounts_file} to the local control plane"
        )
    if prepared.uncovered:
        click.echo(
            f"note: the accounts file's roles are not derived from {prepared.uncovered}: its grants are in the local control plane"
            " only; add its spec to `pipelines:` in the accounts file before `sagespec accounts apply`"
        )
    for uri, source in prepared.seeded:
        click.echo(f"seeded {uri} from {source}")
    _run_and_report(pipelines, pipeline.name, overrides)


@click.group()
def executions() -> None:
    """Executions of pipelines: list, describe, logs, stop (local control plane, or SageMaker)."""


execution_options = option_group(
    target_option("local"),
    workspace_option,
    project_option,
    click.option("--profile", default=None, help="aws: the profile to call as."),
    click.option("--region", default=None, help="aws: the region."),
)


def _executions(target, workspace, project_dir, profile, region):
    from sagespec.backends import open_pipelines

    return open_pipelines(build_project(None, project_dir, workspace, target, profile, region))


@executions.command("list")
@click.argument("pipeline", required=False)
@output_option()
@execution_options
def executions_list(pipeline, output, target, workspace, project_dir, profile, region) -> None:
    """List executions, newest first."""
    found = _executions(target, workspace, project_dir, profile, region).list_executions(pipeline)
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
def executions_describe(execution, output, target, workspace, project_dir, profile, region) -> None:
    """Show an execution (ARN or ID) with its steps (JSON by default; --output text for a summary)."""
    from sagespec.pipelines.summary import summary_lines

    found = _executions(target, workspace, project_dir, profile, region).describe_execution(execution)

    def text():
        for step in found["steps"]:
            cached = f"  (cached from {step['cached_from']})" if step.get("cached_from") else ""
            click.echo(f"{step['name']:<28} {step['type']:<14} {step['status']:<11}{cached}")
        click.echo("\n".join(summary_lines(found)))

    show(output, found, text)


@executions.command("logs")
@click.argument("execution")
@click.argument("step")
@execution_options
def executions_logs(execution, step, target, workspace, project_dir, profile, region) -> None:
    """Print the log of STEP in EXECUTION (locally the step's log; on SageMaker its job's CloudWatch logs)."""
    click.echo(_executions(target, workspace, project_dir, profile, region).logs(execution, step).rstrip())


@executions.command("stop")
@click.argument("execution")
@execution_options
def executions_stop(execution, target, workspace, project_dir, profile, region) -> None:
    """Stop a running execution: no new step starts, and it ends Stopped (StopPipelineExecution)."""
    found = _executions(target, workspace, project_dir, profile, region).stop(execution)
    click.echo(f"{found['arn']}: {found['status']}")


COMMANDS = [upsert, start, run, executions]
