"""Your own data in the local object store: `sagespec data put` and `sagespec data ls`.

A local run reads its inputs from the workspace's object store (sagespec.backends.local.objects); the
bundled data is seeded from pipelines/data/, and anything else arrives here. Names follow S3's
rules ("Bucket naming rules", "Naming Amazon S3 objects": a bucket of 3-63 lowercase letters,
digits, dots and hyphens, starting and ending with a letter or digit; a key of 1-1,024 bytes of
UTF-8). As `aws s3 cp`, a key ending in `/` takes the file's name, and a folder is put
recursively. Only regular files are read: a symbolic link is refused, never followed, so nothing
outside what was named leaves the machine's files through one.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sagespec.backends.factory import open_objects
from sagespec.context import Context
from sagespec.diagnostics import UserError

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
MAX_KEY_BYTES = 1024


@dataclass(frozen=True)
class Put:
    source: Path
    uri: str
    status: str  # stored | replaced | unchanged
    size: int


def check_uri(uri: str, prefix: bool = False) -> tuple[str, str]:
    """(bucket, key) of an s3:// URI, or E6017 saying which S3 rule it breaks."""
    if not uri.startswith("s3://"):
        raise UserError("E6017", f"'{uri}' is not an s3:// URI", exit_code=2)
    bucket, _, key = uri[5:].partition("/")
    if not _BUCKET.match(bucket) or ".." in bucket or re.fullmatch(r"\d+\.\d+\.\d+\.\d+", bucket):
        raise UserError(
            "E6017",
            f"'{bucket}' is not a valid S3 bucket name (3-63 lowercase letters, digits, dots and hyphens; no IP address)",
            exit_code=2,
        )
    if not key and not prefix:
        raise UserError("E6017", f"'{uri}' names a bucket but no key", exit_code=2)
    if len(key.encode()) > MAX_KEY_BYTES:
        raise UserError(
            "E6017", f"the key of '{uri[:80]}...' is {len(key.encode())} bytes; S3 keys are at most {MAX_KEY_BYTES}", exit_code=2
        )
    return bucket, key


def _files(source: Path) -> list[tuple[Path, str]]:
    """(file, its path under `source`) for a file or a folder; links and special files refused."""
    if source.is_symlink():
        raise UserError("E4005", f"{source} is a symbolic link; sagespec reads only regular files and does not follow links", exit_code=2)
    if source.is_file():
        return [(source, source.name)]
    if not source.is_dir():
        raise UserError("E6005", f"{source} does not exist or is not a regular file or folder", exit_code=2)
    found = []
    for path in sorted(source.rglob("*")):
        if path.is_symlink():
            raise UserError("E4005", f"{path} is a symbolic link; sagespec reads only regular files and does not follow links", exit_code=2)
        if path.is_file():
            found.append((path, path.relative_to(source).as_posix()))
    if not found:
        raise UserError("E6005", f"{source} holds no files", exit_code=2)
    return found


def put(ctx: Context, source: Path, uri: str) -> list[Put]:
    """Store `source` (a file or a folder) at `uri` in the local object store. Every name is
    checked before anything is stored, so a bad one stores nothing."""
    store = open_objects(ctx.with_target("local"))
    check_uri(uri, prefix=True)
    files = _files(source)
    single = source.is_file()
    targets = []
    for path, relative in files:
        target = (uri + relative if uri.endswith("/") else uri) if single else uri.rstrip("/") + "/" + relative
        check_uri(target)
        targets.append((path, target))
    done = []
    for path, target in targets:
        body = path.read_bytes()
        before = hashlib.sha256(store.get(target)).hexdigest() if store.exists(target) else None
        if before == hashlib.sha256(body).hexdigest():
            done.append(Put(path, target, "unchanged", len(body)))
            continue
        store.put(target, body)
        done.append(Put(path, target, "replaced" if before else "stored", len(body)))
    return done


def listing(ctx: Context, prefix: str = "") -> list[dict[str, Any]]:
    """Every object under `prefix` (all of them without one) in the local object store: uri,
    size, sha256, updated_at."""
    if prefix:
        check_uri(prefix, prefix=True)
    return open_objects(ctx.with_target("local")).describe(prefix or "s3://")
