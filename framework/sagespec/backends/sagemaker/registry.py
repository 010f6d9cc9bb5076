"""The registry against SageMaker with boto3 (the caller is the session's identity).

Lineage is SageMaker ML Lineage Tracking's (registry/lineage.py): register() records what went
into a version, a deployment the endpoint it reached, and lineage() reads them back with
QueryLineage. Versions registered by sagespec before kept their lineage in
CustomerMetadataProperties under `sagespec:lineage:<kind>` keys; lineage() still reads those.
Approval history is what DescribeModelPackage keeps (the current status and who set it).
The stage is SageMaker's ModelLifeCycle. Deployments are kept on the deployed version too, as
`sagespec:<stage>:<action>` metadata: the latest of each action per version and stage, which is
what promotion's rules (passed QA? what was in prod before?) need, not a full log.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import botocore.exceptions

from sagespec.aws.sessions import aws_errors
from sagespec.backends.names import package_arn_parts
from sagespec.backends.records import ApprovalChange, Deployment, LineageEntry, ModelPackage, ModelPackageGroup, check_status
from sagespec.backends.sagemaker.lineage import Lineage
from sagespec.diagnostics import UserError

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_sagemaker.type_defs import CreateModelPackageGroupInputTypeDef, ModelLifeCycleTypeDef

LINEAGE_PREFIX = "sagespec:lineage:"
DEPLOYMENT_KEY = re.compile(r"sagespec:(qa|prod):(deploy|canary|finalize|rollback|qa-test)")


def _time(value: datetime | str | None) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else value


class SageMakerRegistry:
    def __init__(self, session: boto3.Session):
        self.session = session
        self.sm = session.client("sagemaker")
        self.tracking = Lineage(self.sm)

    def create_group(self, name: str, description: str | None = None, tags: dict[str, str] | None = None) -> ModelPackageGroup:
        request: CreateModelPackageGroupInputTypeDef = {"ModelPackageGroupName": name}
        if description:
            request["ModelPackageGroupDescription"] = description
        if tags:
            request["Tags"] = [{"Key": k, "Value": v} for k, v in sorted(tags.items())]
        with aws_errors(f"creating model package group {name}"):
            self.sm.create_model_package_group(**request)
        return self.describe_group(name)

    def _group(self, described: Mapping[str, Any]) -> ModelPackageGroup:
        arn = described["ModelPackageGroupArn"]
        return ModelPackageGroup(
            described["ModelPackageGroupName"],
            arn,
            arn.split(":")[4],
            described.get("ModelPackageGroupDescription"),
            {},
            _time(described.get("CreationTime")),
            (described.get("CreatedBy") or {}).get("UserProfileName"),
        )

    def describe_group(self, group: str) -> ModelPackageGroup:
        with aws_errors(f"describing model package group {group}"):
            return self._group(self.sm.describe_model_package_group(ModelPackageGroupName=group))

    def list_groups(self) -> list[ModelPackageGroup]:
        groups: list[ModelPackageGroup] = []
        with aws_errors("listing model package groups"):
            for page in self.sm.get_paginator("list_model_package_groups").paginate():
                groups += [self._group(g) for g in page["ModelPackageGroupSummaryList"]]
        return sorted(groups, key=lambda g: g.arn)

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
        metadata = dict(customer_metadata or {})
        # A group ARN in another account is passed as is: that is how cross-account registration works.
        request: dict[str, Any] = {
            "ModelPackageGroupName": group,
            "InferenceSpecification": inference_specification,
            "ModelApprovalStatus": check_status(approval_status),
        }
        if model_metrics:
            request["ModelMetrics"] = model_metrics
        if drift_check_baselines:
            request["DriftCheckBaselines"] = drift_check_baselines
        if metadata:
            request["CustomerMetadataProperties"] = metadata
        if description:
            request["ModelPackageDescription"] = description
        with aws_errors(f"registering a model version in {group}"):
            arn = self.sm.create_model_package(**request)["ModelPackageArn"]
        if lineage:
            self.tracking.record(arn, lineage)
        return self.describe(arn)

    def _package(self, d: Mapping[str, Any]) -> ModelPackage:
        arn = d["ModelPackageArn"]
        _, region, account, group_name, version = package_arn_parts(arn)
        group_arn = f"arn:{arn.split(':')[1]}:sagemaker:{region}:{account}:model-package-group/{group_name}"
        metadata = {
            k: v
            for k, v in (d.get("CustomerMetadataProperties") or {}).items()
            if not k.startswith(LINEAGE_PREFIX) and not DEPLOYMENT_KEY.fullmatch(k)
        }
        return ModelPackage(
            arn=arn,
            group_name=d.get("ModelPackageGroupName", group_name),
            group_arn=group_arn,
            version=int(d.get("ModelPackageVersion") or version),
            status=d["ModelApprovalStatus"],
            inference_specification=d.get("InferenceSpecification") or {},
            approval_description=d.get("ApprovalDescription"),
            description=d.get("ModelPackageDescription"),
            model_metrics=d.get("ModelMetrics") or None,
            drift_check_baselines=d.get("DriftCheckBaselines") or None,
            customer_metadata=metadata,
            stage=d.get("ModelLifeCycle", {}).get("Stage"),
            stage_status=d.get("ModelLifeCycle", {}).get("StageStatus"),
            created_at=_time(d.get("CreationTime")),
            created_by_account=account,
            created_by=(d.get("CreatedBy") or {}).get("UserProfileName"),
            last_modified_at=_time(d.get("LastModifiedTime")),
            last_modified_by=(d.get("LastModifiedBy") or {}).get("UserProfileName"),
        )

    def describe(self, arn: str) -> ModelPackage:
        package_arn_parts(arn)
        with aws_errors(f"describing model package {arn}"):
            return self._package(self.sm.describe_model_package(ModelPackageName=arn))

    def _package_arns(self, group: str, status: str | None = None) -> list[str]:
        """ARNs of the group's versions, newest first."""
        request: dict[str, Any] = {"ModelPackageGroupName": group, "SortBy": "CreationTime", "SortOrder": "Descending"}
        if status:
            request["ModelApprovalStatus"] = check_status(status)
        arns: list[str] = []
        with aws_errors(f"listing model packages of {group}"):
            for page in self.sm.get_paginator("list_model_packages").paginate(**request):
                arns += [s["ModelPackageArn"] for s in page["ModelPackageSummaryList"]]
        return sorted(arns, key=lambda a: package_arn_parts(a)[4], reverse=True)

    def list_packages(self, group: str, status: str | None = None, latest: bool = False) -> list[ModelPackage]:
        arns = self._package_arns(group, status)
        return [self.describe(a) for a in (arns[:1] if latest else arns)]

    def update_status(self, arn: str, status: str, reason: str | None = None) -> ModelPackage:
        request: dict[str, Any] = {"ModelPackageArn": arn, "ModelApprovalStatus": check_status(status)}
        if reason:
            request["ApprovalDescription"] = reason
        with aws_errors(f"updating model package {arn}"):
            self.sm.update_model_package(**request)
        return self.describe(arn)

    def history(self, arn: str) -> list[ApprovalChange]:
        p = self.describe(arn)
        return [
            ApprovalChange(
                None,
                p.status,
                p.approval_description,
                p.created_by_account or "",
                p.last_modified_by or p.created_by or "",
                p.last_modified_at or p.created_at or "",
            )
        ]

    def lineage(self, arn: str) -> list[LineageEntry]:
        tracked = self.tracking.read(arn)
        if tracked:
            return tracked
        with aws_errors(f"describing model package {arn}"):
            d = self.sm.describe_model_package(ModelPackageName=arn)
        entries: list[LineageEntry] = []
        for key, value in (d.get("CustomerMetadataProperties") or {}).items():
            if key.startswith(LINEAGE_PREFIX):
                data = json.loads(value)
                entries.append(LineageEntry(key[len(LINEAGE_PREFIX) :], data.pop("uri", None), data.pop("sha256", None), data))
        return entries

    def get_policy(self, group: str) -> dict[str, Any] | None:
        try:
            response = self.sm.get_model_package_group_policy(ModelPackageGroupName=group)
        except botocore.exceptions.ClientError as exc:
            if "does not have" in str(exc) or "ResourceNotFound" in str(exc):
                return None
            with aws_errors(f"reading the policy of {group}"):
                raise
        policy: dict[str, Any] = json.loads(response["ResourcePolicy"])
        return policy

    def put_policy(self, group: str, policy: dict[str, Any]) -> None:
        with aws_errors(f"putting the policy of {group}"):
            self.sm.put_model_package_group_policy(ModelPackageGroupName=group, ResourcePolicy=json.dumps(policy))

    def set_stage(self, arn: str, stage: str, status: str, description: str | None = None) -> ModelPackage:
        life_cycle: ModelLifeCycleTypeDef = {"Stage": stage, "StageStatus": status}
        if description:
            life_cycle["StageDescription"] = description[:1024]
        with aws_errors(f"setting the stage of {arn}"):
            self.sm.update_model_package(ModelPackageArn=arn, ModelLifeCycle=life_cycle)
        return self.describe(arn)

    def _caller_arn(self) -> str:
        with aws_errors("reading the caller identity"):
            return self.session.client("sts").get_caller_identity()["Arn"]

    def record_deployment(self, deployment: Deployment) -> Deployment:
        at = deployment.at or datetime.now(timezone.utc).isoformat(timespec="seconds")
        record: dict[str, Any] = {
            "at": at,
            "by": self._caller_arn(),
            "account": deployment.account,
            "endpoint": deployment.endpoint,
            "outcome": deployment.outcome,
            "previous": deployment.previous_version,
            "variants": [[v["name"], None if v["weight"] is None else round(v["weight"], 4)] for v in deployment.variants],
        }
        # CustomerMetadataProperties values hold at most 256 characters.
        value = json.dumps(record, separators=(",", ":"))
        if len(value) > 256:
            record.pop("variants")
            value = json.dumps(record, separators=(",", ":"))
        with aws_errors(f"recording a deployment on {deployment.package_arn}"):
            self.sm.update_model_package(
                ModelPackageArn=deployment.package_arn,
                CustomerMetadataProperties={f"sagespec:{deployment.stage}:{deployment.action}": value},
            )
        if deployment.action in ("deploy", "canary", "finalize", "rollback") and deployment.outcome == "Succeeded":
            _, region, _, _, _ = package_arn_parts(deployment.package_arn)
            partition = deployment.package_arn.split(":")[1]
            # Endpoint ARNs hold the name in lower case.
            endpoint = f"arn:{partition}:sagemaker:{region}:{deployment.account}:endpoint/{deployment.endpoint.lower()}"
            self.tracking.record(deployment.package_arn, [LineageEntry("endpoint", endpoint)], first=1000)
        return Deployment(**{**deployment.__dict__, "at": at, "by": record["by"]})

    def deployments(self, group: str, stage: str | None = None) -> list[Deployment]:
        found: list[Deployment] = []
        for arn in self._package_arns(group):
            with aws_errors(f"describing model package {arn}"):
                described = self.sm.describe_model_package(ModelPackageName=arn)
            package, metadata = self._package(described), described.get("CustomerMetadataProperties") or {}
            for key, value in metadata.items():
                match = DEPLOYMENT_KEY.fullmatch(key)
                if not match or (stage and match.group(1) != stage):
                    continue
                data = json.loads(value)
                found.append(
                    Deployment(
                        package.group_arn,
                        match.group(1),
                        match.group(2),
                        package.version,
                        package.arn,
                        data.get("account", ""),
                        data.get("endpoint", ""),
                        None,
                        [{"name": n, "version": int(n[1:]) if n[1:].isdigit() else None, "weight": w} for n, w in data.get("variants", [])],
                        data.get("previous"),
                        data.get("outcome", "Succeeded"),
                        {},
                        data.get("by", ""),
                        None,
                        data["at"],
                    )
                )
        return sorted(found, key=lambda d: d.at)

    # -- events: EventBridge delivers them to a rule, not to sagespec ----------------------------
    def _no_events(self) -> UserError:
        return UserError(
            "E7005",
            "--on-approval reads the local registry's events; in AWS an EventBridge rule starts promotion",
            hint="`sagespec cicd render` writes the rule, the CodeBuild buildspec and a GitHub Actions workflow",
            exit_code=2,
        )

    def events(self, after: int = 0) -> list[dict[str, Any]]:
        raise self._no_events()

    def cursor(self, subscriber: str) -> int:
        raise self._no_events()

    def acknowledge(self, subscriber: str, event_id: int) -> None:
        raise self._no_events()
