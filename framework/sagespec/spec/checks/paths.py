"""Code paths must exist and stay inside the project (what gets uploaded is what the project holds)."""

from __future__ import annotations

from pathlib import Path

from sagespec.spec.checks import CheckContext, rule


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
        return True
    except ValueError:
        return False


def _check_path(ctx: CheckContext, written: str, base: Path, path: tuple, want_dir: bool) -> Path | None:
    root = ctx.project_root.resolve()
    if Path(written).is_absolute():
        ctx.report("E4005", f"'{written}' is an absolute path; code paths are relative to the project root {root}", path)
        return None
    target = (base / written).resolve()
    if not _inside(target, root):
        ctx.report(
            "E4005",
            f"'{written}' resolves to {target}, outside the project root {root}",
            path,
            hint="keep code inside the project so the same files are uploaded everywhere",
        )
        return None
    what = "folder" if want_dir else "file"
    if not (target.is_dir() if want_dir else target.is_file()):
        shown = target.relative_to(root)
        ctx.report(
            "E4004",
            f"{what} '{shown}' does not exist (project root: {root})",
            path,
            hint="paths are relative to the project root (the folder with pyproject.toml, .git or sagespec.toml)",
        )
        return None
    return target


@rule
def code_paths(ctx: CheckContext) -> None:
    root = ctx.project_root
    for i, step in ctx.steps():
        if step.get("kind") == "processing" and isinstance(step.get("code"), str):
            _check_path(ctx, step["code"], root, ("steps", i, "code"), want_dir=False)
        if step.get("kind") == "training" and isinstance(step.get("source_dir"), str):
            source = _check_path(ctx, step["source_dir"], root, ("steps", i, "source_dir"), want_dir=True)
            if source is not None and isinstance(step.get("entry_point"), str):
                _check_path(ctx, step["entry_point"], source, ("steps", i, "entry_point"), want_dir=False)
