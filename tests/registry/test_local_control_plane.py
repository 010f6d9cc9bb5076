"""The local control plane: history, events, object store, migrations, concurrency and crashes."""

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from helpers import DEPLOYMENT, INFERENCE, SHARED
from sagespec.backends.local import database
from sagespec.backends.local.database import connect
from sagespec.backends.local.objects import ObjectStore
from sagespec.backends.records import STATE_CHANGE
from sagespec.diagnostics import UserError

ROOT = Path(__file__).resolve().parents[2]


def test_approval_history_keeps_every_change_with_who_and_why(local_as):
    owner = local_as(SHARED)
    owner.create_group("g")
    arn = owner.register("g", INFERENCE).arn
    owner.update_status(arn, "Approved", "looks good")
    owner.update_status(arn, "Rejected", "found a leak")
    history = owner.history(arn)
    assert [(h.from_status, h.to_status, h.reason) for h in history] == [
        (None, "PendingManualApproval", "registered"),
        ("PendingManualApproval", "Approved", "looks good"),
        ("Approved", "Rejected", "found a leak"),
    ]
    assert {h.by for h in history} == {SHARED.arn}
    package = owner.describe(arn)
    assert (package.approval_description, package.last_modified_by) == ("found a leak", SHARED.arn)


def test_every_status_change_emits_a_state_change_event(local_as):
    owner = local_as(SHARED)
    owner.create_group("g")
    arn = owner.register("g", INFERENCE).arn
    owner.update_status(arn, "Approved", "ok")
    events = owner.events()
    assert [e["detail"]["ModelApprovalStatus"] for e in events] == ["PendingManualApproval", "Approved"]
    event = events[1]
    assert (event["detail-type"], event["source"], event["resources"], event["account"]) == (
        STATE_CHANGE,
        "aws.sagemaker",
        [arn],
        "222222222222",
    )
    assert event["detail"]["ModelPackageGroupName"] == "g" and event["detail"]["ApprovalDescription"] == "ok"


def test_subscribers_consume_each_event_once(local_as):
    owner = local_as(SHARED)
    owner.create_group("g")
    arn = owner.register("g", INFERENCE).arn
    assert len(owner.consume("promotion")) == 1
    assert owner.consume("promotion") == []
    owner.update_status(arn, "Approved")
    assert [e["detail"]["ModelApprovalStatus"] for e in owner.consume("promotion")] == ["Approved"]
    assert len(owner.consume("audit")) == 2  # another subscriber has its own cursor


def test_denied_calls_change_nothing(local_as):
    owner = local_as(SHARED)
    owner.create_group("g")
    arn = owner.register("g", INFERENCE).arn
    with pytest.raises(UserError):
        local_as(DEPLOYMENT).update_status(arn.replace(":222222222222:", ":222222222222:"), "Approved")
    assert owner.describe(arn).status == "PendingManualApproval"
    assert len(owner.history(arn)) == 1 and len(owner.events()) == 1


def test_duplicate_group_is_a_conflict(local_as):
    owner = local_as(SHARED)
    owner.create_group("g")
    with pytest.raises(UserError) as raised:
        owner.create_group("g")
    assert raised.value.code == "E6012"


def test_object_store_maps_uris_to_content(workspace):
    store = ObjectStore(workspace, connect(workspace))
    digest = store.put("s3://bucket/a", b"alpha")
    store.put("s3://bucket/a/b.txt", b"nested")  # S3 keys may nest under another key
    store.put("s3://bucket/a/c/d.txt", b"deeper")
    assert store.get("s3://bucket/a") == b"alpha" and store.sha256("s3://bucket/a") == digest
    assert store.list("s3://bucket/a/") == ["s3://bucket/a/b.txt", "s3://bucket/a/c/d.txt"]
    assert store.list("s3://bucket/a_") == []  # LIKE wildcards are escaped
    written = store.download("s3://bucket/a/", workspace / "out")
    assert sorted(p.relative_to(workspace / "out").as_posix() for p in written) == ["b.txt", "c/d.txt"]
    store.put("s3://bucket/a", b"replaced")
    assert store.get("s3://bucket/a") == b"replaced"
    with pytest.raises(UserError):
        store.get("s3://bucket/missing")


def test_migrations_record_the_schema_version_and_refuse_newer_databases(workspace):
    conn = connect(workspace)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == database.SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.execute(f"PRAGMA user_version = {database.SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(UserError) as raised:
        connect(workspace)
    assert raised.value.code == "E6011" and "upgrade sagespec" in raised.value.hint


def test_a_corrupt_database_is_a_clear_error(workspace):
    workspace.mkdir()
    (workspace / database.DATABASE_NAME).write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(UserError) as raised:
        connect(workspace)
    assert raised.value.code == "E6011"


WORKER = textwrap.dedent("""
    import sys
    from pathlib import Path
    sys.path[:0] = [{tests!r}, {tests_root!r}]
    from helpers import INFERENCE
    from sagespec.iam import Principal
    from sagespec.backends.local.database import connect
    from sagespec.backends.records import LineageEntry
    from helpers import local_registry
    registry = local_registry(connect(Path(sys.argv[1])), Principal.role("222222222222", "admin", "aws"))
    count = int(sys.argv[2])
    n = 0
    while count == 0 or n < count:
        registry.register("g", INFERENCE, lineage=[LineageEntry("dataset", "s3://b/d", "aa"), LineageEntry("code", "s3://b/c", "bb")])
        n += 1
""")


def start_workers(workspace, processes, count):
    script = WORKER.format(tests=str(Path(__file__).parent), tests_root=str(Path(__file__).parents[1]))
    return [
        subprocess.Popen([sys.executable, "-c", script, str(workspace), str(count)], stderr=subprocess.PIPE, text=True)
        for _ in range(processes)
    ]


def assert_consistent(workspace) -> int:
    conn = sqlite3.connect(workspace / database.DATABASE_NAME)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    versions = [r[0] for r in conn.execute("SELECT version FROM model_packages ORDER BY version")]
    assert versions == list(range(1, len(versions) + 1))  # no gap, no duplicate
    assert conn.execute("SELECT next_version FROM model_package_groups").fetchone()[0] == len(versions) + 1
    per_package = conn.execute(
        "SELECT COUNT(*) FROM model_packages p WHERE (SELECT COUNT(*) FROM lineage l WHERE l.package_id = p.id) != 2"
        " OR (SELECT COUNT(*) FROM approval_history h WHERE h.package_id = p.id) != 1"
    ).fetchone()[0]
    assert per_package == 0  # every version committed whole, with its lineage and history
    assert conn.execute("SELECT COUNT(*) FROM events").fetchone()[0] == len(versions)
    return len(versions)


@pytest.mark.slow
def test_eight_processes_fifty_registrations_each(local_as, workspace):
    local_as(SHARED).create_group("g")
    workers = start_workers(workspace, 8, 50)
    for worker in workers:
        _, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err
    assert assert_consistent(workspace) == 400


@pytest.mark.slow
def test_a_process_killed_mid_write_leaves_the_database_consistent(local_as, workspace):
    local_as(SHARED).create_group("g")
    reader = sqlite3.connect(workspace / database.DATABASE_NAME, timeout=60)
    committed = 0
    for extra in (0.0, 0.013, 0.037):
        workers = start_workers(workspace, 2, 0)
        deadline = time.monotonic() + 120
        while reader.execute("SELECT COUNT(*) FROM model_packages").fetchone()[0] < committed + 10:
            assert time.monotonic() < deadline and all(w.poll() is None for w in workers)
            time.sleep(0.01)
        time.sleep(extra)  # land the kill at different points of the write loop
        for worker in workers:
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait()
        before = assert_consistent(workspace)
        assert before >= committed + 10
        committed = before
    # and the workspace keeps working afterwards
    assert local_as(SHARED).register("g", INFERENCE).version == before + 1
