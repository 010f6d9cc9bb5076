"""Resource and identity policies stored in the control plane, keyed by where AWS attaches them.

    resource policies   the resource's ARN (bucket, key, model package group, repository)
    role trust policy   the role's ARN (a role's resource policy is its trust policy)
    identity policies   `<role ARN>#<policy name>` (inline) and `<role ARN>#<managed policy ARN>`

The one writer of the `policies` table: the local registry (PutModelPackageGroupPolicy) and
`accounts apply --target local` (every rendered policy) both go through here.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from sagespec.backends.local.database import now, transaction

IDENTITY = "#"


def read_policy(conn: sqlite3.Connection, resource_arn: str) -> dict[str, Any] | None:
    row = conn.execute("SELECT document FROM policies WHERE resource_arn = ?", (resource_arn,)).fetchone()
    document: dict[str, Any] | None = json.loads(row["document"]) if row else None
    return document


def owner_of(conn: sqlite3.Connection, resource_arn: str) -> str | None:
    row = conn.execute("SELECT account FROM policies WHERE resource_arn = ?", (resource_arn,)).fetchone()
    account: str | None = row["account"] if row else None
    return account


def write_policy(conn: sqlite3.Connection, resource_arn: str, document: dict[str, Any], by: str, account: str | None = None) -> None:
    with transaction(conn):
        conn.execute(
            "INSERT INTO policies (resource_arn, document, updated_at, updated_by, account) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (resource_arn) DO UPDATE SET document = excluded.document,"
            " updated_at = excluded.updated_at, updated_by = excluded.updated_by, account = excluded.account",
            (resource_arn, json.dumps(document), now(), by, account),
        )


def delete_policy(conn: sqlite3.Connection, resource_arn: str) -> None:
    with transaction(conn):
        conn.execute("DELETE FROM policies WHERE resource_arn = ?", (resource_arn,))


def identity_policies(conn: sqlite3.Connection, role_arn: str) -> list[tuple[str, dict[str, Any]]]:
    """(policy name, document) of every identity policy stored for the role."""
    rows = conn.execute(
        "SELECT resource_arn, document FROM policies WHERE substr(resource_arn, 1, ?) = ? ORDER BY resource_arn",
        (len(role_arn) + 1, role_arn + IDENTITY),
    ).fetchall()
    return [(r["resource_arn"][len(role_arn) + 1 :], json.loads(r["document"])) for r in rows]


def governed(conn: sqlite3.Connection) -> bool:
    """Whether any role's identity policies are stored (`accounts apply --target local` ran)."""
    return conn.execute("SELECT 1 FROM policies WHERE instr(resource_arn, ?) > 0 LIMIT 1", (IDENTITY,)).fetchone() is not None
