"""A clean copy of the code a spec uploads, at the same relative paths.

The SDK derives S3 code keys from a hash of the path strings it is given and of every file under
a source folder. Compiling from a staged copy, whose paths are hashed as the spec writes them
(compiler.offline.relative_code_hashes), makes the keys depend only on file names and contents:
the same on every machine, and unchanged by `__pycache__` or editor droppings that are never
meant to be uploaded.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

from sagespec.spec.files import project_files, regular_file
from sagespec.spec.references import TRAINING_KINDS, model_sources, processing_code

IGNORED_SUFFIXES = (".pyc", ".pyo", ".swp", "~")
IGNORED_NAMES = {".DS_Store"}


def _wanted(path: Path) -> bool:
    return not (path.name in IGNORED_NAMES or path.name.endswith(IGNORED_SUFFIXES))


def code_paths(data: dict[str, Any]) -> list[str]:
    """Relative paths of the files and folders a (validated) spec uploads."""
    found: list[str] = []
    for step in data.get("steps", []):
        if step.get("kind") == "processing":
            found.append(processing_code(step) or step["code"])  # validated: a processing step has its code
            if step.get("source_dir"):  # a framework processor uploads the folder with the script
                found.append(step["source_dir"])
        elif step.get("kind") == "lambda" and step.get("script"):  # the function's package
            found.append(step["script"])
        elif step.get("kind") in TRAINING_KINDS and step.get("source_dir"):  # your own image may bring its program
            found.append(step["source_dir"])
        else:  # inference code
            found += [model["source_dir"] for _, model in model_sources(step) if model.get("source_dir")]
    return sorted(set(found))


def staged_files(root: Path, paths: list[str]) -> list[tuple[str, Path]]:
    """(relative name, source file) for every file that gets staged, sorted. A link out of the
    project or a file that is not regular raises UnsafePath (validation reports it first; this is
    the last guard before anything reaches an archive or S3)."""
    files: list[tuple[str, Path]] = []
    for rel in paths:
        source = root / rel
        if source.is_file():
            regular_file(source, root, rel, limit=None)
            files.append((Path(rel).as_posix(), source))
            continue
        for path in project_files(source, root, rel):
            if _wanted(path):
                files.append(((Path(rel) / path.relative_to(source)).as_posix(), path))
    return sorted(set(files))


def fingerprint(root: Path, paths: list[str]) -> str:
    """A hash of every staged file's name and bytes (part of the compile cache key)."""
    digest = hashlib.sha256()
    for rel, path in staged_files(root, paths):
        digest.update(rel.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def stage(root: Path, paths: list[str], scratch: Path) -> Path:
    """Copy the code into `scratch`, at the same relative paths; `scratch` is the copy's root."""
    for rel, path in staged_files(root, paths):
        target = scratch / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    return scratch
