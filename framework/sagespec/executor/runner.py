"""Local pipelines: upsert a compiled definition, run executions of it.

The runner schedules the definition's steps by their data dependencies (`Get Steps.X...`),
`DependsOn` and condition branches, running independent steps in parallel threads (each step's
script is its own process). A failed step fails the execution and its dependants never start;
a Fail step ends the execution Failed with its message; a condition runs one branch.
"""

from __future__ import annotations

import json
import re
import secrets
import sqlite3
import threading
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from sagespec.diagnostics import UserError
from sagespec.executor.expressions import Context, EvaluationError, condition_holds, walk
from sagespec.executor.handlers import HANDLERS, ExecutionFailed, StepFailed, StepRun
from sagespec.local.database import connect, now, transaction
from sagespec.local.objects import ObjectStore

_STEP_REF = re.compile(r'"Steps\.([A-Za-z0-9_-]+)[.\[]')


@dataclass
class StepEvent:
    step: str
    status: str  # Executing | Succeeded | Failed | Skipped | NotStarted
    detail: str = ""


class LocalPipelines:
    def __init__(self, workspace: Path, region: str = "us-east-1"):
        self.workspace = workspace
        self.region = region
        self.conn = connect(workspace)
        self.store = ObjectStore(workspace, self.conn)

    # -- upsert ----------------------------------------------------------------------------
    def upsert(self, compiled, role: str | None = None) -> tuple[str, int, bool]:
        """(pipeline ARN, definition version, whether a new version was stored)."""
        import hashlib

        for upload in compiled.uploads:
            if not self.store.exists(upload.uri) or self.store.sha256(upload.uri) != hashlib.sha256(upload.body).hexdigest():
                self.store.put(upload.uri, upload.body)
        role = role or compiled.role
        account = role.split(":")[4]
        arn = f"arn:aws:sagemaker:{compiled.region}:{account}:pipeline/{compiled.name}"
        text = compiled.definition_json
        digest = hashlib.sha256(text.encode()).hexdigest()
        with transaction(self.conn):
            self.conn.execute("INSERT INTO pipelines (name, arn, role_arn, description, created_at) VALUES (?, ?, ?, ?, ?)"
                              " ON CONFLICT (name) DO UPDATE SET role_arn = excluded.role_arn, description = excluded.description",
                              (compiled.name, arn, role, compiled.description, now()))
            last = self.conn.execute("SELECT version, sha256 FROM pipeline_definitions WHERE pipeline = ? ORDER BY version DESC LIMIT 1",
                                     (compiled.name,)).fetchone()
            if last and last["sha256"] == digest:
                return arn, last["version"], False
            version = (last["version"] + 1) if last else 1
            self.conn.execute("INSERT INTO pipeline_definitions (pipeline, version, definition, sha256, created_at) VALUES (?, ?, ?, ?, ?)",
                              (compiled.name, version, text, digest, now()))
        return arn, version, True

    def pipeline(self, name: str) -> tuple[sqlite3.Row, dict, int]:
        row = self.conn.execute("SELECT * FROM pipelines WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise UserError("E6005", f"pipeline {name} does not exist in the local control plane",
                            hint=f"sagespec upsert SPEC --target local (workspace {self.workspace})")
        latest = self.conn.execute("SELECT version, definition FROM pipeline_definitions WHERE pipeline = ? ORDER BY version DESC LIMIT 1",
                                   (name,)).fetchone()
        return row, json.loads(latest["definition"]), latest["version"]

    # -- data the bundled run needs ----------------------------------------------------------
    def seed(self, uri: str, source: Path) -> bool:
        if self.store.exists(uri):
            return False
        self.store.put_file(uri, source)
        return True

    # -- executions ------------------------------------------------------------------------
    def start(self, name: str, overrides: dict[str, str], on_event: Callable[[StepEvent], None] | None = None) -> dict:
        from sagespec.aws.pipelines import typed_overrides

        pipeline, definition, version = self.pipeline(name)
        parameters = {p["Name"]: p.get("DefaultValue") for p in definition.get("Parameters", [])}
        kinds = {p["Name"]: p["Type"] for p in definition.get("Parameters", [])}
        for item in typed_overrides(definition, overrides, name):
            parameters[item["Name"]] = _typed(kinds[item["Name"]], item["Value"])
        execution_id = secrets.token_hex(6)
        arn = f"{pipeline['arn']}/execution/{execution_id}"
        started = now()
        with transaction(self.conn):
            self.conn.execute("INSERT INTO executions (arn, pipeline, definition_version, status, parameters, started_at)"
                              " VALUES (?, ?, ?, 'Executing', ?, ?)", (arn, name, version, json.dumps(parameters), started))
        execution = _Execution(self, pipeline, definition, parameters, execution_id, arn, started, on_event or (lambda e: None))
        status, reason = execution.run()
        with transaction(self.conn):
            self.conn.execute("UPDATE executions SET status = ?, failure_reason = ?, ended_at = ? WHERE arn = ?",
                              (status, reason, now(), arn))
        return self.describe_execution(arn)

    def describe_execution(self, arn: str) -> dict:
        row = self.conn.execute("SELECT * FROM executions WHERE arn = ? OR arn LIKE ?", (arn, f"%/execution/{arn}")).fetchone()
        if row is None:
            raise UserError("E6005", f"execution {arn} does not exist in the local control plane")
        steps = [dict(s) | {"properties": json.loads(s["properties"])} for s in
                 self.conn.execute("SELECT * FROM execution_steps WHERE execution = ? ORDER BY started_at, name", (row["arn"],))]
        outbox = [dict(o) | {"payload": json.loads(o["payload"])} for o in
                  self.conn.execute("SELECT * FROM outbox WHERE execution = ? ORDER BY id", (row["arn"],))]
        return dict(row) | {"parameters": json.loads(row["parameters"]), "steps": steps, "outbox": outbox}

    def list_executions(self, name: str | None = None) -> list[dict]:
        query = "SELECT arn, pipeline, status, started_at, ended_at, failure_reason FROM executions"
        rows = self.conn.execute(query + (" WHERE pipeline = ?" if name else "") + " ORDER BY started_at DESC", (name,) if name else ())
        return [dict(r) for r in rows]


def _typed(kind: str, value: str):
    return {"Integer": int, "Float": float, "Boolean": lambda v: v == "true"}.get(kind, str)(value)


class _Execution:
    def __init__(self, pipelines: LocalPipelines, pipeline, definition, parameters, execution_id, arn, started, on_event):
        self.p, self.definition, self.on_event = pipelines, definition, on_event
        self.execution_id, self.arn = execution_id, arn
        self.role = pipeline["role_arn"]
        self.work = pipelines.workspace / "executions" / execution_id
        self.ctx = Context(parameters, {
            "PipelineExecutionId": execution_id, "PipelineExecutionArn": arn, "PipelineName": pipeline["name"],
            "PipelineArn": pipeline["arn"], "StartDateTime": started, "CurrentDateTime": started,
        }, read_property_file=self.read_property_file)
        self.steps: dict[str, dict] = {}
        self.needs: dict[str, set[str]] = {}
        self.branch_of: dict[str, str] = {}  # branch step -> condition step
        self._collect(definition.get("Steps", []), None)
        self.lock = threading.Lock()

    def _collect(self, steps: list, condition: str | None) -> None:
        for step in steps:
            name = step["Name"]
            self.steps[name] = step
            own = {k: v for k, v in step.items() if k != "Arguments"} | {
                "Arguments": {k: v for k, v in step.get("Arguments", {}).items() if k not in ("IfSteps", "ElseSteps")}}
            needs = set(_STEP_REF.findall(json.dumps(own))) | set(step.get("DependsOn", []))
            if condition:
                needs.add(condition)
                self.branch_of[name] = condition
            self.needs[name] = needs - {name}
            if step["Type"] == "Condition":
                self._collect(step["Arguments"].get("IfSteps", []) + step["Arguments"].get("ElseSteps", []), name)

    def read_property_file(self, step: str, file_name: str):
        declared = next(f for f in self.steps[step].get("PropertyFiles", []) if f["PropertyFileName"] == file_name)
        output = walk(self.ctx.steps[step], ["ProcessingOutputConfig", "Outputs", declared["OutputName"], "S3Output", "S3Uri"], step)
        return json.loads(self.p.store.get(f"{output.rstrip('/')}/{declared['FilePath']}"))

    def record(self, name: str, status: str, **fields) -> None:
        columns = {"status": status, **fields}
        with self.lock:
            conn = self.p.conn
            with transaction(conn):
                conn.execute("INSERT INTO execution_steps (execution, name, type, status) VALUES (?, ?, ?, ?)"
                             " ON CONFLICT (execution, name) DO NOTHING", (self.arn, name, self.steps[name]["Type"], status))
                sets = ", ".join(f"{k} = ?" for k in columns)
                conn.execute(f"UPDATE execution_steps SET {sets} WHERE execution = ? AND name = ?",
                             [json.dumps(v) if isinstance(v, dict) else v for v in columns.values()] + [self.arn, name])

    def run(self) -> tuple[str, str | None]:
        pending = set(self.steps)
        skipped: set[str] = set()
        done: set[str] = set()
        failure: str | None = None
        with ThreadPoolExecutor(max_workers=2) as pool:
            running = {}
            while True:
                if failure is None:
                    for name in sorted(pending):
                        if name in running.values():
                            continue
                        if name in skipped or self.needs[name] & skipped:
                            # Not on the branch the condition chose (or waiting for such a step).
                            pending.discard(name)
                            skipped.add(name)
                            continue
                        if self.needs[name] <= done:
                            pending.discard(name)
                            if self.steps[name]["Type"] == "Condition":
                                failure = self._condition(name, skipped) or failure
                                done.add(name)
                                continue
                            running[pool.submit(self._run_step, name)] = name
                if not running:
                    break
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    name = running.pop(future)
                    error = future.result()
                    if error is None:
                        done.add(name)
                    elif failure is None:
                        failure = error
        for name in sorted(pending):
            self.record(name, "NotStarted")
            self.on_event(StepEvent(name, "NotStarted"))
        return ("Failed", failure) if failure else ("Succeeded", None)

    def _condition(self, name: str, skipped: set[str]) -> str | None:
        step = self.steps[name]
        self.record(name, "Executing", started_at=now())
        try:
            outcome = all(condition_holds(c, self.ctx) for c in step["Arguments"]["Conditions"])
        except (EvaluationError, KeyError, ValueError, TypeError) as exc:
            self.record(name, "Failed", failure_reason=str(exc), ended_at=now())
            self.on_event(StepEvent(name, "Failed", str(exc)))
            return f"step {name} failed: {exc}"
        losing = "ElseSteps" if outcome else "IfSteps"
        skipped.update(s["Name"] for s in step["Arguments"].get(losing, []))
        self.ctx.steps[name] = {"Outcome": outcome}
        self.record(name, "Succeeded", properties={"Outcome": outcome}, ended_at=now())
        self.on_event(StepEvent(name, "Succeeded", f"outcome {str(outcome).lower()}: runs {'IfSteps' if outcome else 'ElseSteps'}"))
        return None

    def _run_step(self, name: str) -> str | None:
        step = self.steps[name]
        work = self.work / name
        work.mkdir(parents=True, exist_ok=True)
        log = work / "step.log"
        log.touch()
        self.record(name, "Executing", started_at=now(), log_path=str(log))
        self.on_event(StepEvent(name, "Executing"))
        conn = connect(self.p.workspace)
        run = StepRun(self.execution_id, self.arn, self.p.region, self.role, self.ctx, work,
                      ObjectStore(self.p.workspace, conn), conn, log)
        try:
            properties = HANDLERS[step["Type"]](step, run)
        except ExecutionFailed as exc:
            self.record(name, "Failed", failure_reason=str(exc), ended_at=now())
            self.on_event(StepEvent(name, "Failed", str(exc)))
            return str(exc)
        except (StepFailed, EvaluationError, UserError, KeyError, OSError) as exc:
            message = exc.message if isinstance(exc, UserError) else str(exc)
            run.log(f"step failed: {message}")
            self.record(name, "Failed", failure_reason=message, ended_at=now())
            self.on_event(StepEvent(name, "Failed", message))
            return f"step {name} failed: {message}"
        finally:
            conn.close()
        with self.lock:
            self.ctx.steps[name] = properties
        self.record(name, "Succeeded", properties=properties, ended_at=now())
        self.on_event(StepEvent(name, "Succeeded", _summary(properties)))
        return None


def _summary(properties: dict) -> str:
    for key in ("ModelPackageArn", "ModelName"):
        if key in properties:
            return properties[key]
    if "ModelArtifacts" in properties:
        return properties["ModelArtifacts"]["S3ModelArtifacts"]
    return ""
