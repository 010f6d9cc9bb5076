"""Reading a project's files safely: regular files inside the project, of a bounded size.

A spec, template, accounts file or piece of code is read (or staged for upload) only when it is a
regular file that resolves, symlinks followed, to a place inside the project. A link out of the
project, a FIFO or device (`/dev/zero`), a folder where a file is meant, a symlink loop or a name
too long for the file system is a finding that names the path, never what lies behind it. Reads
stop at a size limit, so a 100 MB file is refused without being read.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from pathlib import Path

# Folders that are never code to upload: what validation walks and what staging copies skip both.
IGNORED_DIRS = frozenset({"__pycache__", ".ipynb_checkpoints", ".pytest_cache", ".mypy_cache", ".git"})

# Specs, templates and the accounts file are hand-written YAML; the largest bundled one is 5 KB.
MAX_SPEC_BYTES = 1024 * 1024


class UnsafePath(Exception):
    """Why a path is not read; `code` is the rule: E0001 unreadable, E0009 not a regular file
    inside the project, E0010 too large."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
        return True
    except ValueError:
        return False


def resolve_inside(path: Path, root: Path | None, shown: str) -> Path:
    """The resolved path, or UnsafePath when it loops, or when a symbolic link on the way leads
    out of the project `root`. (A file named directly, with no link, is what the user asked for.)"""
    try:
        resolved = Path(os.path.realpath(path, strict=False))
        if path.is_symlink():
            os.stat(path)  # a loop or a dangling link fails here
    except OSError as exc:
        raise UnsafePath("E0001", f"cannot read {shown}: {_reason(exc)}") from None
    linked = resolved != Path(os.path.abspath(path))
    if root is not None and linked and not inside(resolved, Path(os.path.realpath(root))):
        raise UnsafePath("E0009", f"{shown} is a symbolic link to a file outside the project; sagespec reads only files inside it")
    return resolved


def regular_file(path: Path, root: Path | None, shown: str, limit: int | None = MAX_SPEC_BYTES) -> os.stat_result:
    """stat() of `path` when it is a regular file inside `root` and within `limit` bytes."""
    resolve_inside(path, root, shown)
    try:
        info = os.stat(path)
    except OSError as exc:
        raise UnsafePath("E0001", f"cannot read {shown}: {_reason(exc)}") from None
    if stat.S_ISDIR(info.st_mode):
        raise UnsafePath("E0009", f"{shown} is a folder, not a file")
    if not stat.S_ISREG(info.st_mode):
        kind = (
            "a FIFO"
            if stat.S_ISFIFO(info.st_mode)
            else "a device"
            if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode)
            else "not a regular file"
        )
        raise UnsafePath("E0009", f"{shown} is {kind}; only regular files are read")
    if limit is not None and info.st_size > limit:
        raise UnsafePath("E0010", f"{shown} has {info.st_size:,} bytes; the limit is {limit:,}")
    return info


def read_bytes(path: Path, root: Path | None, shown: str, limit: int = MAX_SPEC_BYTES) -> bytes:
    """The file's bytes, read only after `regular_file` said yes, and never more than `limit`."""
    regular_file(path, root, shown, limit)
    try:
        with open(path, "rb") as handle:  # a file that grew since the stat is still cut at the limit
            data = handle.read(limit + 1)
    except OSError as exc:
        raise UnsafePath("E0001", f"cannot read {shown}: {_reason(exc)}") from None
    if len(data) > limit:
        raise UnsafePath("E0010", f"{shown} has more than {limit:,} bytes; the limit is {limit:,}")
    return data


def project_files(folder: Path, root: Path, shown: str, skip_dir: Callable[[str], bool] = lambda name: name in IGNORED_DIRS) -> list[Path]:
    """Every file below `folder` (a code folder to upload), refusing links out of the project and
    anything that is not a regular file, sorted. Folder links inside the project are not followed
    (os.walk's default), as the SDK's tarball would not follow them either."""
    found: list[Path] = []
    for here, dirs, names in os.walk(folder, onerror=None):
        dirs[:] = sorted(d for d in dirs if not skip_dir(d))
        for name in sorted(dirs):
            path = Path(here) / name
            if path.is_symlink():  # not walked into; but a link out of the project is refused
                resolve_inside(path, root, f"{shown.rstrip('/')}/{path.relative_to(folder).as_posix()}")
        for name in sorted(names):
            path = Path(here) / name
            regular_file(path, root, f"{shown.rstrip('/')}/{path.relative_to(folder).as_posix()}", limit=None)
            found.append(path)
    return found


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "symbolic link loop"
    if exc.errno == errno.ENAMETOOLONG:
        return "name too long for the file system"
    return exc.strerror or str(exc)
