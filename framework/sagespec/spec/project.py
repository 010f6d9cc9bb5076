"""Where a project starts, and which files a `validate PATH...` call means."""

from __future__ import annotations

import glob
import os
from pathlib import Path

ROOT_MARKERS = ("sagespec.toml", "pyproject.toml", ".git")
SPEC_SUFFIXES = (".yaml", ".yml")
# Files in a pipelines folder that are not pipeline specs: validated against their own schema.
ACCOUNTS_FILES = ("accounts.yaml", "accounts.yml")


def find_project_root(start: str | os.PathLike[str]) -> Path:
    """The nearest folder at or above `start` holding sagespec.toml, pyproject.toml or .git."""
    # Not resolved: a link's own place says which project it belongs to (where it points is checked on reading).
    here = Path(os.path.abspath(start))
    try:
        here = here if here.is_dir() else here.parent
    except OSError:  # a name too long for the file system: its folder is still a place to start
        here = here.parent
    for folder in (here, *here.parents):
        if any((folder / marker).exists() for marker in ROOT_MARKERS):
            return folder
    return here


RENDERED_CICD = "cicd"
# Folder walks skip hidden folders (.venv, .git, .sagespec) and these: they hold no specs of the project.
SKIPPED_FOLDERS = ("node_modules", "__pycache__")


def is_template_file(path: Path) -> bool:
    return path.parent.name == "templates"


def is_accounts_file(path: Path) -> bool:
    return path.name in ACCOUNTS_FILES


def display_path(path: str | os.PathLike[str]) -> str:
    """Relative to the working directory when below it, as compilers print paths."""
    try:
        return os.path.relpath(path) if not os.path.relpath(path).startswith("..") else str(path)
    except ValueError:  # another drive on Windows
        return str(path)


def expand(arguments: list[str]) -> tuple[list[Path], list[str]]:
    """Files named by arguments (files, folders, globs) and the arguments that matched nothing."""
    files: list[Path] = []
    missing: list[str] = []
    for argument in arguments:
        if not argument.strip():
            missing.append(argument)  # "" would mean the current folder; a usage error, not a walk of everything
            continue
        path = Path(argument)
        try:
            path.exists()
        except OSError:  # a name too long for the file system: reading it says so, with the reason
            files.append(path)
            continue
        if path.is_dir():
            for found in sorted(path.rglob("*")):
                # cicd/ holds what `sagespec cicd render` writes (buildspec, workflow): not specs.
                folders = found.relative_to(path).parts[:-1]
                if (
                    found.suffix in SPEC_SUFFIXES
                    and found.is_file()
                    and RENDERED_CICD not in folders
                    and not any(f.startswith(".") or f in SKIPPED_FOLDERS for f in folders)
                ):
                    files.append(found)
        elif path.exists():
            files.append(path)
        elif glob.has_magic(argument):
            matches = sorted(Path(m) for m in glob.glob(argument, recursive=True) if Path(m).is_file())
            files.extend(matches) if matches else missing.append(argument)
        else:
            missing.append(argument)
    return list(dict.fromkeys(files)), missing
