"""Tasks on specs: validate, render, compile, draw, diff; and the one place a spec is loaded
and compiled for every other task (`load_valid`, `compiled`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sagespec.compiler import compile_spec
from sagespec.compiler.cloudformation import template
from sagespec.compiler.compiled import CompiledPipeline
from sagespec.context import Context
from sagespec.definition.diff import Change
from sagespec.definition.diff import diff as definition_diff
from sagespec.diagnostics import DiagnosticError, UserError
from sagespec.diagnostics.catalog import RULES
from sagespec.spec.graph import draw
from sagespec.spec.load import SpecResult, ValidationReport, load_spec, render_text, validate_paths
from sagespec.spec.schema import schema_path

EXIT_INVALID, EXIT_USAGE = 1, 2


def validate(paths: list[str], project_root: Path | None = None, jobs: int | None = None) -> ValidationReport:
    """Every finding in the files, folders and globs named."""
    return validate_paths(paths, project_root, jobs)


def load_valid(ctx: Context, spec: str | Path) -> SpecResult:
    """SPEC loaded, rendered and validated, or its diagnostics raised (a missing file is a usage
    error). What remains in the result's diagnostics are warnings, for the caller to show."""
    result = load_spec(spec, ctx.root)
    if not result.ok:
        missing = any(d.code == "E0001" for d in result.diagnostics)
        raise DiagnosticError(result.diagnostics, exit_code=EXIT_USAGE if missing else EXIT_INVALID)
    return result


def spec_data(result: SpecResult) -> dict[str, Any]:
    """The document of a spec `load_valid` returned: a mapping, as the schema requires."""
    document = result.document
    assert document is not None and isinstance(document.data, dict), "load_valid returns only valid specs"
    return document.data


def compiled(ctx: Context, spec: str | Path, cache: bool = True, sdk: str | None = None) -> CompiledPipeline:
    """SPEC compiled (cached in the context's workspace); its warnings ride along in `.warnings`."""
    result = load_valid(ctx, spec)
    pipeline = compile_spec(result, ctx.compile_cache if cache else None, sdk or ctx.sdk)
    pipeline.warnings = list(result.diagnostics)
    return pipeline


def render(ctx: Context, spec: str | Path, output: str) -> tuple[str, SpecResult]:
    """SPEC after its template is applied, as YAML or JSON (and the result, for its warnings)."""
    result = load_valid(ctx, spec)
    return render_text(result, output), result


def cloudformation(ctx: Context, spec: str | Path) -> tuple[dict[str, Any], CompiledPipeline]:
    """An AWS::SageMaker::Pipeline template of SPEC (and its schedule)."""
    pipeline = compiled(ctx, spec)
    return template(pipeline), pipeline


def graph(ctx: Context, spec: str | Path, output: str) -> bytes:
    return draw(spec_data(load_valid(ctx, spec)), output)


@dataclass
class Diff:
    changes: list[Change]
    old_label: str
    pipeline: CompiledPipeline


def diff(ctx: Context, spec: str | Path, against: Path | None = None) -> Diff:
    """SPEC's compiled definition against a saved one (`against`), or against the pipeline
    deployed on the context's target."""
    from sagespec.backends.factory import open_pipelines  # start-up: diff --against needs no backend

    new = compiled(ctx, spec)
    if against is not None:
        try:
            old = json.loads(against.read_text(encoding="utf-8"))
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            raise UserError("E6018", f"{against} is not a pipeline definition: {exc}", exit_code=EXIT_USAGE) from None
        label = str(against)
    else:
        pipelines = open_pipelines(ctx.for_region(new.region))
        old = pipelines.deployed_definition(new.name)
        label = f"deployed pipeline {new.name} ({pipelines.label})"
        # The functions the steps bring the code of: their ARN in the definition does not change with their code.
        return Diff(definition_diff(old, new.definition) + pipelines.function_changes(new), label, new)
    return Diff(definition_diff(old, new.definition), label, new)


def schema_text(name: str) -> str:
    """The JSON Schema specs (or templates, or the accounts file) are validated against."""
    return schema_path(f"{name}.schema.json").read_text(encoding="utf-8").rstrip()


def rules() -> list[dict[str, str]]:
    """The rule IDs diagnostics use, with their titles."""
    return [{"code": code, "title": title} for code, title in RULES.items()]
