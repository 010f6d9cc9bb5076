"""`sagespec doctor`: what this machine offers a local run, and what each missing piece costs."""

from __future__ import annotations

import click

from sagespec.backends.local.machine import Piece
from sagespec.cli.console import to_json
from sagespec.cli.options import build_context, output_option, project_option
from sagespec.workflows.doctor import doctor as doctor_workflow


def _line(piece: Piece) -> None:
    click.echo(f"  [{'ok' if piece.available else '--'}] {piece.name}: {piece.detail}")
    if piece.cost:
        click.echo(f"       costs: {piece.cost}")


@click.command()
@output_option()
@project_option
def doctor(output: str, project_dir: str | None) -> None:
    """What this machine offers a local run: isolation mode, Docker, SDK versions, local extras."""
    machine = doctor_workflow(build_context(project_dir=project_dir))
    if output == "json":
        click.echo(to_json(machine))
        return
    click.echo(f"isolation: {machine.isolation} ({machine.isolation_reason})")
    for piece in machine.modes:
        _line(piece)
    click.echo("docker:")
    if machine.docker:
        _line(machine.docker)
    click.echo("SageMaker Python SDK:")
    for piece in machine.sdk:
        _line(piece)
    click.echo("local extras:")
    for piece in machine.extras:
        _line(piece)


COMMANDS = [doctor]
