"""Commands on the cross-account topology: accounts render|check|apply, and cicd render."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from sagespec.cli.options import (
    EXIT_INVALID,
    EXIT_OK,
    accounts_file_option,
    build_context,
    out_option,
    output_option,
    show,
    workspace_option,
    write_files,
)
from sagespec.cli.present.accounts import matrix_table, verdicts_table
from sagespec.workflows import accounts as workflow


@click.group()
def accounts() -> None:
    """Least-privilege policies for the cross-account workflow: render, check, apply."""


@accounts.command("render")
@output_option("json", "cloudformation", help="json: the policies; cloudformation: one stack template per account.")
@out_option("Write one file per policy (json) or per account (cloudformation) into this folder.", retired=("--output-dir",), folder=True)
@accounts_file_option
def accounts_render(output: str, out: str | None, accounts_file: str | None) -> None:
    """Render every account's policies from the topology and what its pipelines need."""
    files = workflow.render_policies(build_context(accounts_file=accounts_file), output)
    if not out:
        click.echo(json.dumps(files, indent=2))
        return
    write_files(out, {relative: json.dumps(document, indent=2) + "\n" for relative, document in files.items()})


@accounts.command("check")
@output_option()
@click.option("--all", "show_all", is_flag=True, help="Show every cell, not only required ones and failures.")
@click.option(
    "--pipelines",
    "with_pipelines",
    is_flag=True,
    help="Also decide every request of every step of the pipelines (PATHS, default the accounts file's) and list unused grants.",
)
@click.option(
    "--policies",
    "policy_folder",
    type=click.Path(file_okay=False),
    default=None,
    help="Decide with the policy files in this folder (as `accounts render -o DIR` writes them, edited or not).",
)
@click.argument("paths", nargs=-1, type=click.Path())
@accounts_file_option
def accounts_check(
    output: str, show_all: bool, with_pipelines: bool, policy_folder: str | None, paths: tuple[str, ...], accounts_file: str | None
) -> None:
    """Evaluate the rendered policies for every step of the workflow (exit 1 on a missing or extra permission).

    With --pipelines: for every spec, every step and every action it needs, the role, allowed or
    denied and the deciding statement; exit 1 when one is denied."""
    if paths and not with_pipelines:
        raise click.UsageError("PATHS name pipelines: say --pipelines")
    checked = workflow.check(
        build_context(accounts_file=accounts_file), with_pipelines, list(paths), Path(policy_folder) if policy_folder else None
    )
    cells, verdicts, unused = checked.cells, checked.verdicts, checked.unused

    def text() -> None:
        matrix_table(cells, show_all)
        if with_pipelines:
            verdicts_table(verdicts, unused)

    matrix = [c.__dict__ | {"ok": c.ok} for c in cells]
    if with_pipelines:
        requests = [
            {
                **v.need.__dict__,
                "context": v.need.context_dict(),
                "allowed": v.allowed,
                "statement": v.statement,
                "policy": v.policy,
                "reason": v.reason,
            }
            for v in verdicts
        ]
        show(output, {"matrix": matrix, "pipelines": requests, "unused": [u.__dict__ for u in unused]}, text)
    else:
        show(output, matrix, text)
    sys.exit(EXIT_OK if checked.ok else EXIT_INVALID)


@accounts.command("apply")
@click.option("--dry-run", is_flag=True, help="Show what would change and change nothing.")
@click.option("--target", type=click.Choice(["aws", "local"]), default="aws", show_default=True)
@click.option(
    "--assume-role-name",
    default=None,
    metavar="NAME",
    help="Reach every account by assuming this role in it (e.g. OrganizationAccountAccessRole) instead of profiles.",
)
@output_option()
@workspace_option
@accounts_file_option
def accounts_apply(
    dry_run: bool, target: str, assume_role_name: str | None, output: str, workspace: str | None, accounts_file: str | None
) -> None:
    """Apply the rendered policies in every account (profiles or assume_role from the accounts file)."""
    changes = workflow.apply(build_context(None, None, workspace, target, accounts_file=accounts_file), assume_role_name, dry_run)
    pending = [c for c in changes if c.changes]

    def text() -> None:
        for change in changes:
            marker = {"unchanged": "=", "create": "+", "update": "~", "delete": "-"}[change.action]
            click.echo(f"{marker} [{change.account.replace('_', '-')}] {change.what}: {change.action}")
            if change.diff:
                click.echo("\n".join("    " + line for line in change.diff.splitlines()))
        verb = "would change" if dry_run else "changed"
        click.echo(f"{len(pending)} of {len(changes)} {verb}" if changes else "nothing to do")

    show(
        output,
        [{"account": c.account, "what": c.what, "action": c.action, "diff": c.diff, "applied": c.changes and not dry_run} for c in changes],
        text,
    )


@click.group()
def cicd() -> None:
    """CI/CD of the deployment account: EventBridge trigger, CodePipeline/CodeBuild, GitHub Actions."""


@cicd.command("render")
@out_option("Write the files into this folder (default: print them).", retired=("--output-dir",), folder=True)
@accounts_file_option
@click.option(
    "--with-pipelines", is_flag=True, help="Also write each of the project's pipelines as a stack (pipeline.<name>.template.json)."
)
def cicd_render(out: str | None, accounts_file: str | None, with_pipelines: bool) -> None:
    """Render the promotion trigger, pipeline, workload deployer role, buildspec and workflow from the topology."""
    rendered = workflow.cicd(build_context(accounts_file=accounts_file), with_pipelines)
    files = {name: json.dumps(content, indent=2) + "\n" if isinstance(content, dict) else content for name, content in rendered.items()}
    if out:
        write_files(out, files)
    else:
        click.echo("\n".join(f"--- {name}\n{text}" for name, text in files.items()))


COMMANDS = [accounts, cicd]
