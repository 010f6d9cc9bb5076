"""Pipelines, their definition versions, executions and steps in the control plane.

The executor schedules and runs steps; this module is what it (and `executions` commands, and
promotion's test-data lookup) reads and writes. Shapes follow SageMaker's: a pipeline keeps
every definition version it was upserted with, an execution runs one version, each step has a
status, its properties (Describe*-shaped), its cache key and where a cached result came from.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from pathlib import Path
from typing import Any

from sagespec.backends.local.database import connect, now, transaction
from sagespec.backends.local.processes import running
from sagespec.diagnostics import UserError

TERMINAL = ("Succeeded", "Failed", "Stopped")


def runner_alive(pid: int | None) -> bool:
    """Whether the process that runs an execution is still there (executions recorded before
    migration 4 have no pid: nothing says they are gone)."""
    return pid is None or pid == os.getpid() or running(pid)


class PipelineStore:
    def __init__(self, workspace: Path, conn: sqlite3.Connection | None = None):
        self.workspace = workspace
        self.conn = conn or connect(workspace)

    # -- pipelines and definition versions -----------------------------------------------------
    def put_definition(
        self, name: str, arn: str, role: str, description: str | None, text: str, max_parallel_steps: int | None = None
    ) -> tuple[int, bool]:
        """(definition version, whether a new version was stored): identical text keeps the last version.
        The ParallelismConfiguration belongs to the pipeline, as in CreatePipeline/UpdatePipeline."""
        digest = hashlib.sha256(text.encode()).hexdigest()
        with transaction(self.conn):
            self.conn.execute(
                "INSERT INTO pipelines (name, arn, role_arn, description, created_at, max_parallel_steps) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET role_arn = excluded.role_arn, description = excluded.description,"
                " max_parallel_steps = excluded.max_parallel_steps",
                (name, arn, role, description, now(), max_parallel_steps),
            )
            last = self.conn.execute(
                "SELECT version, sha256 FROM pipeline_definitions WHERE pipeline = ? ORDER BY version DESC LIMIT 1", (name,)
            ).fetchone()
            if last and last["sha256"] == digest:
                return last["version"], False
            version = (last["version"] + 1) if last else 1
            self.conn.execute(
                "INSERT INTO pipeline_definitions (pipeline, version, definition, sha256, created_at) VALUES (?, ?, ?, ?, ?)",
                (name, version, text, digest, now()),
            )
        return version, True

    def pipeline(self, name: str) -> tuple[dict[str, Any], dict[str, Any], int]:
        """(pipeline row, latest definition, its version)."""
        row = self.conn.execute("SELECT * FROM pipelines WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise UserError(
                "E6005",
                f"pipeline {name} does not exist in the local control plane",
                hint=f"sagespec upsert SPEC --target local (workspace {self.workspace})",
            )
        latest = self.conn.execute(
            "SELECT version, definition FROM pipeline_definitions WHERE pipeline = ? ORDER BY version DESC LIMIT 1", (name,)
        ).fetchone()
        return dict(row), json.loads(latest["definition"]), latest["version"]

    def definition(self, name: str, version: int) -> dict[str, Any]:
        row = self.conn.execute(
            "SELECT definition FROM pipeline_definitions WHERE pipeline = ? AND version = ?", (name, version)
        ).fetchone()
        if row is None:
            raise UserError("E6005", f"pipeline {name} has no definition version {version}")
        definition: dict[str, Any] = json.loads(row["definition"])
        return definition

    # -- executions ------------------------------------------------------------------------------
    def begin_execution(
        self,
        arn: str,
        pipeline: str,
        version: int,
        parameters: dict[str, Any],
        retry_of: str | None,
        started: str,
        max_parallel_steps: int | None = None,
        selective: tuple[str | None, list[str]] | None = None,  # (source execution, if any; selected steps)
    ) -> None:
        source, selected = selective or (None, None)
        with transaction(self.conn):
            self.conn.execute(
                "INSERT INTO executions (arn, pipeline, definition_version, status, parameters, retry_of, started_at, runner_pid,"
                " max_parallel_steps, selective_source, selected_steps) VALUES (?, ?, ?, 'Executing', ?, ?, ?, ?, ?, ?, ?)",
                (
                    arn,
                    pipeline,
                    version,
                    json.dumps(parameters),
                    retry_of,
                    started,
                    os.getpid(),
                    max_parallel_steps,
                    source,
                    json.dumps(selected) if selected else None,
                ),
            )

    def end_execution(self, arn: str, status: str, reason: str | None, running_steps: str | None = None) -> None:
        """End the execution; with `running_steps`, every step still Executing ends so too, in the
        same transaction (an interrupted execution leaves nothing Executing)."""
        with transaction(self.conn):
            stamp = now()
            if running_steps:
                self.conn.execute(
                    "UPDATE execution_steps SET status = ?, failure_reason = coalesce(failure_reason, ?), ended_at = ?"
                    " WHERE execution = ? AND status = 'Executing'",
                    (running_steps, reason, stamp, arn),
                )
            self.conn.execute(
                "UPDATE executions SET status = ?, failure_reason = ?, ended_at = ? WHERE arn = ?", (status, reason, stamp, arn)
            )

    def fail_orphans(self) -> int:
        """Executions left Executing or Stopping by a runner process that is gone (killed, a reboot)
        end Failed, saying so; how many did."""
        rows = self.conn.execute("SELECT arn, runner_pid FROM executions WHERE status IN ('Executing', 'Stopping')").fetchall()
        gone = [r for r in rows if not runner_alive(r["runner_pid"])]
        for row in gone:
            reason = f"the runner process (pid {row['runner_pid']}) ended without finishing the execution"
            self.end_execution(row["arn"], "Failed", reason, running_steps="Failed")
        return len(gone)

    def request_stop(self, arn: str) -> dict[str, Any]:
        """StopPipelineExecution: an Executing execution becomes Stopping; its runner starts no new
        step and ends it Stopped. A finished one cannot be stopped (SageMaker answers ValidationException)."""
        with transaction(self.conn):
            found = self._execution_row(arn)
            if found["status"] in TERMINAL:
                raise UserError("E6012", f"execution {found['arn']} already ended {found['status']}; there is nothing to stop")
            self.conn.execute("UPDATE executions SET status = 'Stopping' WHERE arn = ?", (found["arn"],))
        return self.describe_execution(found["arn"])

    def status(self, arn: str) -> str:
        status: str = self._execution_row(arn)["status"]
        return status

    def _execution_row(self, arn: str) -> sqlite3.Row:
        row: sqlite3.Row | None = self.conn.execute(
            "SELECT * FROM executions WHERE arn = ? OR arn LIKE ?", (arn, f"%/execution/{arn}")
        ).fetchone()
        if row is None:
            raise UserError("E6005", f"execution {arn} does not exist in the local control plane")
        return row

    def describe_execution(self, arn: str) -> dict[str, Any]:
        if self._execution_row(arn)["status"] in ("Executing", "Stopping"):
            self.fail_orphans()
        row = self._execution_row(arn)
        steps = [
            dict(s) | {"properties": json.loads(s["properties"])}
            for s in self.conn.execute("SELECT * FROM execution_steps WHERE execution = ? ORDER BY started_at, name", (row["arn"],))
        ]
        outbox = [
            dict(o) | {"payload": json.loads(o["payload"])}
            for o in self.conn.execute("SELECT * FROM outbox WHERE execution = ? ORDER BY id", (row["arn"],))
        ]
        callbacks = [
            dict(c) | {"message": json.loads(c["message"]), "outputs": json.loads(c["outputs"] or "{}")}
            for c in self.conn.execute("SELECT * FROM callbacks WHERE execution = ? ORDER BY created_at", (row["arn"],))
        ]
        return dict(row) | {
            "parameters": json.loads(row["parameters"]),
            "selected_steps": json.loads(row["selected_steps"]) if row["selected_steps"] else None,
            "steps": steps,
            "outbox": outbox,
            "callbacks": callbacks,
        }

    def list_executions(self, pipeline: str | None = None) -> list[dict[str, Any]]:
        self.fail_orphans()
        query = "SELECT arn, pipeline, status, started_at, ended_at, failure_reason FROM executions"
        rows = self.conn.execute(
            query + (" WHERE pipeline = ?" if pipeline else "") + " ORDER BY started_at DESC", (pipeline,) if pipeline else ()
        )
        return [dict(r) for r in rows]

    # -- steps -----------------------------------------------------------------------------------
    def record_step(self, execution: str, name: str, step_type: str, status: str, **fields: object) -> None:
        columns = {"status": status, **fields}
        with transaction(self.conn):
            self.conn.execute(
                "INSERT INTO execution_steps (execution, name, type, status) VALUES (?, ?, ?, ?) ON CONFLICT (execution, name) DO NOTHING",
                (execution, name, step_type, status),
            )
            sets = ", ".join(f"{k} = ?" for k in columns)
            self.conn.execute(
                f"UPDATE execution_steps SET {sets} WHERE execution = ? AND name = ?",
                [json.dumps(v) if isinstance(v, dict) else v for v in columns.values()] + [execution, name],
            )

    def cached_result(self, cache_key: str, not_before: str, excluding: str) -> tuple[dict[str, Any], str] | None:
        """(properties, origin execution) of the newest succeeded step with this cache key, ended since `not_before`."""
        row = self.conn.execute(
            "SELECT properties, execution, cached_from FROM execution_steps WHERE cache_key = ? AND status = 'Succeeded'"
            " AND ended_at >= ? AND execution != ? ORDER BY ended_at DESC LIMIT 1",
            (cache_key, not_before, excluding),
        ).fetchone()
        if row is None:
            return None
        return json.loads(row["properties"]), row["cached_from"] or row["execution"]

    def step_properties(self, execution: str, step_type: str) -> list[dict[str, Any]]:
        """Properties of every step of `step_type` in `execution`."""
        rows = self.conn.execute("SELECT properties FROM execution_steps WHERE execution = ? AND type = ?", (execution, step_type))
        return [json.loads(r["properties"]) for r in rows]


def add_notification(conn: sqlite3.Connection, execution: str, step: str, function_arn: str, payload: object) -> None:
    """A Lambda step's event, kept in the outbox (no Lambda runs locally)."""
    with transaction(conn):
        conn.execute(
            "INSERT INTO outbox (execution, step, function_arn, payload, created_at) VALUES (?, ?, ?, ?, ?)",
            (execution, step, function_arn, json.dumps(payload), now()),
        )


# -- callbacks: the local queue of CallbackStep messages and their answers ---------------------------
def add_callback(conn: sqlite3.Connection, token: str, execution: str, step: str, queue_url: str, message: dict[str, Any]) -> None:
    with transaction(conn):
        conn.execute(
            "INSERT INTO callbacks (token, execution, step, queue_url, message, status, created_at) VALUES (?, ?, ?, ?, ?, 'Waiting', ?)",
            (token, execution, step, queue_url, json.dumps(message), now()),
        )


def read_callback(conn: sqlite3.Connection, token: str) -> dict[str, Any]:
    row = conn.execute("SELECT * FROM callbacks WHERE token = ?", (token,)).fetchone()
    if row is None:
        raise UserError(
            "E6005", f"no callback step is waiting with token {token}", hint="`sagespec executions describe EXECUTION` lists them"
        )
    return dict(row) | {"outputs": json.loads(row["outputs"] or "{}")}


def answer_callback(
    conn: sqlite3.Connection, token: str, status: str, outputs: dict[str, Any] | None = None, reason: str | None = None
) -> dict[str, Any]:
    """SendPipelineExecutionStepSuccess or ...Failure: the first answer wins; a token answered
    before, or whose execution ended, is refused as SageMaker refuses it."""
    with transaction(conn):
        found = read_callback(conn, token)
        if found["status"] != "Waiting":
            raise UserError("E6012", f"the callback with token {token} was already answered ({found['status']})")
        execution = conn.execute("SELECT status FROM executions WHERE arn = ?", (found["execution"],)).fetchone()
        if execution is not None and execution["status"] in TERMINAL:
            raise UserError(
                "E6012", f"execution {found['execution']} already ended {execution['status']}; step {found['step']} waits no more"
            )
        conn.execute(
            "UPDATE callbacks SET status = ?, outputs = ?, failure_reason = ?, answered_at = ? WHERE token = ?",
            (status, json.dumps(outputs or {}), reason, now(), token),
        )
    return read_callback(conn, token)
