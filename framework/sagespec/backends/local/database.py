"""The control plane's SQLite database: WAL, explicit transactions, versioned migrations.

Every process opens its own connection (SQLite handles the locking); writers take the lock up
front (`BEGIN IMMEDIATE`) so two registrations never interleave, and a process killed mid-write
leaves the last committed state. The schema version lives in `PRAGMA user_version`; migrations
run in order, each in its own transaction, and a database from a newer sagespec is refused
rather than guessed at.
"""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from sagespec.diagnostics import UserError

DATABASE_NAME = "control-plane.sqlite3"

MIGRATIONS: list[str] = [
    # 1: model registry, policies, events, lineage, object index
    """
    CREATE TABLE model_package_groups (
        id INTEGER PRIMARY KEY,
        arn TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        description TEXT,
        tags TEXT NOT NULL DEFAULT '{}',
        next_version INTEGER NOT NULL DEFAULT 1,
        created_at TEXT NOT NULL,
        created_by TEXT NOT NULL
    );
    CREATE TABLE model_packages (
        id INTEGER PRIMARY KEY,
        group_id INTEGER NOT NULL REFERENCES model_package_groups(id),
        version INTEGER NOT NULL,
        arn TEXT NOT NULL UNIQUE,
        status TEXT NOT NULL CHECK (status IN ('PendingManualApproval', 'Approved', 'Rejected')),
        approval_description TEXT,
        description TEXT,
        inference_specification TEXT NOT NULL,
        model_metrics TEXT,
        customer_metadata TEXT NOT NULL DEFAULT '{}',
        stage TEXT,
        created_at TEXT NOT NULL,
        created_by_account TEXT NOT NULL,
        created_by TEXT NOT NULL,
        last_modified_at TEXT,
        last_modified_by TEXT,
        UNIQUE (group_id, version)
    );
    CREATE INDEX model_packages_by_status ON model_packages (group_id, status, version);
    CREATE TABLE approval_history (
        id INTEGER PRIMARY KEY,
        package_id INTEGER NOT NULL REFERENCES model_packages(id),
        from_status TEXT,
        to_status TEXT NOT NULL,
        reason TEXT,
        by_account TEXT NOT NULL,
        by_arn TEXT NOT NULL,
        at TEXT NOT NULL
    );
    CREATE INDEX approval_history_by_package ON approval_history (package_id, id);
    CREATE TABLE lineage (
        id INTEGER PRIMARY KEY,
        package_id INTEGER NOT NULL REFERENCES model_packages(id),
        kind TEXT NOT NULL,
        uri TEXT,
        sha256 TEXT,
        detail TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX lineage_by_package ON lineage (package_id, id);
    CREATE TABLE policies (
        resource_arn TEXT PRIMARY KEY,
        document TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        updated_by TEXT NOT NULL
    );
    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL,
        detail_type TEXT NOT NULL,
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        resources TEXT NOT NULL,
        detail TEXT NOT NULL,
        at TEXT NOT NULL
    );
    CREATE TABLE event_cursors (
        subscriber TEXT PRIMARY KEY,
        last_event_id INTEGER NOT NULL
    );
    CREATE TABLE objects (
        uri TEXT PRIMARY KEY,
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL,
        updated_at TEXT NOT NULL
    );
    """,
]

MIGRATIONS.append(
    # 2: pipelines, definition versions, executions and their steps, models, the notification outbox
    """
    CREATE TABLE pipelines (
        name TEXT PRIMARY KEY,
        arn TEXT NOT NULL,
        role_arn TEXT NOT NULL,
        description TEXT,
        created_at TEXT NOT NULL
    );
    CREATE TABLE pipeline_definitions (
        pipeline TEXT NOT NULL REFERENCES pipelines(name),
        version INTEGER NOT NULL,
        definition TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (pipeline, version)
    );
    CREATE TABLE executions (
        arn TEXT PRIMARY KEY,
        pipeline TEXT NOT NULL REFERENCES pipelines(name),
        definition_version INTEGER NOT NULL,
        status TEXT NOT NULL,
        parameters TEXT NOT NULL,
        failure_reason TEXT,
        retry_of TEXT,
        started_at TEXT NOT NULL,
        ended_at TEXT
    );
    CREATE TABLE execution_steps (
        execution TEXT NOT NULL REFERENCES executions(arn),
        name TEXT NOT NULL,
        type TEXT NOT NULL,
        status TEXT NOT NULL,
        properties TEXT NOT NULL DEFAULT '{}',
        cache_key TEXT,
        cached_from TEXT,
        failure_reason TEXT,
        log_path TEXT,
        started_at TEXT,
        ended_at TEXT,
        PRIMARY KEY (execution, name)
    );
    CREATE INDEX execution_steps_by_cache_key ON execution_steps (cache_key, status);
    CREATE TABLE models (
        name TEXT PRIMARY KEY,
        arn TEXT NOT NULL,
        execution TEXT,
        primary_container TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        execution TEXT,
        step TEXT,
        function_arn TEXT NOT NULL,
        payload TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    """
)

MIGRATIONS.append(
    # 3: hosting in the workload accounts (models per account, endpoint configs, endpoints),
    # a version's stage status, and the deployment history promotion writes
    """
    CREATE TABLE models_v3 (
        account TEXT NOT NULL,
        name TEXT NOT NULL,
        arn TEXT NOT NULL,
        execution TEXT,
        primary_container TEXT NOT NULL,
        execution_role_arn TEXT,
        package_arn TEXT,
        created_at TEXT NOT NULL,
        PRIMARY KEY (account, name)
    );
    -- account: the fifth field of arn:<partition>:sagemaker:<region>:<account>:model/<name>
    INSERT INTO models_v3 (account, name, arn, execution, primary_container, created_at)
        SELECT substr(substr(arn, instr(substr(arn, instr(arn, ':sagemaker:') + 11), ':') + instr(arn, ':sagemaker:') + 11), 1, 12),
               name, arn, execution, primary_container, created_at FROM models;
    DROP TABLE models;
    ALTER TABLE models_v3 RENAME TO models;
    ALTER TABLE model_packages ADD COLUMN stage_status TEXT;
    ALTER TABLE model_packages ADD COLUMN stage_description TEXT;
    CREATE TABLE endpoint_configs (
        account TEXT NOT NULL,
        name TEXT NOT NULL,
        arn TEXT NOT NULL,
        production_variants TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (account, name)
    );
    CREATE TABLE endpoints (
        account TEXT NOT NULL,
        name TEXT NOT NULL,
        arn TEXT NOT NULL,
        config_name TEXT NOT NULL,
        weights TEXT NOT NULL DEFAULT '{}',
        generation INTEGER NOT NULL DEFAULT 1,
        served_generation INTEGER NOT NULL DEFAULT 0,
        serving_config TEXT,
        status TEXT NOT NULL,
        failure_reason TEXT,
        pid INTEGER,
        port INTEGER,
        log_path TEXT,
        created_at TEXT NOT NULL,
        last_modified_at TEXT NOT NULL,
        PRIMARY KEY (account, name)
    );
    CREATE TABLE deployments (
        id INTEGER PRIMARY KEY,
        group_arn TEXT NOT NULL,
        stage TEXT NOT NULL,
        action TEXT NOT NULL,
        version INTEGER NOT NULL,
        package_arn TEXT NOT NULL,
        account TEXT NOT NULL,
        endpoint TEXT NOT NULL,
        endpoint_config TEXT,
        variants TEXT NOT NULL DEFAULT '[]',
        previous_version INTEGER,
        outcome TEXT NOT NULL DEFAULT 'Succeeded',
        detail TEXT NOT NULL DEFAULT '{}',
        by_arn TEXT NOT NULL,
        reason TEXT,
        at TEXT NOT NULL
    );
    CREATE INDEX deployments_by_group ON deployments (group_arn, stage, id);
    """
)

MIGRATIONS.append(
    # 4: the process that runs an execution, so one whose runner is gone can be found and failed
    """
    ALTER TABLE executions ADD COLUMN runner_pid INTEGER;
    """
)

MIGRATIONS.append(
    # 5: who owns a policy's resource (S3 ARNs carry no account: a bucket policy records its owner)
    """
    ALTER TABLE policies ADD COLUMN account TEXT;
    """
)

MIGRATIONS.append(
    # 6: ParallelismConfiguration, selective executions, retried steps' attempts, callback tokens
    """
    ALTER TABLE pipelines ADD COLUMN max_parallel_steps INTEGER;
    ALTER TABLE executions ADD COLUMN max_parallel_steps INTEGER;
    ALTER TABLE executions ADD COLUMN selective_source TEXT;
    ALTER TABLE executions ADD COLUMN selected_steps TEXT;
    ALTER TABLE execution_steps ADD COLUMN attempt_count INTEGER;
    CREATE TABLE callbacks (
        token TEXT PRIMARY KEY,
        execution TEXT NOT NULL REFERENCES executions(arn),
        step TEXT NOT NULL,
        queue_url TEXT NOT NULL,
        message TEXT NOT NULL,
        status TEXT NOT NULL,
        outputs TEXT,
        failure_reason TEXT,
        created_at TEXT NOT NULL,
        answered_at TEXT
    );
    """
)

MIGRATIONS.append(
    # 7: a model version's DriftCheckBaselines (the baselines its quality check steps checked against)
    """
    ALTER TABLE model_packages ADD COLUMN drift_check_baselines TEXT;
    """
)

SCHEMA_VERSION = len(MIGRATIONS)


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def connect(workspace: Path) -> sqlite3.Connection:
    path = workspace / DATABASE_NAME
    try:
        workspace.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=60, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA busy_timeout = 60000")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        migrate(conn, path)
    except (sqlite3.DatabaseError, OSError) as exc:
        raise UserError("E6011", f"the control-plane database {path} cannot be used: {_why(exc)}", hint=_hint(exc, workspace)) from None
    return conn


def _why(exc: Exception) -> str:
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)


def _hint(exc: Exception, workspace: Path) -> str:
    """What to do, by what went wrong: a full disk and a read-only workspace are not a corrupt database."""

    text = str(exc).lower()
    code = getattr(exc, "errno", None) or getattr(exc, "sqlite_errorcode", None)
    if code == errno.ENOSPC or "disk is full" in text or code == getattr(sqlite3, "SQLITE_FULL", -1):
        return f"the disk holding {workspace} is full: free some space (nothing stored so far was lost)"
    if code in (errno.EROFS, errno.EACCES, errno.EPERM) or "readonly" in text or "unable to open" in text:
        return (
            f"{workspace} cannot be written (read-only or no permission): use --workspace DIR or $SAGESPEC_WORKSPACE for a writable folder"
        )
    return "another program may have written it; move it aside to start a fresh workspace"


def migrate(conn: sqlite3.Connection, path: Path) -> None:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise UserError(
            "E6011",
            f"{path} has schema version {version}; this sagespec knows up to {SCHEMA_VERSION}",
            hint="upgrade sagespec, or use another --workspace",
        )
    while version < SCHEMA_VERSION:
        with transaction(conn):
            # Another process may have migrated while this one waited for the lock.
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version >= SCHEMA_VERSION:
                break
            for statement in MIGRATIONS[version].split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version + 1}")
        version += 1


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A write transaction holding the database's write lock from the start (BEGIN IMMEDIATE)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
