"""The local registry: SageMaker's model registry semantics on the control plane's SQLite database.

Every call is made as a caller (account + role ARN). A call into another account's group is
decided by that group's resource policy with IAM's rules (sagespec.iam), so a policy mistake
fails locally exactly where it would in AWS. Version numbers are assigned in the same
transaction that inserts the version, so concurrent registrations get 1, 2, 3... with no gap
and no duplicate; status changes keep their history and emit "SageMaker Model Package State
Change" events that local subscribers consume.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from typing import TYPE_CHECKING, Any, TypeAlias

from sagespec.aws.partitions import Partition
from sagespec.backends.local.access import LocalAccess
from sagespec.backends.local.database import now, transaction
from sagespec.backends.local.policies import read_policy, write_policy
from sagespec.backends.names import package_arn_parts
from sagespec.backends.records import (
    STATE_CHANGE,
    ApprovalChange,
    Deployment,
    LineageEntry,
    ModelPackage,
    ModelPackageGroup,
    NotFound,
    check_status,
)
from sagespec.diagnostics import UserError
from sagespec.iam import Principal, statements

_PACKAGE_COLUMNS = """p.id, p.version, p.arn, p.status, p.approval_description, p.description, p.inference_specification,
    p.model_metrics, p.drift_check_baselines, p.customer_metadata, p.stage, p.stage_status, p.created_at, p.created_by_account, p.created_by,
    p.last_modified_at, p.last_modified_by, g.name AS group_name, g.arn AS group_arn"""

if TYPE_CHECKING:
    # A group: its row, or the columns of a package's row that name it (LocalRegistry._group_of).
    GroupRow: TypeAlias = sqlite3.Row | dict[str, Any]


class LocalRegistry:
    def __init__(self, conn: sqlite3.Connection, caller: Principal, region: str, aws: Partition):
        self.conn, self.caller, self.region, self.aws = conn, caller, region, aws
        self.access = LocalAccess(conn)

    # -- names and access ------------------------------------------------------------------
    def _group_arn(self, name: str, account: str | None = None) -> str:
        return self.aws.sagemaker(self.region, account or self.caller.account, f"model-package-group/{name}")

    def _group_row(self, group: str) -> sqlite3.Row:
        """A group by ARN, or by name in the caller's account (SageMaker resolves names so)."""
        arn = group if group.startswith("arn:") else self._group_arn(group)
        row: sqlite3.Row | None = self.conn.execute("SELECT * FROM model_package_groups WHERE arn = ?", (arn,)).fetchone()
        if row is None:
            raise NotFound(f"model package group {arn}")
        return row

    def _packages_resource(self, group: sqlite3.Row, version: int | str = "*") -> str:
        return self.aws.sagemaker(group["region"], group["account"], f"model-package/{group['name']}/{version}")

    def _policy(self, group_arn: str) -> dict[str, Any] | None:
        return read_policy(self.conn, group_arn)

    def _authorize(self, action: str, resource: str, group: GroupRow, context: dict[str, Any] | None = None) -> None:
        """As IAM decides it: the caller's identity policies and the group's resource policy."""
        self.access.require(self.caller, action, resource, context)

    # -- groups ----------------------------------------------------------------------------
    def create_group(self, name: str, description: str | None = None, tags: dict[str, str] | None = None) -> ModelPackageGroup:
        arn = self._group_arn(name)
        self.access.require(self.caller, "sagemaker:CreateModelPackageGroup", arn)
        try:
            with transaction(self.conn):
                self.conn.execute(
                    "INSERT INTO model_package_groups (arn, name, account, region, description, tags, created_at, created_by)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (arn, name, self.caller.account, self.region, description, json.dumps(tags or {}), now(), self.caller.arn),
                )
        except sqlite3.IntegrityError:
            raise UserError("E6012", f"model package group {arn} already exists") from None
        return self.describe_group(arn)

    def _group(self, row: sqlite3.Row) -> ModelPackageGroup:
        return ModelPackageGroup(
            row["name"], row["arn"], row["account"], row["description"], json.loads(row["tags"]), row["created_at"], row["created_by"]
        )

    def describe_group(self, group: str) -> ModelPackageGroup:
        row = self._group_row(group)
        self._authorize("sagemaker:DescribeModelPackageGroup", row["arn"], row)
        return self._group(row)

    def list_groups(self) -> list[ModelPackageGroup]:
        """Groups of the caller's account, and groups shared with it by their resource policy."""
        visible = []
        for row in self.conn.execute("SELECT * FROM model_package_groups ORDER BY arn").fetchall():
            _, decision = self.access.decide(self.caller, "sagemaker:DescribeModelPackageGroup", row["arn"])
            if decision.allowed:
                visible.append(self._group(row))
        return visible

    # -- versions --------------------------------------------------------------------------
    def register(
        self,
        group: str,
        inference_specification: dict[str, Any],
        approval_status: str = "PendingManualApproval",
        model_metrics: dict[str, Any] | None = None,
        customer_metadata: dict[str, str] | None = None,
        description: str | None = None,
        lineage: list[LineageEntry] | None = None,
        drift_check_baselines: dict[str, Any] | None = None,
    ) -> ModelPackage:
        check_status(approval_status)
        with transaction(self.conn):
            row = self._group_row(group)
            version = self.conn.execute(
                "UPDATE model_package_groups SET next_version = next_version + 1 WHERE id = ? RETURNING next_version - 1", (row["id"],)
            ).fetchone()[0]
            arn = self._packages_resource(row, version)
            # The request's ModelApprovalStatus is a condition key the group policy may test (no self-approval).
            self._authorize("sagemaker:CreateModelPackage", arn, row, {"sagemaker:ModelApprovalStatus": approval_status})
            at = now()
            package_id = self.conn.execute(
                "INSERT INTO model_packages (group_id, version, arn, status, description, inference_specification,"
                " model_metrics, customer_metadata, created_at, created_by_account, created_by, drift_check_baselines)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (
                    row["id"],
                    version,
                    arn,
                    approval_status,
                    description,
                    json.dumps(inference_specification),
                    json.dumps(model_metrics) if model_metrics else None,
                    json.dumps(customer_metadata or {}),
                    at,
                    self.caller.account,
                    self.caller.arn,
                    json.dumps(drift_check_baselines) if drift_check_baselines else None,
                ),
            ).fetchone()[0]
            self.conn.execute(
                "INSERT INTO approval_history (package_id, from_status, to_status, reason, by_account, by_arn, at)"
                " VALUES (?, NULL, ?, 'registered', ?, ?, ?)",
                (package_id, approval_status, self.caller.account, self.caller.arn, at),
            )
            for entry in lineage or []:
                self.conn.execute(
                    "INSERT INTO lineage (package_id, kind, uri, sha256, detail) VALUES (?, ?, ?, ?, ?)",
                    (package_id, entry.kind, entry.uri, entry.sha256, json.dumps(entry.detail)),
                )
            self._emit(row, arn, version, approval_status, None, at)
        return self._package(self._package_row(arn))

    def _emit(self, group: GroupRow, arn: str, version: int, status: str, reason: str | None, at: str) -> None:
        detail = {
            "ModelPackageGroupName": group["name"],
            "ModelPackageVersion": version,
            "ModelPackageArn": arn,
            "ModelApprovalStatus": status,
            "ModelPackageStatus": "Completed",
            "UpdatedBy": self.caller.arn,
        }
        if reason:
            detail["ApprovalDescription"] = reason
        self.conn.execute(
            "INSERT INTO events (source, detail_type, account, region, resources, detail, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            ("aws.sagemaker", STATE_CHANGE, group["account"], group["region"], json.dumps([arn]), json.dumps(detail), at),
        )

    def _package_row(self, arn: str) -> sqlite3.Row:
        package_arn_parts(arn)
        row: sqlite3.Row | None = self.conn.execute(
            f"SELECT {_PACKAGE_COLUMNS}, g.account, g.region, g.id AS gid FROM model_packages p "
            "JOIN model_package_groups g ON g.id = p.group_id WHERE p.arn = ?",
            (arn,),
        ).fetchone()
        if row is None:
            raise NotFound(f"model package {arn}")
        return row

    def _package(self, row: sqlite3.Row) -> ModelPackage:
        return ModelPackage(
            arn=row["arn"],
            group_name=row["group_name"],
            group_arn=row["group_arn"],
            version=row["version"],
            status=row["status"],
            inference_specification=json.loads(row["inference_specification"]),
            approval_description=row["approval_description"],
            description=row["description"],
            model_metrics=json.loads(row["model_metrics"]) if row["model_metrics"] else None,
            drift_check_baselines=json.loads(row["drift_check_baselines"]) if row["drift_check_baselines"] else None,
            customer_metadata=json.loads(row["customer_metadata"]),
            stage=row["stage"],
            stage_status=row["stage_status"],
            created_at=row["created_at"],
            created_by_account=row["created_by_account"],
            created_by=row["created_by"],
            last_modified_at=row["last_modified_at"],
            last_modified_by=row["last_modified_by"],
        )

    def _group_of(self, row: sqlite3.Row) -> dict[str, Any]:
        return {"id": row["gid"], "arn": row["group_arn"], "account": row["account"], "region": row["region"], "name": row["group_name"]}

    def describe(self, arn: str) -> ModelPackage:
        row = self._package_row(arn)
        self._authorize("sagemaker:DescribeModelPackage", arn, self._group_of(row))
        return self._package(row)

    def list_packages(self, group: str, status: str | None = None, latest: bool = False) -> list[ModelPackage]:
        row = self._group_row(group)
        self._authorize("sagemaker:ListModelPackages", self._packages_resource(row), row)
        query = f"SELECT {_PACKAGE_COLUMNS} FROM model_packages p JOIN model_package_groups g ON g.id = p.group_id WHERE p.group_id = ?"
        args: list[object] = [row["id"]]
        if status:
            query += " AND p.status = ?"
            args.append(check_status(status))
        query += " ORDER BY p.version DESC" + (" LIMIT 1" if latest else "")
        return [self._package(r) for r in self.conn.execute(query, args)]

    def update_status(self, arn: str, status: str, reason: str | None = None) -> ModelPackage:
        check_status(status)
        with transaction(self.conn):
            row = self._package_row(arn)
            group = self._group_of(row)
            self._authorize("sagemaker:UpdateModelPackage", arn, group)
            at = now()
            self.conn.execute(
                "UPDATE model_packages SET status = ?, approval_description = ?, last_modified_at = ?, last_modified_by = ? WHERE id = ?",
                (status, reason, at, self.caller.arn, row["id"]),
            )
            self.conn.execute(
                "INSERT INTO approval_history (package_id, from_status, to_status, reason, by_account, by_arn, at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (row["id"], row["status"], status, reason, self.caller.account, self.caller.arn, at),
            )
            self._emit(group, arn, row["version"], status, reason, at)
        return self._package(self._package_row(arn))

    def history(self, arn: str) -> list[ApprovalChange]:
        row = self._package_row(arn)
        self._authorize("sagemaker:DescribeModelPackage", arn, self._group_of(row))
        rows = self.conn.execute("SELECT * FROM approval_history WHERE package_id = ? ORDER BY id", (row["id"],))
        return [ApprovalChange(r["from_status"], r["to_status"], r["reason"], r["by_account"], r["by_arn"], r["at"]) for r in rows]

    def lineage(self, arn: str) -> list[LineageEntry]:
        row = self._package_row(arn)
        self._authorize("sagemaker:DescribeModelPackage", arn, self._group_of(row))
        rows = self.conn.execute("SELECT * FROM lineage WHERE package_id = ? ORDER BY id", (row["id"],))
        return [LineageEntry(r["kind"], r["uri"], r["sha256"], json.loads(r["detail"])) for r in rows]

    # -- policies --------------------------------------------------------------------------
    def get_policy(self, group: str) -> dict[str, Any] | None:
        row = self._group_row(group)
        self._authorize("sagemaker:GetModelPackageGroupPolicy", row["arn"], row)
        return self._policy(row["arn"])

    def put_policy(self, group: str, policy: dict[str, Any]) -> None:
        row = self._group_row(group)
        self._authorize("sagemaker:PutModelPackageGroupPolicy", row["arn"], row)
        if not isinstance(policy, dict) or not statements(policy):
            raise UserError("E6018", "a resource policy needs a Statement list", exit_code=2)
        write_policy(self.conn, row["arn"], policy, self.caller.arn)

    # -- stages and deployments -------------------------------------------------------------
    def set_stage(self, arn: str, stage: str, status: str, description: str | None = None) -> ModelPackage:
        """SageMaker's ModelLifeCycle: where a version is (QA, Prod) and how it is doing there."""
        with transaction(self.conn):
            row = self._package_row(arn)
            self._authorize("sagemaker:UpdateModelPackage", arn, self._group_of(row))
            self.conn.execute(
                "UPDATE model_packages SET stage = ?, stage_status = ?, stage_description = ?, last_modified_at = ?,"
                " last_modified_by = ? WHERE id = ?",
                (stage, status, description, now(), self.caller.arn, row["id"]),
            )
        return self._package(self._package_row(arn))

    def record_deployment(self, deployment: Deployment) -> Deployment:
        with transaction(self.conn):
            row = self._package_row(deployment.package_arn)
            self._authorize("sagemaker:UpdateModelPackage", deployment.package_arn, self._group_of(row))
            at = deployment.at or now()
            new_id: int = self.conn.execute(
                "INSERT INTO deployments (group_arn, stage, action, version, package_arn, account, endpoint, endpoint_config,"
                " variants, previous_version, outcome, detail, by_arn, reason, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " RETURNING id",
                (
                    row["group_arn"],
                    deployment.stage,
                    deployment.action,
                    deployment.version,
                    deployment.package_arn,
                    deployment.account,
                    deployment.endpoint,
                    deployment.endpoint_config,
                    json.dumps(deployment.variants),
                    deployment.previous_version,
                    deployment.outcome,
                    json.dumps(deployment.detail),
                    self.caller.arn,
                    deployment.reason,
                    at,
                ),
            ).fetchone()[0]
            if deployment.action in ("deploy", "canary", "rollback"):
                endpoint_arn = self.aws.sagemaker(row["region"], deployment.account, f"endpoint/{deployment.endpoint}")
                self.conn.execute(
                    "INSERT INTO lineage (package_id, kind, uri, sha256, detail) VALUES (?, 'endpoint', ?, NULL, ?)",
                    (row["id"], endpoint_arn, json.dumps({"stage": deployment.stage, "action": deployment.action, "at": at})),
                )
        return self.deployments(row["group_arn"], deployment_id=new_id)[0]

    def deployments(self, group: str, stage: str | None = None, deployment_id: int | None = None) -> list[Deployment]:
        """The group's deployment history, oldest first."""
        row = self._group_row(group)
        self._authorize("sagemaker:ListModelPackages", self._packages_resource(row), row)
        query, args = "SELECT * FROM deployments WHERE group_arn = ?", [row["arn"]]
        if stage:
            query, args = query + " AND stage = ?", args + [stage]
        if deployment_id is not None:
            query, args = query + " AND id = ?", args + [deployment_id]
        return [
            Deployment(
                r["group_arn"],
                r["stage"],
                r["action"],
                r["version"],
                r["package_arn"],
                r["account"],
                r["endpoint"],
                r["endpoint_config"],
                json.loads(r["variants"]),
                r["previous_version"],
                r["outcome"],
                json.loads(r["detail"]),
                r["by_arn"],
                r["reason"],
                r["at"],
                r["id"],
            )
            for r in self.conn.execute(query + " ORDER BY id", args)
        ]

    # -- events ----------------------------------------------------------------------------
    def events(self, after: int = 0, detail_type: str = STATE_CHANGE) -> list[dict[str, Any]]:
        rows = self.conn.execute("SELECT * FROM events WHERE id > ? AND detail_type = ? ORDER BY id", (after, detail_type))
        return [
            {
                "id": r["id"],
                "version": "0",
                "source": r["source"],
                "detail-type": r["detail_type"],
                "account": r["account"],
                "region": r["region"],
                "time": r["at"],
                "resources": json.loads(r["resources"]),
                "detail": json.loads(r["detail"]),
                "event-id": str(uuid.UUID(int=r["id"])),
            }
            for r in rows
        ]

    def cursor(self, subscriber: str) -> int:
        row = self.conn.execute("SELECT last_event_id FROM event_cursors WHERE subscriber = ?", (subscriber,)).fetchone()
        last: int = row["last_event_id"] if row else 0
        return last

    def acknowledge(self, subscriber: str, event_id: int) -> None:
        """Move `subscriber`'s cursor past `event_id` (after it has acted on the event, so a failure retries it)."""
        with transaction(self.conn):
            self.conn.execute(
                "INSERT INTO event_cursors (subscriber, last_event_id) VALUES (?, ?) ON CONFLICT (subscriber)"
                " DO UPDATE SET last_event_id = max(last_event_id, excluded.last_event_id)",
                (subscriber, event_id),
            )

    def consume(self, subscriber: str, detail_type: str = STATE_CHANGE) -> list[dict[str, Any]]:
        """Events not yet seen by `subscriber`; its cursor advances in the same transaction."""
        with transaction(self.conn):
            row = self.conn.execute("SELECT last_event_id FROM event_cursors WHERE subscriber = ?", (subscriber,)).fetchone()
            pending = self.events(row["last_event_id"] if row else 0, detail_type)
            if pending:
                self.conn.execute(
                    "INSERT INTO event_cursors (subscriber, last_event_id) VALUES (?, ?) ON CONFLICT (subscriber)"
                    " DO UPDATE SET last_event_id = excluded.last_event_id",
                    (subscriber, pending[-1]["id"]),
                )
        return pending
