"""Commands on the model registry: groups, versions, approval, lineage, group policies."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from sagespec.cli.options import (
    EXIT_INVALID,
    accounts_region_option,
    build_context,
    option_group,
    output_option,
    parse_pairs,
    show,
    target_option,
    workspace_option,
)
from sagespec.cli.present import registry as present
from sagespec.workflows import registry as workflow

if TYPE_CHECKING:
    from sagespec.context import Context


def _non_empty(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and not value.strip():
        raise click.BadParameter("must say why (it is kept in the version's history)")
    return value


def _s3_uri(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and not (value.startswith("s3://") and len(value) > 5 and "/" in value[5:].strip("/")):
        raise click.BadParameter(f"'{value[:200]}' is not an s3://bucket/key URI")
    return value


registry_options = option_group(
    click.option(
        "--as",
        "as_",
        default=None,
        metavar="WHO",
        help="Caller: an account name from pipelines/accounts.yaml, an account ID or a role ARN "
        "(local), or a profile (aws). Default: $SAGESPEC_AS.",
    ),
    target_option("local"),
    output_option(),
    accounts_region_option,
    workspace_option,
)


def _ctx(target: str, region: str | None, workspace: str | None) -> Context:
    return build_context(None, None, workspace, target, region=region)


@click.group()
def models() -> None:
    """The model registry: groups, versions, approvals, lineage, policies (local or SageMaker)."""


@models.command("groups")
@registry_options
def models_groups(as_: str | None, target: str, output: str, region: str | None, workspace: str | None) -> None:
    """List the model package groups the caller can see."""
    found = workflow.groups(_ctx(target, region, workspace), as_)
    show(output, found, lambda: present.groups(found))


@models.command("create-group")
@click.argument("name")
@click.option("--description", default=None)
@registry_options
def models_create_group(
    name: str, description: str | None, as_: str | None, target: str, output: str, region: str | None, workspace: str | None
) -> None:
    """Create a model package group owned by the caller's account."""
    group = workflow.create_group(_ctx(target, region, workspace), as_, name, description)
    show(output, group, lambda: present.groups([group]))


@models.command("register")
@click.argument("group")
@click.option("--model-data", required=True, metavar="S3_URI", callback=_s3_uri, help="model.tar.gz of the version.")
@click.option("--image", default=None, help="Inference image (default: the TensorFlow 2.13 CPU serving image of the region).")
@click.option("--content-type", "content_types", multiple=True, default=("text/csv", "application/json"), show_default=True)
@click.option("--response-type", "response_types", multiple=True, default=("application/json",), show_default=True)
@click.option(
    "--metrics", "metrics_uri", default=None, metavar="S3_URI", callback=_s3_uri, help="evaluation.json (ModelMetrics.ModelQuality)."
)
@click.option("--status", default="PendingManualApproval", show_default=True)
@click.option("--description", default=None)
@click.option("--metadata", multiple=True, metavar="KEY=VALUE", help="CustomerMetadataProperties (repeatable).")
@registry_options
def models_register(
    group: str,
    model_data: str,
    image: str | None,
    content_types: tuple[str, ...],
    response_types: tuple[str, ...],
    metrics_uri: str | None,
    status: str,
    description: str | None,
    metadata: tuple[str, ...],
    as_: str | None,
    target: str,
    output: str,
    region: str | None,
    workspace: str | None,
) -> None:
    """Register a model version by hand (pipelines register through their register_model step)."""
    created = workflow.register(
        _ctx(target, region, workspace),
        as_,
        group,
        model_data,
        image,
        content_types,
        response_types,
        metrics_uri,
        status,
        description,
        parse_pairs(metadata, "--metadata"),
    )
    show(output, created, lambda: click.echo(f"registered {created.arn} ({created.status})"))


@models.command("list")
@click.argument("group")
@click.option("--status", default=None, help="PendingManualApproval, Approved or Rejected.")
@click.option("--latest", is_flag=True, help="Only the newest matching version.")
@registry_options
def models_list(
    group: str, status: str | None, latest: bool, as_: str | None, target: str, output: str, region: str | None, workspace: str | None
) -> None:
    """List versions of GROUP (name, or ARN for a group in another account), newest first."""
    found = workflow.versions(_ctx(target, region, workspace), as_, group, status, latest)
    show(output, found, lambda: present.packages(found, group))


@models.command("describe")
@click.argument("arn")
@registry_options
def models_describe(arn: str, as_: str | None, target: str, output: str, region: str | None, workspace: str | None) -> None:
    """Show a model version and its approval history."""
    found, history = workflow.describe(_ctx(target, region, workspace), as_, arn)
    show(output, {"package": found, "history": history}, lambda: present.package(found, history))


def _set_status(
    arn: str, status: str, reason: str, as_: str | None, target: str, output: str, region: str | None, workspace: str | None
) -> None:
    changed = workflow.set_status(_ctx(target, region, workspace), as_, arn, status, reason)
    show(output, changed, lambda: click.echo(f"{changed.arn}: {changed.status} ({reason})"))


@models.command("approve")
@click.argument("arn")
@click.option("--reason", required=True, callback=_non_empty, help="ApprovalDescription: why (kept in the history).")
@registry_options
def models_approve(arn: str, reason: str, **kwargs: Any) -> None:
    """Set a version's status to Approved."""
    _set_status(arn, "Approved", reason, **kwargs)


@models.command("reject")
@click.argument("arn")
@click.option("--reason", required=True, callback=_non_empty, help="ApprovalDescription: why (kept in the history).")
@registry_options
def models_reject(arn: str, reason: str, **kwargs: Any) -> None:
    """Set a version's status to Rejected."""
    _set_status(arn, "Rejected", reason, **kwargs)


@models.command("lineage")
@click.argument("arn")
@registry_options
def models_lineage(arn: str, as_: str | None, target: str, output: str, region: str | None, workspace: str | None) -> None:
    """Where a version came from: data -> execution -> model -> package (-> endpoints)."""
    found, entries = workflow.lineage(_ctx(target, region, workspace), as_, arn)
    show(output, {"package": found, "lineage": entries}, lambda: present.lineage(found, entries))


@models.group("policy")
def models_policy() -> None:
    """The resource policy of a model package group."""


@models_policy.command("get")
@click.argument("group")
@registry_options
def models_policy_get(group: str, as_: str | None, target: str, output: str, region: str | None, workspace: str | None) -> None:
    """Print GROUP's resource policy (nothing and exit 1 when it has none)."""
    policy = workflow.get_policy(_ctx(target, region, workspace), as_, group)
    if policy is None:
        click.echo(f"{group} has no resource policy", err=True)
        sys.exit(EXIT_INVALID)
    click.echo(json.dumps(policy, indent=2))


@models_policy.command("put")
@click.argument("group")
@click.argument("file", type=click.Path(dir_okay=False, exists=True))
@registry_options
def models_policy_put(group: str, file: str, as_: str | None, target: str, output: str, region: str | None, workspace: str | None) -> None:
    """Set GROUP's resource policy from a JSON FILE."""

    try:
        policy = json.loads(Path(file).read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise click.BadParameter(f"{file} is not JSON: {exc}", param_hint="FILE") from None
    workflow.put_policy(_ctx(target, region, workspace), as_, group, policy)
    show(output, {"group": group, "policy": policy}, lambda: click.echo(f"policy of {group} set from {file}"))


COMMANDS = [models]
