"""The sagespec command line. Thin: each command parses options and calls one stage.

Exit codes: 0 success, 1 the input is invalid (or a diff/check found differences),
2 usage or I/O error, or an internal error. Heavy imports (sagemaker, tensorflow, rich) happen
inside the commands that need them, so `validate`, `schema` and `render` start fast.
"""

from __future__ import annotations

import json
import sys

import click

from sagespec import __version__

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


class _Group(click.Group):
    """Turns unexpected exceptions into a one-line message and exit 2 (unless --traceback)."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            click.echo("sagespec: interrupted", err=True)
            sys.exit(130)
        except Exception as exc:  # noqa: BLE001 - last line of defence
            if ctx.obj and ctx.obj.get("traceback"):
                raise
            click.echo(f"sagespec: internal error: {type(exc).__name__}: {exc}", err=True)
            click.echo("  rerun with `sagespec --traceback ...` and report it", err=True)
            sys.exit(EXIT_USAGE)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sagespec")
@click.option("--traceback", is_flag=True, help="Show Python tracebacks of internal errors.")
@click.pass_context
def cli(ctx: click.Context, traceback: bool) -> None:
    """Declarative YAML pipelines for Amazon SageMaker."""
    ctx.obj = {"traceback": traceback}


def _emit(diagnostics, output_format: str, color: str) -> None:
    from sagespec.diagnostics import formatters

    colored = output_format == "text" and formatters.color_wanted(color, sys.stdout)
    if output_format == "text":
        text = formatters.format_text(diagnostics, color=colored)
    else:
        text = formatters.FORMATTERS[output_format](diagnostics)
    if text:
        click.echo(text, color=colored)  # click strips ANSI codes off terminals unless told


format_option = click.option(
    "--format", "output_format", type=click.Choice(["text", "json", "github"]), default="text", show_default=True,
    help="text for people, json for tools, github for workflow annotations.",
)
color_option = click.option(
    "--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True,
    help="Colour text output (auto honours NO_COLOR and whether stdout is a terminal).",
)
project_option = click.option(
    "--project-dir", type=click.Path(file_okay=False, exists=True), default=None,
    help="Project root for code paths and templates (default: nearest folder with pyproject.toml, .git or sagespec.toml).",
)


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@format_option
@color_option
@project_option
@click.option("-q", "--quiet", is_flag=True, help="Print findings only, no summary line.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None, help="Processes for large batches (default: CPU count).")
def validate(paths, output_format, color, project_dir, quiet, jobs) -> None:
    """Validate pipeline specs (files, folders or globs) against the schema and semantic rules."""
    from pathlib import Path

    from sagespec.diagnostics import Diagnostic, Span, has_errors
    from sagespec.spec import validate_files
    from sagespec.spec.project import expand

    files, missing = expand(list(paths))
    root = Path(project_dir).resolve() if project_dir else None
    diagnostics = [Diagnostic("E0001", "no such file, folder or matching glob", Span(m)) for m in missing]
    found, invalid = validate_files(files, root, jobs)
    diagnostics += found
    _emit(diagnostics, output_format, color)
    errors = sum(d.severity == "error" for d in diagnostics)
    warnings = len(diagnostics) - errors
    if output_format == "text" and not quiet:
        if not files and not missing:
            click.echo("no spec files found", err=True)
        elif errors:
            click.echo(f"{errors} error(s), {warnings} warning(s) in {invalid + len(missing)} of {len(files) + len(missing)} file(s)", err=True)
        else:
            click.echo(f"{len(files)} file(s) valid" + (f", {warnings} warning(s)" if warnings else ""), err=True)
    if any(d.code == "E0001" for d in diagnostics) or not files:
        sys.exit(EXIT_USAGE)
    sys.exit(EXIT_INVALID if has_errors(diagnostics) else EXIT_OK)


@cli.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--format", "output_format", type=click.Choice(["yaml", "json"]), default="yaml", show_default=True)
@project_option
def render(spec, output_format, project_dir) -> None:
    """Print SPEC after applying its template (and validate the result)."""
    from pathlib import Path

    import yaml

    from sagespec.diagnostics.formatters import format_text
    from sagespec.spec import load_spec

    result = load_spec(spec, Path(project_dir).resolve() if project_dir else None)
    if result.diagnostics:
        click.echo(format_text(result.diagnostics), err=True)
    if result.document is None or not result.ok:
        sys.exit(EXIT_USAGE if any(d.code == "E0001" for d in result.diagnostics) else EXIT_INVALID)
    if output_format == "json":
        click.echo(json.dumps(result.document.data, indent=2))
    else:
        click.echo(yaml.safe_dump(result.document.data, sort_keys=False, width=100).rstrip())


@cli.command("schema")
@click.option("--name", type=click.Choice(["pipeline", "template"]), default="pipeline", show_default=True)
def schema_command(name) -> None:
    """Print the JSON Schema that specs (or templates) are validated against."""
    from sagespec.spec.schema import schema_path

    click.echo(schema_path(f"{name}.schema.json").read_text(encoding="utf-8").rstrip())


@cli.command()
def rules() -> None:
    """List the rule IDs that diagnostics use."""
    from sagespec.diagnostics.catalog import RULES

    for code, title in RULES.items():
        click.echo(f"{code}  {title}")


def main() -> None:
    cli(prog_name="sagespec")


if __name__ == "__main__":
    main()
