"""Commands on specs: validate, render, schema, rules, graph, compile, diff.

None of them but compile and diff imports the SageMaker SDK (a test checks `sys.modules`).
"""

from __future__ import annotations

import json
import sys

import click

from sagespec.cli.options import (
    EXIT_INVALID,
    EXIT_OK,
    EXIT_USAGE,
    aws_options,
    build_project,
    color_option,
    out_option,
    output_option,
    project_option,
    workspace_option,
)


def _emit(diagnostics, output_format: str, color: str) -> None:
    from sagespec.diagnostics import formatters

    colored = output_format == "text" and formatters.color_wanted(color, sys.stdout)
    if output_format == "text":
        text = formatters.format_text(diagnostics, color=colored)
    else:
        text = formatters.FORMATTERS[output_format](diagnostics)
    if text:
        click.echo(text, color=colored)  # click strips ANSI codes off terminals unless told


@click.command()
@click.argument("paths", nargs=-1, required=True)
@output_option("text", "json", "github", help="text for people, json for tools, github for workflow annotations.")
@color_option
@project_option
@click.option("-q", "--quiet", is_flag=True, help="Print findings only, no summary line.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None, help="Processes for large batches (default: CPU count).")
def validate(paths, output, color, project_dir, quiet, jobs) -> None:
    """Validate pipeline specs (files, folders or globs) against the schema and semantic rules."""
    from sagespec.spec import validate_paths

    report = validate_paths(list(paths), build_project(project_dir=project_dir).root if project_dir else None, jobs)
    _emit(report.diagnostics, output, color)
    if output == "text" and not quiet:
        click.echo(report.summary(), err=True)
    sys.exit(report.exit_code)


def load_valid(spec: str, project):
    """Load and validate SPEC for a command that goes on with it; raises its diagnostics if invalid."""
    from sagespec.diagnostics import DiagnosticError
    from sagespec.spec import load_spec

    result = load_spec(spec, project.root)
    if not result.ok:
        missing = any(d.code == "E0001" for d in result.diagnostics)
        raise DiagnosticError(result.diagnostics, exit_code=EXIT_USAGE if missing else EXIT_INVALID)
    if result.diagnostics:  # warnings only
        from sagespec.diagnostics.formatters import format_text

        click.echo(format_text(result.diagnostics), err=True)
    return result


def compiled(spec: str, project, cache: bool = True, sdk: str | None = None):
    """Load, validate and compile SPEC (cached in the project's workspace), or raise its diagnostics."""
    from sagespec.compiler import compile_spec
    from sagespec.workspace import compile_cache_dir

    return compile_spec(load_valid(spec, project), compile_cache_dir(project.workspace) if cache else None, sdk)


@click.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@output_option("yaml", "json")
@project_option
def render(spec, output, project_dir) -> None:
    """Print SPEC after applying its template (and validate the result)."""
    from sagespec.spec import render_text

    click.echo(render_text(load_valid(spec, build_project(spec, project_dir)), output))


@click.command("compile")
@click.argument("spec", type=click.Path(dir_okay=False))
@output_option(
    "json",
    "cloudformation",
    help="json: the pipeline definition SageMaker receives; cloudformation: a template of the pipeline (and its schedule).",
    legacy_file=True,
)
@out_option("Write the definition JSON (or the template) here instead of stdout.")
@click.option("--no-cache", is_flag=True, help="Compile even if an identical compile is cached.")
@click.option(
    "--sdk",
    type=click.Choice(["v2", "v3"]),
    default=None,
    help="The SageMaker Python SDK to build with (default: the installed one, or $SAGESPEC_SDK); it must be the installed one.",
)
@project_option
@workspace_option
def compile_command(spec, output, out, no_cache, sdk, project_dir, workspace) -> None:
    """Compile SPEC into the SageMaker pipeline definition JSON (offline, deterministic)."""
    from sagespec.cli.options import LegacyFile, write_output
    from sagespec.definition import top_level_count

    result = compiled(spec, build_project(spec, project_dir, workspace), cache=not no_cache, sdk=sdk)
    out = out or (output if isinstance(output, LegacyFile) else None)
    if output == "cloudformation":
        from sagespec.pipelines.cloudformation import template

        text = json.dumps(template(result), indent=2) + "\n"
        if out:
            write_output(out, text)
            definition = result.definition_upload
            click.echo(f"wrote {out} (AWS::SageMaker::Pipeline {result.name}, definition at {definition.uri})", err=True)
        else:
            click.echo(text, nl=False)
        return
    if out:
        write_output(out, result.definition_json)
        click.echo(
            f"wrote {out} ({top_level_count(result.definition)} top-level steps, "
            f"{len(result.uploads)} code uploads, SDK {result.sdk}{', cached' if result.from_cache else ''})",
            err=True,
        )
    else:
        click.echo(result.definition_json, nl=False)


@click.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@output_option("mermaid", "dot", "svg", "png", legacy_file=True)
@out_option()
@project_option
def graph(spec, output, out, project_dir) -> None:
    """Draw SPEC's steps, dependencies and condition branches."""
    from sagespec import graph as drawing
    from sagespec.cli.options import LegacyFile, write_output

    if isinstance(output, LegacyFile):
        out, output = out or str(output), "mermaid"
    content = drawing.draw(load_valid(spec, build_project(spec, project_dir)).document.data, output)
    if out:
        write_output(out, content)
    else:
        click.get_binary_stream("stdout").write(content)


@click.command("diff")
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--against", type=click.Path(dir_okay=False, exists=True), default=None, help="A saved definition JSON to compare with.")
@click.option(
    "--target",
    type=click.Choice(["aws", "local"]),
    default=None,
    help="Compare with the pipeline deployed there (SageMaker, or the local control plane).",
)
@output_option()
@aws_options
@project_option
@workspace_option
def diff_command(spec, against, target, output, profile, region, assume_role, project_dir, workspace) -> None:
    """Compare SPEC's compiled definition with a saved one or the deployed one (exit 1 when they differ)."""
    from pathlib import Path

    from sagespec import diff as differ

    if bool(against) == bool(target):
        raise click.UsageError("give exactly one of --against FILE or --target aws|local")
    project = build_project(spec, project_dir, workspace, target, profile, region, assume_role)
    new = compiled(spec, project)
    if against:
        try:
            old = json.loads(Path(against).read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise click.BadParameter(f"{against} is not JSON: {exc}", param_hint="--against") from None
        label = against
    else:
        from sagespec.backends import open_pipelines

        old = open_pipelines(project, region=region or new.region).deployed_definition(new.name)
        label = f"deployed pipeline {new.name}" + (" (local)" if project.target == "local" else "")
    changes = differ.diff(old, new.definition)
    text = differ.format_json(changes) if output == "json" else differ.format_text(changes, label, f"{spec} (compiled)")
    click.echo(text, nl=False)
    sys.exit(EXIT_INVALID if changes else EXIT_OK)


@click.command("schema")
@click.option("--name", type=click.Choice(["pipeline", "template", "accounts"]), default="pipeline", show_default=True)
def schema_command(name) -> None:
    """Print the JSON Schema that specs (or templates, or the accounts file) are validated against."""
    from sagespec.spec.schema import schema_path

    click.echo(schema_path(f"{name}.schema.json").read_text(encoding="utf-8").rstrip())


@click.command()
@output_option()
def rules(output) -> None:
    """List the rule IDs that diagnostics use."""
    from sagespec.cli.options import show
    from sagespec.diagnostics.catalog import RULES

    show(
        output,
        [{"code": code, "title": title} for code, title in RULES.items()],
        lambda: click.echo("\n".join(f"{code}  {title}" for code, title in RULES.items())),
    )


COMMANDS = [validate, render, compile_command, graph, diff_command, schema_command, rules]
