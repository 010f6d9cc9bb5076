"""Commands on the local object store: data put, data ls."""

from __future__ import annotations

from pathlib import Path

import click

from sagespec.cli.options import build_project, output_option, project_option, show, workspace_option


@click.group()
def data() -> None:
    """Your own data in the local object store, where local runs read S3 inputs."""


@data.command("put")
@click.argument("source", type=click.Path(exists=False))
@click.argument("uri")
@project_option
@workspace_option
def data_put(source, uri, project_dir, workspace) -> None:
    """Store SOURCE (a file, or a folder recursively) at URI (s3://bucket/key; a key ending in / takes the file's name)."""
    from sagespec.backends import open_objects
    from sagespec.data import put

    project = build_project(None, project_dir, workspace, target="local")
    for done in put(open_objects(project), Path(source), uri):
        click.echo(f"{done.status} {done.uri} ({done.size:,} bytes from {done.source})")


@data.command("ls")
@click.argument("prefix", required=False, default="")
@output_option()
@project_option
@workspace_option
def data_ls(prefix, output, project_dir, workspace) -> None:
    """List the objects under PREFIX (s3://bucket/ or s3://bucket/key-prefix; all without one)."""
    from sagespec.backends import open_objects
    from sagespec.data import listing

    found = listing(open_objects(build_project(None, project_dir, workspace, target="local")), prefix)
    show(
        output,
        found,
        lambda: click.echo(
            "\n".join(f"{(o['updated_at'] or '')[:19]}  {o['size']:>12,}  {o['uri']}" for o in found)
            or f"no objects under {prefix or 's3://'}"
        ),
    )


COMMANDS = [data]
