"""SageMaker models (CreateModel) in the control plane, one table per workload account's view.

The one writer of the `models` table: a pipeline's Model step (as the pipeline role's account)
and promotion's CreateModel from a package (as the workload account) both go through here.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from sagespec.backends.local.database import now, transaction
from sagespec.diagnostics import UserError


def write_model(
    conn: sqlite3.Connection,
    account: str,
    name: str,
    arn: str,
    containers: dict[str, Any] | list[dict[str, Any]],
    execution_role_arn: str | None,
    *,
    package_arn: str | None = None,
    execution: str | None = None,
    replace: bool = False,
) -> str:
    """Store a model: its PrimaryContainer, or the Containers of an inference pipeline (a list,
    kept in the same column). SageMaker refuses a second CreateModel of a name; a re-run pipeline
    step (`replace`) overwrites its own model of the same job name instead."""
    verb = "INSERT OR REPLACE" if replace else "INSERT"
    try:
        with transaction(conn):
            conn.execute(
                f"{verb} INTO models (account, name, arn, execution, primary_container, execution_role_arn, package_arn, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (account, name, arn, execution, json.dumps(containers), execution_role_arn, package_arn, now()),
            )
    except sqlite3.IntegrityError:
        raise UserError("E6012", f"model {arn} already exists") from None
    return arn


def read_model(conn: sqlite3.Connection, account: str, name: str) -> dict[str, Any] | None:
    """DescribeModel's shape (PrimaryContainer, or Containers for an inference pipeline), or None."""
    row = conn.execute("SELECT * FROM models WHERE account = ? AND name = ?", (account, name)).fetchone()
    if row is None:
        return None
    stored = json.loads(row["primary_container"])
    return {
        "ModelName": row["name"],
        "ModelArn": row["arn"],
        **({"Containers": stored} if isinstance(stored, list) else {"PrimaryContainer": stored}),
        "ExecutionRoleArn": row["execution_role_arn"],
        "ModelPackageName": row["package_arn"],
    }


def containers_of(model: dict[str, Any]) -> list[dict[str, Any]]:
    """A described model's containers in serving order: its PrimaryContainer, or its Containers."""
    return [model["PrimaryContainer"]] if model.get("PrimaryContainer") else list(model.get("Containers") or [])
