"""Resource and identity policies stored in the control plane, keyed by the resource's ARN.

The one writer of the `policies` table: the local registry (PutModelPackageGroupPolicy) and
`accounts apply --target local` (every rendered policy) both go through here.
"""

from __future__ import annotations

import json
import sqlite3

from sagespec.local.database import now, transaction


def read_policy(conn: sqlite3.Connection, resource_arn: str) -> dict | None:
    row = conn.execute("SELECT document FROM policies WHERE resource_arn = ?", (resource_arn,)).fetchone()
    return json.loads(row["document"]) if row else None


def write_policy(conn: sqlite3.Connection, resource_arn: str, document: dict, by: str) -> None:
    with transaction(conn):
        conn.execute(
            "INSERT INTO policies (resource_arn, document, updated_at, updated_by) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (resource_arn) DO UPDATE SET document = excluded.document,"
            " updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            (resource_arn, json.dumps(document), now(), by),
        )
