"""SageMaker models (CreateModel) in the control plane, one table per workload account's view.

The one writer of the `models` table: a pipeline's Model step (as the pipeline role's account)
and promotion's CreateModel from a package (as the workload account) both go through here.
"""

from __future__ import annotations

import json
import sqlite3

from sagespec.diagnostics import UserError
from sagespec.local.database import now, transaction


def write_model(
    conn: sqlite3.Connection,
    account: str,
    name: str,
    arn: str,
    primary_container: dict,
    execution_role_arn: str | None,
    *,
    package_arn: str | None = None,
    execution: str | None = None,
    replace: bool = False,
) -> str:
    """Store a model. SageMaker refuses a second CreateModel of a name; a re-run pipeline step
    (`replace`) overwrites its own model of the same job name instead."""
    verb = "INSERT OR REPLACE" if replace else "INSERT"
    try:
        with transaction(conn):
            conn.execute(
                f"{verb} INTO models (account, name, arn, execution, primary_container, execution_role_arn, package_arn, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (account, name, arn, execution, json.dumps(primary_container), execution_role_arn, package_arn, now()),
            )
    except sqlite3.IntegrityError:
        raise UserError("E6012", f"model {arn} already exists") from None
    return arn


def read_model(conn: sqlite3.Connection, account: str, name: str) -> dict | None:
    """DescribeModel's shape, or None."""
    row = conn.execute("SELECT * FROM models WHERE account = ? AND name = ?", (account, name)).fetchone()
    if row is None:
        return None
    return {
        "ModelName": row["name"],
        "ModelArn": row["arn"],
        "PrimaryContainer": json.loads(row["primary_container"]),
        "ExecutionRoleArn": row["execution_role_arn"],
        "ModelPackageName": row["package_arn"],
    }
