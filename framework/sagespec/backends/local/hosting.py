"""SageMaker hosting on the local control plane: an endpoint is a server process on 127.0.0.1.

Models, endpoint configs and endpoints are rows of the workspace database, scoped to the
workload account that owns them. Every call is decided as the caller (promotion's deployer role
in the workload account) by sagespec.backends.local.access, as IAM would: CreateModel with iam:PassRole
of the model's role, reading the package through the group's resource policy, the endpoint
calls; and when an endpoint starts a variant, the model's role must be assumable by SageMaker
and able to pull the image, read and decrypt the artifact and write logs (sagespec.accounts.needs). Each endpoint runs
`python -m sagespec.backends.local.runtime.endpoint_server` in its own session (it outlives the CLI) and watches its
row: an update bumps the row's generation, the server loads the new variants next to the old
ones, swaps them in and reports back, while it keeps answering on the same port. The CLI
waits for that report the way boto3 waits for EndpointStatus InService.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sagespec.accounts.needs import endpoint_needs
from sagespec.accounts.places import Places
from sagespec.backends.local.access import LocalAccess
from sagespec.backends.local.database import now, transaction
from sagespec.backends.local.models import containers_of, read_model, write_model
from sagespec.backends.local.objects import ObjectStore
from sagespec.backends.local.processes import running
from sagespec.backends.local.registry import LocalRegistry
from sagespec.backends.local.serving import server_for
from sagespec.backends.records import NotFound
from sagespec.diagnostics import UserError
from sagespec.iam import Principal

START_TIMEOUT = 180.0


def process_alive(pid: int | None) -> bool:
    """True when `pid` runs an endpoint server."""
    return running(pid, b"sagespec.backends.local.runtime.endpoint_server")


class LocalHosting:
    def __init__(
        self,
        conn: sqlite3.Connection,
        workspace: Path,
        caller: Principal,
        places: Places,
        account: str | None = None,
    ):
        self.conn, self.workspace, self.caller = conn, Path(workspace), caller
        self.region, self.aws = places.region, places.aws
        self.account = account or caller.account  # whose hosting this is (the caller may come from elsewhere)
        self.places = places
        self.access = LocalAccess(conn)
        self._children: dict[int, subprocess.Popen[bytes]] = {}

    def _require(self, action: str, kind: str, name: str = "*", context: dict[str, Any] | None = None) -> None:
        self.access.require(self.caller, action, self._arn(kind, name) if kind else "*", context)

    def _require_runtime(self, endpoint: str, config_name: str) -> None:
        """What SageMaker does with the models' roles when it starts the endpoint's variants."""
        for variant in self._config(config_name)["ProductionVariants"]:
            model = read_model(self.conn, self.account, variant["ModelName"]) or {}
            role = model.get("ExecutionRoleArn")
            if not role:
                continue
            for need in endpoint_needs(endpoint, containers_of(model), role, self.places):
                hint = f"endpoint {endpoint} runs variant {variant['VariantName']} as {role}"
                self.access.require(need.principal, need.action, need.resource, need.context_dict(), hint=hint)

    def _arn(self, kind: str, name: str) -> str:
        return self.aws.sagemaker(self.region, self.account, f"{kind}/{name}")

    # -- models ----------------------------------------------------------------------------
    def describe_model(self, name: str) -> dict[str, Any] | None:
        self._require("sagemaker:DescribeModel", "model", name)
        return read_model(self.conn, self.account, name)

    def create_model(self, name: str, package_arn: str, execution_role_arn: str) -> str:
        """CreateModel from a registered version: its containers, read as the caller."""
        self._may_create_model(name, execution_role_arn)
        # SageMaker reads the package as the caller when it creates a model from it.
        package = LocalRegistry(self.conn, self.caller, self.region, self.aws).describe(package_arn)
        containers = [dict(c) for c in package.inference_specification.get("Containers") or [{}]]
        if any(not c.get("ModelDataUrl") for c in containers):
            raise NotFound(f"model data None of {package_arn} in the local object store")
        return self._write_model(name, containers, execution_role_arn, f" of {package_arn}", package_arn)

    def create_model_of_containers(self, name: str, containers: list[dict[str, Any]], execution_role_arn: str) -> str:
        """CreateModel as the API takes it: a PrimaryContainer (one) or the Containers of an inference pipeline."""
        self._may_create_model(name, execution_role_arn)
        return self._write_model(name, containers, execution_role_arn)

    def _may_create_model(self, name: str, execution_role_arn: str) -> None:
        if execution_role_arn.split(":")[4:5] != [self.account]:
            raise UserError(
                "E6002",
                f"{self.caller.arn} cannot pass role {execution_role_arn} to SageMaker: it belongs to another account",
                hint="a model runs as a role of the account that hosts it",
            )
        self._require("sagemaker:CreateModel", "model", name)
        self.access.require(
            self.caller, "iam:PassRole", execution_role_arn, {"iam:PassedToService": self.aws.service_principal("sagemaker")}
        )

    def _write_model(self, name: str, containers: list[dict[str, Any]], role: str, source: str = "", package_arn: str | None = None) -> str:
        store = ObjectStore(self.workspace, self.conn)
        for container in containers:
            data = container.get("ModelDataUrl")
            if data and not store.exists(data):
                raise NotFound(f"model data {data}{source} in the local object store")
        stored = containers[0] if len(containers) == 1 else containers  # an inference pipeline keeps them all, in order
        return write_model(self.conn, self.account, name, self._arn("model", name), stored, role, package_arn=package_arn)

    # -- endpoint configs --------------------------------------------------------------------
    def create_endpoint_config(self, name: str, variants: list[dict[str, Any]]) -> str:
        self._require("sagemaker:CreateEndpointConfig", "endpoint-config", name)
        if not variants:
            raise UserError("E7003", f"endpoint config {name} needs at least one production variant")
        for variant in variants:
            model = read_model(self.conn, self.account, variant["ModelName"])
            if model is None:
                raise NotFound(f"model {self._arn('model', variant['ModelName'])}")
            try:
                for container in containers_of(model):
                    server_for(container)  # what sagespec.backends.local.runtime.endpoint_server can load
            except ValueError as exc:
                raise UserError(
                    "E6019", f"model {model['ModelArn']} cannot be served here: {exc}", hint="SageMaker serves it as registered"
                ) from None
            if variant.get("InitialVariantWeight", 1.0) < 0:
                raise UserError("E7003", f"variant {variant['VariantName']} has a negative weight")
        arn = self._arn("endpoint-config", name)
        try:
            with transaction(self.conn):
                self.conn.execute(
                    "INSERT INTO endpoint_configs (account, name, arn, production_variants, created_at) VALUES (?, ?, ?, ?, ?)",
                    (self.account, name, arn, json.dumps(variants), now()),
                )
        except sqlite3.IntegrityError:
            raise UserError("E6012", f"endpoint config {arn} already exists") from None
        return arn

    def describe_endpoint_config(self, name: str) -> dict[str, Any]:
        self._require("sagemaker:DescribeEndpointConfig", "endpoint-config", name)
        return self._config(name)

    def _config(self, name: str) -> dict[str, Any]:
        """The endpoint config, read as SageMaker reads it for the calls that use it (no Describe* of the caller's)."""
        row = self.conn.execute("SELECT * FROM endpoint_configs WHERE account = ? AND name = ?", (self.account, name)).fetchone()
        if row is None:
            raise NotFound(f"endpoint config {self._arn('endpoint-config', name)}")
        return {
            "EndpointConfigName": row["name"],
            "EndpointConfigArn": row["arn"],
            "ProductionVariants": json.loads(row["production_variants"]),
            "CreationTime": row["created_at"],
        }

    # -- endpoints -------------------------------------------------------------------------
    def _row(self, name: str) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.conn.execute(
            "SELECT * FROM endpoints WHERE account = ? AND name = ?", (self.account, name)
        ).fetchone()
        return row

    def describe_endpoint(self, name: str) -> dict[str, Any] | None:
        self._require("sagemaker:DescribeEndpoint", "endpoint", name)
        return self._described(name)

    def _described(self, name: str) -> dict[str, Any] | None:
        row = self._row(name)
        return None if row is None else describe_row(self.conn, row)

    def _spawn(self, name: str) -> None:
        log_dir = self.workspace / "endpoints" / self.account
        log_dir.mkdir(parents=True, exist_ok=True)
        log_path = log_dir / f"{name}.log"
        with open(log_path, "ab") as log:
            child = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "sagespec.backends.local.runtime.endpoint_server",
                    "--workspace",
                    str(self.workspace),
                    "--account",
                    self.account,
                    "--endpoint",
                    name,
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1"},
            )
        self._children[child.pid] = child
        with transaction(self.conn):
            self.conn.execute(
                "UPDATE endpoints SET pid = ?, log_path = ? WHERE account = ? AND name = ?", (child.pid, str(log_path), self.account, name)
            )

    def _wait(self, name: str, generation: int, timeout: float = START_TIMEOUT) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            row = self._row(name)
            if row is None:
                raise NotFound(f"endpoint {self._arn('endpoint', name)} (deleted while waiting)")
            child = self._children.get(row["pid"])
            exited = child.poll() is not None if child else not process_alive(row["pid"])
            if row["status"] == "Failed" or (exited and row["served_generation"] < generation):
                reason = row["failure_reason"] or "the endpoint process exited"
                raise UserError(
                    "E7003",
                    f"endpoint {name} in account {self.account} failed: {reason}",
                    hint=f"its log: {row['log_path']}\n{_tail(row['log_path'])}",
                )
            if row["served_generation"] >= generation:
                if row["failure_reason"]:
                    raise UserError(
                        "E7003",
                        f"updating endpoint {name} in account {self.account} failed: {row['failure_reason']}",
                        hint=f"it still serves {row['serving_config']}; log: {row['log_path']}",
                    )
                return describe_row(self.conn, row)
            if time.monotonic() > deadline:
                raise UserError(
                    "E7003", f"endpoint {name} did not become InService within {timeout:.0f} s", hint=f"its log: {row['log_path']}"
                )
            time.sleep(0.1)

    def create_endpoint(self, name: str, config_name: str, wait: bool = True) -> dict[str, Any]:
        """Start the endpoint; with `wait`, return once it is InService (as boto3's endpoint_in_service waiter)."""
        self._require("sagemaker:CreateEndpoint", "endpoint", name)
        self._require_runtime(name, config_name)
        arn, at = self._arn("endpoint", name), now()
        try:
            with transaction(self.conn):
                self.conn.execute(
                    "INSERT INTO endpoints (account, name, arn, config_name, status, created_at, last_modified_at)"
                    " VALUES (?, ?, ?, ?, 'Creating', ?, ?)",
                    (self.account, name, arn, config_name, at, at),
                )
        except sqlite3.IntegrityError:
            raise UserError("E6012", f"endpoint {arn} already exists", hint="update it instead") from None
        self._spawn(name)
        if not wait:
            return self._described(name) or {"EndpointArn": arn, "EndpointStatus": "Creating"}
        return self._wait(name, 1)

    def _change(self, name: str, set_sql: str, args: tuple[str, ...]) -> int:
        with transaction(self.conn):
            row = self._row(name)
            if row is None:
                raise NotFound(f"endpoint {self._arn('endpoint', name)}")
            if row["status"] not in ("InService", "Failed"):
                raise UserError("E6012", f"endpoint {name} is {row['status']}; it can change only when InService")
            generation: int = row["generation"] + 1
            self.conn.execute(
                f"UPDATE endpoints SET {set_sql}, generation = ?, status = 'Updating', failure_reason = NULL,"
                " last_modified_at = ? WHERE account = ? AND name = ?",
                (*args, generation, now(), self.account, name),
            )
        if not process_alive(row["pid"]):
            self._spawn(name)  # e.g. after a reboot: a fresh process serves the new generation
        return generation

    def update_endpoint(self, name: str, config_name: str) -> dict[str, Any]:
        self._require("sagemaker:UpdateEndpoint", "endpoint", name)
        self._require_runtime(name, config_name)
        return self._wait(name, self._change(name, "config_name = ?, weights = '{}'", (config_name,)))

    def update_endpoint_weights_and_capacities(self, name: str, weights: dict[str, float]) -> dict[str, Any]:
        self._require("sagemaker:UpdateEndpointWeightsAndCapacities", "endpoint", name)
        current = self._described(name)
        if current is None:
            raise NotFound(f"endpoint {self._arn('endpoint', name)}")
        known = {v["VariantName"]: v for v in current["ProductionVariants"]}
        unknown = sorted(set(weights) - set(known))
        if unknown:
            raise UserError("E7003", f"variant(s) {', '.join(unknown)} are not in endpoint {name} ({', '.join(known)})")
        merged = {v: weights.get(v, known[v]["CurrentWeight"]) for v in known}
        if any(w < 0 for w in merged.values()) or not any(w > 0 for w in merged.values()):
            raise UserError("E7003", f"weights {merged} must be non-negative with at least one above zero")
        return self._wait(name, self._change(name, "weights = ?", (json.dumps(merged),)))

    def delete_endpoint(self, name: str) -> None:
        self._require("sagemaker:DeleteEndpoint", "endpoint", name)
        row = self._row(name)
        if row is None:
            raise NotFound(f"endpoint {self._arn('endpoint', name)}")
        with transaction(self.conn):
            self.conn.execute("DELETE FROM endpoints WHERE account = ? AND name = ?", (self.account, name))
        stop_process(row["pid"], self._children.get(row["pid"]))

    def list_endpoints(self) -> list[dict[str, Any]]:
        self._require("sagemaker:ListEndpoints", "")
        rows = self.conn.execute("SELECT * FROM endpoints WHERE account = ? ORDER BY name", (self.account,)).fetchall()
        return [describe_row(self.conn, r) for r in rows]

    def invoke(self, name: str, body: bytes, content_type: str, target_variant: str | None = None) -> tuple[str, bytes]:
        self._require("sagemaker:InvokeEndpoint", "endpoint", name)
        described = self._described(name)
        if described is None:
            raise NotFound(f"endpoint {self._arn('endpoint', name)}")
        if described["EndpointStatus"] not in ("InService", "Updating"):
            raise UserError("E7003", f"endpoint {name} is {described['EndpointStatus']}: {described.get('FailureReason') or ''}")
        headers = {"Content-Type": content_type, "Accept": "application/json"}
        if target_variant:
            headers["X-Amzn-SageMaker-Target-Variant"] = target_variant
        connection = http.client.HTTPConnection("127.0.0.1", described["Port"], timeout=120)
        try:
            connection.request("POST", "/invocations", body, headers)
            response = connection.getresponse()
            payload = response.read()
        except OSError as exc:
            raise UserError("E7003", f"endpoint {name} at {described['Url']} did not answer: {exc}") from None
        finally:
            connection.close()
        if response.status != 200:
            raise UserError("E7004", f"endpoint {name} answered HTTP {response.status}: {payload.decode(errors='replace')}")
        return response.getheader("X-Amzn-Invoked-Production-Variant", ""), payload


def describe_row(conn: sqlite3.Connection, row: sqlite3.Row) -> dict[str, Any]:
    """DescribeEndpoint's shape for a local endpoint, plus its Url, Port, Pid and LogPath."""
    config = conn.execute(
        "SELECT production_variants FROM endpoint_configs WHERE account = ? AND name = ?",
        (row["account"], row["serving_config"] or row["config_name"]),
    ).fetchone()
    variants = json.loads(config["production_variants"]) if config else []
    weights = json.loads(row["weights"]) if row["serving_config"] == row["config_name"] else {}
    status, reason = row["status"], row["failure_reason"]
    if status in ("InService", "Updating") and not process_alive(row["pid"]):
        status, reason = "Failed", f"the endpoint process (pid {row['pid']}) is not running; promote again or delete it"
    return {
        "EndpointName": row["name"],
        "EndpointArn": row["arn"],
        "EndpointConfigName": row["serving_config"] or row["config_name"],
        "EndpointStatus": status,
        "FailureReason": reason,
        "Account": row["account"],
        "ProductionVariants": [
            {
                "VariantName": v["VariantName"],
                "ModelName": v["ModelName"],
                "CurrentWeight": weights.get(v["VariantName"], v.get("InitialVariantWeight", 1.0)),
                "DesiredWeight": weights.get(v["VariantName"], v.get("InitialVariantWeight", 1.0)),
                "CurrentInstanceCount": v.get("InitialInstanceCount", 1),
            }
            for v in variants
        ],
        "CreationTime": row["created_at"],
        "LastModifiedTime": row["last_modified_at"],
        "Url": f"http://127.0.0.1:{row['port']}" if row["port"] else None,
        "Port": row["port"],
        "Pid": row["pid"],
        "LogPath": row["log_path"],
    }


def all_endpoints(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    return [describe_row(conn, r) for r in conn.execute("SELECT * FROM endpoints ORDER BY account, name").fetchall()]


def stop_process(pid: int | None, child: subprocess.Popen[bytes] | None = None, timeout: float = 10.0) -> None:
    if pid is None or not process_alive(pid):
        return
    try:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while process_alive(pid) and time.monotonic() < deadline:
            if child is not None and child.poll() is not None:
                return
            time.sleep(0.05)
        if process_alive(pid):
            os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    if child is not None:
        child.wait(timeout=timeout)


def _tail(path: str | None, lines: int = 12) -> str:
    if not path or not Path(path).is_file():
        return ""
    return "\n".join("    " + line for line in Path(path).read_text(errors="replace").splitlines()[-lines:])


def stop_servers(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Stop every endpoint server process of the workspace. Each endpoint stays (Failed, saying
    why), so the next promotion restarts it as after a reboot."""
    stopped = []
    for row in conn.execute("SELECT * FROM endpoints ORDER BY account, name").fetchall():
        if not process_alive(row["pid"]):
            continue
        stop_process(row["pid"])
        with transaction(conn):
            conn.execute(
                "UPDATE endpoints SET status = 'Failed', failure_reason = ?, pid = NULL WHERE account = ? AND name = ?",
                ("stopped by `sagespec endpoints stop-servers`; promote again to restart it", row["account"], row["name"]),
            )
        stopped.append({"Account": row["account"], "EndpointName": row["name"], "Pid": row["pid"], "Port": row["port"]})
    return stopped
