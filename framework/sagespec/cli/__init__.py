"""The sagespec command line: one module per command group, each command thin.

A command parses its options, builds the Project (cli.options.build_project), calls one stage
function and presents the result. This module is the one place that turns errors into output
and exit codes: 0 success, 1 the input is invalid (or denied, or a diff/check found
differences), 2 usage or I/O error (and, with a request to report it, an internal error).
Heavy imports (sagemaker, tensorflow, rich, boto3) happen inside the commands that need them.
"""

from __future__ import annotations

import os
import sys

import click

from sagespec import __version__
from sagespec.cli import accounts, models, pipelines, promotion, spec
from sagespec.cli.options import EXIT_INVALID, EXIT_USAGE

# Libraries that log INFO through the root logger once something configures it (the SDK does).
_QUIET_LOGGERS = ("botocore", "boto3", "s3transfer", "urllib3", "sagemaker", "sagemaker.config")


class _Group(click.Group):
    """Turns every error into its one standard form and exit code (unless --traceback)."""

    def invoke(self, ctx: click.Context):
        from sagespec.diagnostics import DiagnosticError, UserError

        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except BrokenPipeError:
            _quiet_closed_pipe()
        except DiagnosticError as error:
            from sagespec.diagnostics.formatters import format_text

            click.echo(format_text(error.diagnostics), err=True)
            if error.summary:
                click.echo(error.summary, err=True)
            sys.exit(error.exit_code)
        except UserError as error:
            click.echo(error.format(), err=True)
            sys.exit(error.exit_code)
        except KeyboardInterrupt:
            click.echo("sagespec: interrupted", err=True)
            sys.exit(130)
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
    import logging

    ctx.obj = {"traceback": traceback}
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


for _module in (spec, pipelines, models, accounts, promotion):
    for _command in _module.COMMANDS:
        cli.add_command(_command)


def main() -> None:
    try:
        cli(prog_name="sagespec")
    except BrokenPipeError:  # raised while click itself printed (help, usage errors)
        _quiet_closed_pipe()
