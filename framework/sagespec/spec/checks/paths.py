"""Code paths must exist and stay inside the project (what gets uploaded is what the project holds)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sagespec.spec.checks.base import CheckContext, rule
from sagespec.spec.files import UnsafePath, inside, project_files, regular_file
from sagespec.spec.references import TRAINING_KINDS, model_sources, parameter_named, processing_code

if TYPE_CHECKING:
    from sagespec.spec.source import Path as JsonPath


def _check_path(ctx: CheckContext, written: str, base: Path, path: JsonPath, want_dir: bool) -> Path | None:
    root = ctx.project_root.resolve()
    if Path(written).is_absolute():
        ctx.report("E4005", f"'{written}' is an absolute path; code paths are relative to the project root {root}", path)
        return None
    try:
        target = (base / written).resolve()
    except (OSError, RuntimeError, ValueError) as exc:  # a link loop, a NUL byte
        ctx.report("E4004", f"'{written}' cannot be read: {exc}", path)
        return None
    if not inside(target, root):
        ctx.report(
            "E4005",
            f"'{written}' resolves to a place outside the project root {root}",
            path,
            hint="keep code inside the project so the same files are uploaded everywhere",
        )
        return None
    what = "folder" if want_dir else "file"
    try:
        exists = target.is_dir() if want_dir else target.is_file()
    except OSError as exc:
        ctx.report("E4004", f"'{written}' cannot be read: {exc.strerror or exc}", path)
        return None
    if not exists:
        shown = target.relative_to(root)
        ctx.report(
            "E4004",
            f"{what} '{shown}' does not exist (project root: {root})",
            path,
            hint="paths are relative to the project root (the folder with pyproject.toml, .git or sagespec.toml)",
        )
        return None
    try:
        if want_dir:
            project_files(base / written, root, written.rstrip("/"))
        else:
            regular_file(base / written, root, written, limit=None)
    except UnsafePath as refused:
        ctx.report("E4005", refused.message, path, hint="what is uploaded must be the project's own regular files")
        return None
    return target


@rule
def input_sources(ctx: CheckContext) -> None:
    """A processing input is read from S3 (or another step's output): the SDK would upload a local
    path from this machine, which is how files outside the project used to reach S3."""
    for i, step in ctx.steps():
        if step.get("kind") != "processing":
            continue
        for j, item in enumerate(step.get("inputs") or []):
            source = item.get("source") if isinstance(item, dict) else None
            if isinstance(source, str) and not source.startswith("s3://") and "${" not in source:
                ctx.report(
                    "E4009",
                    f"input source '{source[:200]}' is neither an s3:// URI nor a reference",
                    ("steps", i, "inputs", j, "source"),
                    hint="upload the data to S3 and name its URI, or use ${params.X} / ${steps.S.outputs.O}",
                )
            name = parameter_named(source)
            default = (ctx.parameters.get(name) or {}).get("default") if name else None
            if name and isinstance(default, str) and not default.startswith("s3://"):
                # What an execution run with the default would hand SageMaker as the input's S3Uri.
                ctx.report(
                    "E4009",
                    f"'{default[:200]}', the default of parameter '{name}', is the source of step '{step.get('name')}' "
                    "input: it is not an s3:// URI",
                    ("parameters", name, "default"),
                    hint="a processing input's S3Uri starts with s3://",
                )


@rule
def code_paths(ctx: CheckContext) -> None:
    root = ctx.project_root
    for i, step in ctx.steps():
        code = processing_code(step) if step.get("kind") == "processing" else None
        if code is not None:
            _check_path(ctx, code, root, ("steps", i, "code"), want_dir=False)
        if step.get("kind") == "processing" and isinstance(step.get("source_dir"), str):
            _check_path(ctx, step["source_dir"], root, ("steps", i, "source_dir"), want_dir=True)
        if step.get("kind") == "lambda" and isinstance(step.get("script"), str):
            _check_path(ctx, step["script"], root, ("steps", i, "script"), want_dir=False)
        for below, model in model_sources(step):  # inference code
            _check_script(ctx, model, root, ("steps", i, *below))
        if step.get("kind") in TRAINING_KINDS:
            _check_script(ctx, step, root, ("steps", i))


def _check_script(ctx: CheckContext, holder: dict[str, Any], root: Path, where: JsonPath) -> None:
    """A source_dir in the project and the entry_point inside it."""
    if not isinstance(holder.get("source_dir"), str):
        return
    source = _check_path(ctx, holder["source_dir"], root, where + ("source_dir",), want_dir=True)
    if source is not None and isinstance(holder.get("entry_point"), str):
        _check_path(ctx, holder["entry_point"], source, where + ("entry_point",), want_dir=False)
