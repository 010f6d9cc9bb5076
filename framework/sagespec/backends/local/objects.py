"""The local object store: `s3://bucket/key` -> bytes, content-addressed on disk, indexed in SQLite.

Bytes live once per content hash under `objects/sha256/ab/abcd...`, written to a temporary file
and renamed into place (atomic; a crash leaves at most an unreferenced temporary). The index
row maps the URI to the hash in the same database as everything else, so S3's flat key space
(where `a` and `a/b` can both exist) needs no folder tricks, and a listing by prefix is one query.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sagespec.aws.s3 import split_uri
from sagespec.backends.local.database import now, transaction
from sagespec.diagnostics import UserError

if TYPE_CHECKING:
    import builtins


class ObjectStore:
    def __init__(self, workspace: Path, conn: sqlite3.Connection):
        self.workspace = workspace
        self.blobs = workspace / "objects" / "sha256"
        self.conn = conn

    def _blob(self, digest: str) -> Path:
        return self.blobs / digest[:2] / digest

    def put(self, uri: str, data: bytes) -> str:
        split_uri(uri)
        digest = hashlib.sha256(data).hexdigest()
        blob = self._blob(digest)
        if not blob.exists():
            blob.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=blob.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, blob)
        with transaction(self.conn):
            self.conn.execute(
                "INSERT INTO objects (uri, sha256, size, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (uri) DO UPDATE SET sha256 = excluded.sha256, size = excluded.size, updated_at = excluded.updated_at",
                (uri, digest, len(data), now()),
            )
        return digest

    def put_file(self, uri: str, path: Path) -> str:
        return self.put(uri, Path(path).read_bytes())

    def _row(self, uri: str) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.conn.execute("SELECT sha256, size FROM objects WHERE uri = ?", (uri,)).fetchone()
        return row

    def delete(self, uri: str) -> bool:
        """Remove the URI from the index (its bytes stay, shared by content, until the workspace goes)."""
        with transaction(self.conn):
            removed = self.conn.execute("DELETE FROM objects WHERE uri = ?", (uri,)).rowcount
        return bool(removed)

    def exists(self, uri: str) -> bool:
        return self._row(uri) is not None

    def sha256(self, uri: str) -> str:
        row = self._row(uri)
        if row is None:
            raise UserError("E6005", f"no object at {uri} in the local object store")
        digest: str = row["sha256"]
        return digest

    def get(self, uri: str) -> bytes:
        return self._blob(self.sha256(uri)).read_bytes()

    def list(self, prefix: str) -> list[str]:
        return [r["uri"] for r in self.describe(prefix)]

    def describe(self, prefix: str) -> builtins.list[dict[str, Any]]:
        """uri, size, sha256 and updated_at of every object under `prefix`."""
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = self.conn.execute(
            "SELECT uri, size, sha256, updated_at FROM objects WHERE uri LIKE ? ESCAPE '\\' ORDER BY uri", (escaped + "%",)
        )
        return [dict(r) for r in rows]

    def download(self, prefix: str, destination: Path) -> builtins.list[Path]:
        """S3Prefix semantics: every object under `prefix`, at its path relative to the prefix."""
        written = []
        uris = self.list(prefix)
        if not uris:
            raise UserError("E6005", f"nothing at {prefix} in the local object store")
        base = prefix if prefix.endswith("/") or prefix in uris else prefix + "/"
        for uri in uris:
            relative = Path(uri).name if uri == prefix else uri[len(base) :]
            if not relative or relative.startswith("/") or ".." in Path(relative).parts:
                continue
            target = destination / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(self.get(uri))
            written.append(target)
        return written
