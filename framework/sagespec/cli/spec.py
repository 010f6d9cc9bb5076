"""Commands on specs: validate, render, schema, rules, graph, compile, diff.

None of them but compile and diff imports the SageMaker SDK (a test checks `sys.modules`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from sagespec.cli.options import (
    EXIT_INVALID,
    EXIT_OK,
    LegacyFile,
    aws_options,
    build_context,
    color_option,
    out_option,
    output_option,
    project_option,
    show,
    warn,
    workspace_option,
    write_output,
)
from sagespec.definition import top_level_count
from sagespec.definition.diff import format_json, format_text
from sagespec.diagnostics import formatters
from sagespec.workflows import specs

if TYPE_CHECKING:
    from sagespec.diagnostics import Diagnostic


def _emit(diagnostics: list[Diagnostic], output_format: str, color: str) -> None:
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
def validate(paths: tuple[str, ...], output: str, color: str, project_dir: str | None, quiet: bool, jobs: int | None) -> None:
    """Validate pipeline specs (files, folders or globs) against the schema and semantic rules."""
    report = specs.validate(list(paths), build_context(project_dir=project_dir).root if project_dir else None, jobs)
    _emit(report.diagnostics, output, color)
    if output == "text" and not quiet:
        click.echo(report.summary(), err=True)
    sys.exit(report.exit_code)


@click.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@output_option("yaml", "json", help="The rendered spec as YAML or JSON.")
@project_option
def render(spec: str, output: str, project_dir: str | None) -> None:
    """Print SPEC after applying its template (and validate the result)."""
    text, result = specs.render(build_context(spec, project_dir), spec, output)
    warn(result.diagnostics)
    click.echo(text)


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
def compile_command(
    spec: str, output: str, out: str | None, no_cache: bool, sdk: str | None, project_dir: str | None, workspace: str | None
) -> None:
    """Compile SPEC into the SageMaker pipeline definition JSON (offline, deterministic)."""
    ctx = build_context(spec, project_dir, workspace)
    out = out or (output if isinstance(output, LegacyFile) else None)
    if output == "cloudformation":
        stack, pipeline = specs.cloudformation(ctx, spec)
        warn(pipeline.warnings)
        text = json.dumps(stack, indent=2) + "\n"
        if out:
            write_output(out, text)
            click.echo(f"wrote {out} (AWS::SageMaker::Pipeline {pipeline.name}, definition at {pipeline.definition_upload.uri})", err=True)
        else:
            click.echo(text, nl=False)
        return
    pipeline = specs.compiled(ctx, spec, cache=not no_cache, sdk=sdk)
    warn(pipeline.warnings)
    if out:
        write_output(out, pipeline.definition_json)
        click.echo(
            f"wrote {out} ({top_level_count(pipeline.definition)} top-level steps, "
            f"{len(pipeline.uploads)} uploads, SDK {pipeline.sdk}{', cached' if pipeline.from_cache else ''})",
            err=True,
        )
    else:
        click.echo(pipeline.definition_json, nl=False)


@click.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@output_option("mermaid", "dot", "svg", "png", legacy_file=True, help="mermaid or dot text; svg or png through Graphviz's dot.")
@out_option()
@project_option
def graph(spec: str, output: str, out: str | None, project_dir: str | None) -> None:
    """Draw SPEC's steps, dependencies and condition branches."""
    if isinstance(output, LegacyFile):
        out, output = out or str(output), "mermaid"
    content = specs.graph(build_context(spec, project_dir), spec, output)
    if out:
        write_output(out, content)
    else:
        sys.stdout.buffer.write(content)  # what click.get_binary_stream("stdout") returned (deprecated in click 8.5)


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
def diff_command(
    spec: str,
    against: str | None,
    target: str | None,
    output: str,
    profile: str | None,
    region: str | None,
    assume_role: str | None,
    project_dir: str | None,
    workspace: str | None,
) -> None:
    """Compare SPEC's compiled definition with a saved one or the deployed one (exit 1 when they differ)."""
    if bool(against) == bool(target):
        raise click.UsageError("give exactly one of --against FILE or --target aws|local")
    ctx = build_context(spec, project_dir, workspace, target, profile, region, assume_role)
    found = specs.diff(ctx, spec, Path(against) if against else None)
    warn(found.pipeline.warnings)
    text = format_json(found.changes) if output == "json" else format_text(found.changes, found.old_label, f"{spec} (compiled)")
    click.echo(text, nl=False)
    sys.exit(EXIT_INVALID if found.changes else EXIT_OK)


@click.command("schema")
@click.option("--name", type=click.Choice(["pipeline", "template", "accounts"]), default="pipeline", show_default=True)
def schema_command(name: str) -> None:
    """Print the JSON Schema that specs (or templates, or the accounts file) are validated against."""
    click.echo(specs.schema_text(name))


@click.command()
@output_option()
def rules(output: str) -> None:
    """List the rule IDs that diagnostics use."""
    found = specs.rules()
    show(output, found, lambda: click.echo("\n".join(f"{r['code']}  {r['title']}" for r in found)))


COMMANDS = [validate, render, compile_command, graph, diff_command, schema_command, rules]
