"""The sagespec command line: one module per command group, each command thin.

A command parses its options, builds the Project (cli.options.build_project), calls one stage
function and presents the result. This module is the one place that turns errors into output
and exit codes: 0 success, 1 the input is invalid (or denied, or a diff/check found
differences), 2 usage or I/O error (and, with a request to report it, an internal error).
Heavy imports (sagemaker, tensorflow, rich, boto3) happen inside the commands that need them.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

from sagespec import __version__
from sagespec.cli.options import EXIT_INVALID, EXIT_USAGE
from sagespec.diagnostics import DiagnosticError, UserError
from sagespec.diagnostics.formatters import format_text

# Which module holds each command: a command's module is imported only when it runs (or for
# --help), so `sagespec models list` does not pay for the promotion or pipeline commands
# (click's "Lazily Loading Subcommands" pattern).
COMMAND_MODULES = {
    "validate": "spec",
    "render": "spec",
    "compile": "spec",
    "graph": "spec",
    "diff": "spec",
    "schema": "spec",
    "rules": "spec",
    "upsert": "pipelines",
    "start": "pipelines",
    "run": "pipelines",
    "executions": "pipelines",
    "models": "models",
    "accounts": "accounts",
    "cicd": "accounts",
    "promote": "promotion",
    "rollback": "promotion",
    "deployments": "promotion",
    "endpoints": "promotion",
    "data": "data",
    "init": "data",
    "schedules": "schedules",
    "doctor": "doctor",
}


class _Group(click.Group):
    """Loads commands on demand; turns every error into its one standard form and exit code (unless --traceback)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMAND_MODULES)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        module = COMMAND_MODULES.get(name)
        if module is None:
            return None
        found: list[click.Command] = importlib.import_module(f"sagespec.cli.{module}").COMMANDS
        commands = {c.name: c for c in found}
        return commands[name]

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except BrokenPipeError:
            _quiet_closed_pipe()
        except DiagnosticError as error:
            click.echo(format_text(error.diagnostics), err=True)
            if error.summary:
                click.echo(error.summary, err=True)
            sys.exit(error.exit_code)
        except UserError as error:
            click.echo(error.format(), err=True)
            sys.exit(error.exit_code)
        except KeyboardInterrupt as interrupt:
            # 128 + the signal number, as a shell reports it (SIGINT 2, SIGTERM 15)
            terminated = type(interrupt).__name__ == "Terminated"
            click.echo("sagespec: terminated" if terminated else "sagespec: interrupted", err=True)
            sys.exit(143 if terminated else 130)
        except Exception as exc:  # noqa: BLE001 - last line of defence
            if ctx.obj and ctx.obj.get("traceback"):
                raise
            if type(exc).__module__.startswith(("botocore", "boto3", "s3transfer")):
                # An AWS failure no command mapped more precisely is still the user's to fix, not ours.
                click.echo(f"error[E6004]: AWS request failed: {exc}", err=True)
                click.echo("  hint: check credentials, region, endpoint and network", err=True)
                sys.exit(EXIT_INVALID)
            click.echo(f"sagespec: internal error: {type(exc).__name__}: {exc}", err=True)
            click.echo("  rerun with `sagespec --traceback ...` and report it", err=True)
            sys.exit(EXIT_USAGE)


def _quiet_closed_pipe() -> None:
    """The reader went away (`sagespec rules | head -1`): what it read is all it wanted. Point
    stdout at /dev/null so the interpreter's final flush does not complain, and exit 0."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    sys.exit(0)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sagespec")
@click.option("--traceback", is_flag=True, help="Show Python tracebacks of internal errors.")
@click.pass_context
def cli(ctx: click.Context, traceback: bool) -> None:
    """Declarative YAML pipelines for Amazon SageMaker."""
    ctx.obj = {"traceback": traceback}


def main() -> None:
    try:
        cli(prog_name="sagespec")
    except BrokenPipeError:  # raised while click itself printed (help, usage errors)
        _quiet_closed_pipe()
