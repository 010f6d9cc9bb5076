"""The pipelines the roles are derived from: each spec compiled, and what its steps need.

Which specs: `--pipelines PATH...` on the command line, else the accounts file's `pipelines:`,
else every spec under pipelines/. Each is loaded, validated and compiled as `sagespec compile`
does (the compile cache makes the second time cheap), so the policies follow the definitions
SageMaker would run, not the YAML.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sagespec.diagnostics import UserError
from sagespec.permissions import Need, needs, places_of

DEFAULT_PIPELINES = ["pipelines"]


@dataclass
class CompiledSpec:
    path: Path
    name: str
    role: str
    definition: dict
    pipeline_arn: str | None = None  # when the spec has a schedule: what its scheduler role starts


def spec_files(project, paths: list[str] | None) -> list[Path]:
    from sagespec.spec.project import expand, is_accounts_file, is_template_file

    topology = project.topology()
    chosen = list(paths or topology.pipelines or DEFAULT_PIPELINES)
    resolved = [str(p if Path(p).is_absolute() or paths else project.root / p) for p in chosen]
    files, missing = expand(resolved)
    if missing:
        source = "" if paths else f" (named by `pipelines:` in {topology.source.name if topology.source else 'the accounts file'})"
        raise UserError("E0001", f"no spec at {', '.join(missing)}{source}", hint="name spec files, folders or globs", exit_code=2)
    return [f for f in files if not is_accounts_file(f) and not is_template_file(f)]


def compile_all(project, paths: list[str] | None = None, skipped: list[Path] | None = None) -> list[CompiledSpec]:
    """Every spec compiled. With `skipped`, a spec that only uses features the installed SDK's
    backend does not build yet (E5010) is left out and its path added there, instead of failing."""
    from sagespec.compiler import compile_spec
    from sagespec.diagnostics import DiagnosticError
    from sagespec.pipelines import schedules
    from sagespec.spec import load_spec
    from sagespec.workspace import compile_cache_dir

    compiled = []
    for path in spec_files(project, paths):
        try:
            pipeline = compile_spec(load_spec(path, project.root), compile_cache_dir(project.workspace))
        except DiagnosticError as refused:
            if skipped is None or any(d.code != "E5010" for d in refused.diagnostics):
                raise
            skipped.append(path)
            continue
        scheduled = schedules.pipeline_arn(pipeline) if pipeline.schedule else None
        compiled.append(CompiledSpec(path, pipeline.name, pipeline.role, pipeline.definition, scheduled))
    return compiled


def pipeline_needs(project, paths: list[str] | None = None, skipped: list[Path] | None = None) -> list[Need]:
    """Every request of every step of the project's pipelines (see sagespec.permissions)."""
    where = places_of(project.topology())
    found: list[Need] = []
    for spec in compile_all(project, paths, skipped):
        found += needs(spec.name, spec.definition, spec.role, where)
        if spec.pipeline_arn:
            found.append(_scheduled(spec))
    return found


def _scheduled(spec: CompiledSpec) -> Need:
    """What the schedule of `spec` needs: its scheduler role starts the pipeline."""
    from sagespec.pipelines.schedules import scheduler_role_arn

    return Need(
        spec.name,
        "(schedule)",
        "scheduler",
        scheduler_role_arn(spec.role),
        "sagemaker:StartPipelineExecution",
        spec.pipeline_arn,
        "StartScheduledPipelines",
    )
