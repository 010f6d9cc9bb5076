"""The pipelines the roles are derived from: each spec compiled, and what its steps need.

Which specs: `--pipelines PATH...` on the command line, else the accounts file's `pipelines:`,
else every spec under pipelines/. Each is loaded, validated and compiled as `sagespec compile`
does (the compile cache makes the second time cheap), so the policies follow the definitions
SageMaker would run, not the YAML.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sagespec.accounts.needs import Need, needs
from sagespec.accounts.render import scheduler_role_arn
from sagespec.backends.factory import places
from sagespec.compiler.compiled import CompiledPipeline
from sagespec.context import Context
from sagespec.diagnostics import DiagnosticError, UserError
from sagespec.spec.project import expand, is_accounts_file, is_template_file
from sagespec.workflows.specs import compiled

DEFAULT_PIPELINES = ["pipelines"]


def spec_files(ctx: Context, paths: list[str] | None) -> list[Path]:
    """The specs `paths` name, else the accounts file's `pipelines:`, else those under pipelines/."""
    topology = ctx.topology()
    chosen = list(paths or topology.pipelines or DEFAULT_PIPELINES)
    resolved = [str(p if Path(p).is_absolute() or paths else ctx.root / p) for p in chosen]
    files, missing = expand(resolved)
    if missing:
        source = "" if paths else f" (named by `pipelines:` in {topology.source.name if topology.source else 'the accounts file'})"
        raise UserError("E0001", f"no spec at {', '.join(missing)}{source}", hint="name spec files, folders or globs", exit_code=2)
    return [f for f in files if not is_accounts_file(f) and not is_template_file(f)]


@dataclass
class CompiledSpec:
    path: Path
    pipeline: CompiledPipeline


def compile_all(ctx: Context, paths: list[str] | None = None, skipped: list[Path] | None = None) -> list[CompiledSpec]:
    """Every spec compiled. With `skipped`, a spec that only uses features the installed SDK's
    backend does not build yet (E5010) is left out and its path added there, instead of failing."""
    found = []
    for path in spec_files(ctx, paths):
        try:
            found.append(CompiledSpec(path, compiled(ctx, path)))
        except DiagnosticError as refused:
            if skipped is None or any(d.code != "E5010" for d in refused.diagnostics):
                raise
            skipped.append(path)
    return found


def scheduled_need(pipeline: str, role: str, pipeline_arn: str) -> Need:
    """What a pipeline's schedule needs: its scheduler role starts the pipeline."""
    return Need(
        pipeline,
        "(schedule)",
        "scheduler",
        scheduler_role_arn(role),
        "sagemaker:StartPipelineExecution",
        pipeline_arn,
        "StartScheduledPipelines",
    )


def pipeline_needs(ctx: Context, paths: list[str] | None = None, skipped: list[Path] | None = None) -> list[Need]:
    """Every request of every step of the project's pipelines (see sagespec.accounts.needs)."""
    where = places(ctx)
    found: list[Need] = []
    for spec in compile_all(ctx, paths, skipped):
        pipeline = spec.pipeline
        found += needs(pipeline.name, pipeline.definition, pipeline.role, where)
        if pipeline.schedule:
            found.append(scheduled_need(pipeline.name, pipeline.role, pipeline.pipeline_arn()))
    return found
