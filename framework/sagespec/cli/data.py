"""Commands that bring your own things in: init (a new project from a template), data put, data ls."""

from __future__ import annotations

from pathlib import Path

import click

from sagespec.cli.options import build_context, output_option, project_option, show, workspace_option
from sagespec.workflows import data as workflow
from sagespec.workflows.scaffold import init as scaffold


@click.group()
def data() -> None:
    """Your own data in the local object store, where local runs read S3 inputs."""


@data.command("put")
@click.argument("source", type=click.Path(exists=False))
@click.argument("uri")
@project_option
@workspace_option
def data_put(source: str, uri: str, project_dir: str | None, workspace: str | None) -> None:
    """Store SOURCE (a file, or a folder recursively) at URI (s3://bucket/key; a key ending in / takes the file's name)."""
    for done in workflow.put(build_context(None, project_dir, workspace, target="local"), Path(source), uri):
        click.echo(f"{done.status} {done.uri} ({done.size:,} bytes from {done.source})")


@data.command("ls")
@click.argument("prefix", required=False, default="")
@output_option()
@project_option
@workspace_option
def data_ls(prefix: str, output: str, project_dir: str | None, workspace: str | None) -> None:
    """List the objects under PREFIX (s3://bucket/ or s3://bucket/key-prefix; all without one)."""
    found = workflow.listing(build_context(None, project_dir, workspace, target="local"), prefix)
    show(
        output,
        found,
        lambda: click.echo(
            "\n".join(f"{(o['updated_at'] or '')[:19]}  {o['size']:>12,}  {o['uri']}" for o in found)
            or f"no objects under {prefix or 's3://'}"
        ),
    )


@click.command()
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--template", "template", default="tf_regression", show_default=True, help="The template the project's spec fills in.")
@click.option("--name", default=None, help="The pipeline and model package group name (default: the folder's name).")
def init(directory: str, template: str, name: str | None) -> None:
    """Create a project in DIRECTORY (new or empty) from a template: spec, accounts file, code and sample data."""
    done = scaffold(Path(directory), template, name)
    for path in done.files:
        click.echo(f"created {path}")
    click.echo(f"next: cd {done.root} && sagespec validate pipelines/ && sagespec run {done.spec.relative_to(done.root)}")


COMMANDS = [data, init]
