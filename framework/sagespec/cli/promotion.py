"""Commands of the deployment account: promote, rollback, deployments list, endpoints list|test|delete|stop-servers."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from sagespec.cli.options import (
    EXIT_INVALID,
    EXIT_USAGE,
    accounts_region_option,
    build_context,
    option_group,
    output_option,
    show,
    target_option,
    workspace_option,
)
from sagespec.cli.present import promotion as present
from sagespec.diagnostics import UserError
from sagespec.workflows import promotion as workflow
from sagespec.workflows.promotion.promoter import Plan, Promoter
from sagespec.workflows.promotion.services import open_services
from sagespec.workflows.promotion.trigger import promote_on_approval

if TYPE_CHECKING:
    from sagespec.context import Context

promotion_options = option_group(
    click.option(
        "--as",
        "as_",
        default=None,
        metavar="WHO",
        help="Who records stages and deployments in the registry. Local: a topology name (default deployment); "
        "aws: a profile (default: the standard credential chain).",
    ),
    target_option("local"),
    accounts_region_option,
    click.option(
        "--assume-role-name",
        default=None,
        metavar="NAME",
        help="aws: reach workload accounts by assuming this role in them (default: their profile or assume_role).",
    ),
    workspace_option,
)


def _ctx(target: str, region: str | None, workspace: str | None) -> Context:
    return build_context(None, None, workspace, target, region=region)


def _gate(plan: Plan, yes: bool) -> None:
    """The manual gate before prod: an interactive confirmation, or --yes from a pipeline that gated already."""
    if plan.stage != "prod" or yes:
        return
    if not sys.stdin.isatty():
        raise UserError(
            "E7007",
            "changing prod needs a confirmation and there is no terminal to ask on",
            hint="pass --yes where an approval step already gated the change (CI)",
            exit_code=EXIT_USAGE,
        )
    click.confirm(f"{plan.action} version {plan.package.version} in prod?", abort=True)


def _carry_out(promoter: Promoter, plan: Plan, yes: bool) -> None:
    present.plan(plan)
    if plan.unchanged:
        click.echo(f"{plan.endpoint} already serves {present.traffic(plan.target)}; nothing to do")
        return
    _gate(plan, yes)
    done = workflow.carry_out(promoter, plan)
    deployment, described = done.deployment, done.endpoint
    where = f" at {described['Url']}" if described.get("Url") else ""
    click.echo(
        f"{plan.stage}: {plan.endpoint} is {described.get('EndpointStatus', 'InService')}{where}, "
        f"serving {present.traffic(deployment.variants)}"
    )
    click.echo(
        f"recorded {deployment.action} of version {deployment.version} in {plan.stage}"
        + (f" (was version {deployment.previous_version})" if deployment.previous_version is not None else "")
    )


@click.command()
@click.argument("group")
@click.option("--stage", type=click.Choice(["qa", "prod"]), default=None, help="Where to deploy (default: qa).")
@click.option("--version", type=click.IntRange(min=1), default=None, help="Version to promote (default: the latest Approved).")
@click.option(
    "--canary-weight",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=None,
    metavar="W",
    help="prod: add the version as a second variant taking W of the traffic (0.1 = 10%).",
)
@click.option("--finalize", is_flag=True, help="prod: move all traffic to the canary.")
@click.option("--force", is_flag=True, help="prod: promote a version that has not passed QA (needs --reason).")
@click.option("--reason", default=None, help="Why (kept with the deployment; required with --force).")
@click.option("--yes", is_flag=True, help="Do not ask before changing prod (for CI behind its own approval step).")
@click.option(
    "--on-approval", is_flag=True, help="Promote the newest version approved since the last --on-approval run (local registry events)."
)
@click.option("--follow", is_flag=True, help="With --on-approval: keep waiting for approvals (Ctrl-C stops).")
@click.option("--endpoint-name", default=None, help="Endpoint name (default: GROUP-STAGE).")
@click.option("--instance-type", default="ml.m5.large", show_default=True, help="Instance type of new production variants.")
@promotion_options
def promote(
    group: str,
    stage: str | None,
    version: int | None,
    canary_weight: float | None,
    finalize: bool,
    force: bool,
    reason: str | None,
    yes: bool,
    on_approval: bool,
    follow: bool,
    endpoint_name: str | None,
    instance_type: str,
    as_: str | None,
    target: str,
    region: str | None,
    assume_role_name: str | None,
    workspace: str | None,
) -> None:
    """Deploy an Approved version of GROUP to the QA or prod account's endpoint (the deployment account's job)."""
    stage = stage or "qa"
    if finalize and (version or canary_weight):
        raise click.UsageError("--finalize takes no --version or --canary-weight: it moves traffic to the running canary")
    if force and not reason:
        raise click.UsageError("--force needs --reason TEXT: overriding the QA gate is recorded with why")
    if follow and not on_approval:
        raise click.UsageError("--follow goes with --on-approval")
    services = open_services(_ctx(target, region, workspace), as_, assume_role_name)
    promoter = workflow.promoter(services, group, stage, endpoint_name, instance_type)
    if on_approval:
        promote_on_approval(services.registry, promoter, lambda plan: _carry_out(promoter, plan, yes), click.echo, follow)
    elif finalize:
        _carry_out(promoter, promoter.plan_finalize(), yes)
    else:
        _carry_out(promoter, promoter.plan_promote(version, canary_weight, force, reason), yes)


@click.command()
@click.argument("group")
@click.option("--stage", type=click.Choice(["qa", "prod"]), default="prod", show_default=True)
@click.option("--reason", default=None, help="Why (kept with the deployment).")
@click.option("--yes", is_flag=True, help="Do not ask before changing prod.")
@click.option("--endpoint-name", default=None, help="Endpoint name (default: GROUP-STAGE).")
@promotion_options
def rollback(
    group: str,
    stage: str,
    reason: str | None,
    yes: bool,
    endpoint_name: str | None,
    as_: str | None,
    target: str,
    region: str | None,
    assume_role_name: str | None,
    workspace: str | None,
) -> None:
    """Redeploy the version that was in STAGE before the current one (or drop a running canary)."""
    promoter = workflow.promoter(open_services(_ctx(target, region, workspace), as_, assume_role_name), group, stage, endpoint_name)
    _carry_out(promoter, promoter.plan_rollback(reason), yes)


@click.group()
def deployments() -> None:
    """The deployment history of a model package group."""


@deployments.command("list")
@click.argument("group")
@click.option("--stage", type=click.Choice(["qa", "prod"]), default=None)
@output_option()
@promotion_options
def deployments_list(
    group: str,
    stage: str | None,
    output: str,
    as_: str | None,
    target: str,
    region: str | None,
    assume_role_name: str | None,
    workspace: str | None,
) -> None:
    """Every deployment, canary, finalize, rollback and QA test of GROUP, oldest first."""
    found = workflow.deployments(_ctx(target, region, workspace), as_, group, stage)
    show(output, found, lambda: present.deployments(found, group))


@click.group()
def endpoints() -> None:
    """Endpoints in the workload accounts: list, test, delete, stop-servers."""


account_option = click.option(
    "--account",
    default=None,
    metavar="NAME",
    help="Workload account hosting the endpoint (qa, prod; default: the one that has it, locally).",
)


@endpoints.command("list")
@output_option()
@promotion_options
def endpoints_list(
    output: str, as_: str | None, target: str, region: str | None, assume_role_name: str | None, workspace: str | None
) -> None:
    """Endpoints of every workload account, with their variants' traffic (and local URLs)."""
    found = workflow.endpoints(_ctx(target, region, workspace), as_, assume_role_name)
    show(output, [e for _, e in found], lambda: present.endpoints(found))


@endpoints.command("delete")
@click.argument("name")
@account_option
@promotion_options
def endpoints_delete(
    name: str, account: str | None, as_: str | None, target: str, region: str | None, assume_role_name: str | None, workspace: str | None
) -> None:
    """Delete endpoint NAME (locally: stop its server process). Its models and configs stay."""
    found = workflow.delete_endpoint(_ctx(target, region, workspace), name, account, as_, assume_role_name)
    click.echo(f"deleted endpoint {name} in {found.name} ({found.id})")


@endpoints.command("test")
@click.argument("name")
@account_option
@click.option(
    "--data",
    default=None,
    metavar="URI|FILE",
    help="test.csv (header, target first, then features). Default locally: the test split of the version's execution.",
)
@click.option(
    "--tolerance",
    type=click.FloatRange(min=0),
    default=0.01,
    show_default=True,
    help="Largest relative difference between the endpoint's metric (MSE, accuracy) and the registered one.",
)
@click.option("--group", default=None, help="Model package group (default: the endpoint name without its -STAGE suffix).")
@output_option()
@promotion_options
def endpoints_test(
    name: str,
    account: str | None,
    data: str | None,
    tolerance: float,
    group: str | None,
    output: str,
    as_: str | None,
    target: str,
    region: str | None,
    assume_role_name: str | None,
    workspace: str | None,
) -> None:
    """Send the test split through endpoint NAME; in QA a pass marks the version QA-passed (exit 1 on failure)."""
    tested = workflow.test_endpoint(_ctx(target, region, workspace), name, account, data, tolerance, group, as_, assume_role_name)
    results = tested.results

    def text() -> None:
        present.qa_results(results, name)
        if tested.recorded:
            for r in results:
                click.echo(f"version {r.version} {'passed QA' if r.passed else 'FAILED QA'} (recorded on {r.package_arn})")

    show(output, results, text)
    if not all(r.passed for r in results):
        sys.exit(EXIT_INVALID)


@endpoints.command("stop-servers")
@output_option()
@workspace_option
def endpoints_stop_servers(output: str, workspace: str | None) -> None:
    """Stop every local endpoint server process of the workspace (the endpoints stay; promoting again restarts one)."""
    ctx = build_context(None, None, workspace, "local")
    stopped = workflow.stop_servers(ctx)
    show(
        output,
        stopped,
        lambda: click.echo(
            "\n".join(f"stopped {s['EndpointName']} in {s['Account']} (pid {s['Pid']}, port {s['Port']})" for s in stopped)
            or f"no endpoint server is running in {ctx.workspace}"
        ),
    )


COMMANDS = [promote, rollback, deployments, endpoints]
