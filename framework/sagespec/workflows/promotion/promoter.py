"""Promotion from the deployment account: an Approved version to QA, then (gated) to prod.

A promotion is planned first and executed second, so the CLI can show the plan and ask
before prod (the manual gate). The registry is used as the deployment account (who may read,
list and update versions of the shared group); hosting is the workload account's SageMaker
(models, endpoint configs, endpoints). Nothing is recorded until the endpoint is InService:
a failed deployment leaves the registry's stage and history as they were.

Stages: `qa` and `prod` are workload accounts of the topology. On the version, SageMaker's
ModelLifeCycle says where it is: Stage QA or Prod, StageStatus Deployed, TestPassed,
TestFailed, Canary, Replaced or RolledBack.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from sagespec.backends.names import model_name, package_arn, production_variant, variant_name, variant_version
from sagespec.backends.records import Deployment, ModelPackage
from sagespec.diagnostics import UserError

if TYPE_CHECKING:
    from sagespec.backends.protocols import Hosting, Registry
    from sagespec.spec.topology import Account, Topology

STAGE_LABELS = {"qa": "QA", "prod": "Prod"}
# Deployment actions after which one version takes all of a stage's traffic.
FULL_ACTIONS = ("deploy", "finalize", "rollback")


@dataclass
class Plan:
    stage: str
    action: str  # deploy | canary | finalize | rollback
    package: ModelPackage
    account: Account  # the workload account of the stage
    endpoint: str
    current: list[dict[str, Any]]  # [{"name", "version", "weight"}] served now ([] when the endpoint does not exist)
    target: list[dict[str, Any]]  # the variants after the change
    weights_only: bool = False  # UpdateEndpointWeightsAndCapacities instead of a new endpoint config
    reason: str | None = None
    forced: bool = False
    notes: list[str] = field(default_factory=list)
    endpoint_status: str | None = None  # EndpointStatus now (None: not looked at, or no endpoint)

    @property
    def unchanged(self) -> bool:
        """Nothing to do: the endpoint is in service with the target's variants (a Failed endpoint
        serving the same variants on paper is brought back by a new endpoint config)."""
        healthy = self.endpoint_status in (None, "InService")
        return healthy and _served(self.current) == _served(self.target)

    @property
    def replaced(self) -> int | None:
        """The version that stops being the stage's version (a canary replaces nothing yet)."""
        if self.action == "canary" or self.previous_version == self.package.version:
            return None
        return self.previous_version

    @property
    def previous_version(self) -> int | None:
        serving = [v for v in self.current if v["weight"] > 0]
        return max(serving, key=lambda v: v["weight"])["version"] if serving else None


def _served(variants: list[dict[str, Any]]) -> dict[int, float]:
    total = sum(v["weight"] for v in variants) or 1.0
    return {v["version"]: round(v["weight"] / total, 6) for v in variants if v["weight"] > 0}


def endpoint_name(group: str, stage: str) -> str:
    return f"{group}-{stage}"[:63]


class Promoter:
    def __init__(
        self,
        registry: Registry,
        hosting: Hosting | None,
        topology: Topology,
        group: str,
        stage: str,
        endpoint: str | None = None,
        instance_type: str = "ml.m5.large",
    ):
        if stage not in STAGE_LABELS:
            raise UserError("E7005", f"unknown stage '{stage}'", hint="qa or prod", exit_code=2)
        account = topology.find(stage)
        if account is None or not account.workload:
            raise UserError(
                "E6014",
                f"the accounts file has no workload account '{stage}'",
                hint="add it under accounts.workloads in pipelines/accounts.yaml",
            )
        self.registry, self.hosting, self.topology, self.stage, self.account = registry, hosting, topology, stage, account
        self.group_name = group.rsplit("/", 1)[-1]
        self.group_arn = topology.group_arn(group)
        self.endpoint = endpoint or endpoint_name(self.group_name, stage)
        self.instance_type = instance_type

    # -- reading ---------------------------------------------------------------------------
    def stage_hosting(self) -> Hosting:
        """The hosting of the stage's account, which planning and executing use (the caller opens
        it for that account; only a promoter that reads the registry is made without one)."""
        assert self.hosting is not None, f"a promoter for {self.stage} without hosting only reads the registry"
        return self.hosting

    def package(self, version: int | None) -> ModelPackage:
        """The named version, or the latest Approved one; refuses versions that are not Approved."""
        if version is None:
            latest = self.registry.list_packages(self.group_arn, "Approved", latest=True)
            if not latest:
                raise UserError(
                    "E7001",
                    f"{self.group_name} has no Approved version to promote",
                    hint="approve one: sagespec models approve ARN --as deployment --reason TEXT",
                )
            return latest[0]
        arn = package_arn(self.group_arn, version)
        package = self.registry.describe(arn)
        if package.status != "Approved":
            raise UserError(
                "E7001",
                f"version {version} of {self.group_name} is {package.status}; only Approved versions are promoted",
                hint=f"approve it first: sagespec models approve {arn} --as deployment --reason TEXT"
                if package.status == "PendingManualApproval"
                else "a Rejected version stays out of every stage",
            )
        return package

    def current(self) -> list[dict[str, Any]]:
        described = self.stage_hosting().describe_endpoint(self.endpoint)
        if described is None:
            return []
        return [
            {"name": v["VariantName"], "version": variant_version(v["VariantName"]), "weight": float(v["CurrentWeight"])}
            for v in described["ProductionVariants"]
        ]

    def endpoint_status(self) -> str | None:
        described = self.stage_hosting().describe_endpoint(self.endpoint)
        return described["EndpointStatus"] if described else None

    def passed_qa(self, package: ModelPackage) -> bool:
        return any(
            d.action == "qa-test" and d.outcome == "Passed" and d.version == package.version
            for d in self.registry.deployments(self.group_arn, "qa")
        )

    def history(self) -> list[Deployment]:
        return self.registry.deployments(self.group_arn, self.stage)

    # -- planning --------------------------------------------------------------------------
    def plan_promote(
        self, version: int | None = None, canary_weight: float | None = None, force: bool = False, reason: str | None = None
    ) -> Plan:
        package = self.package(version)
        plan = Plan(self.stage, "deploy", package, self.account, self.endpoint, self.current(), [], reason=reason)
        plan.endpoint_status = self.endpoint_status()
        if plan.endpoint_status not in (None, "InService"):
            plan.notes.append(f"{self.endpoint} is {plan.endpoint_status}: a new endpoint config starts it again")
        if self.stage == "prod" and not self.passed_qa(package):
            if not force:
                raise UserError(
                    "E7002",
                    f"version {package.version} has not passed QA; prod takes only versions that did",
                    hint=f"promote it to qa and run `sagespec endpoints test {endpoint_name(self.group_name, 'qa')}`,"
                    " or override with --force --reason TEXT",
                )
            plan.forced = True
            plan.notes.append(f"forced past the QA gate: {reason}")
        new = {"name": variant_name(package.version), "version": package.version}
        if canary_weight is None:
            plan.target = [{**new, "weight": 1.0}]
            return plan
        if self.stage != "prod":
            raise UserError("E7005", "--canary-weight splits production traffic; use it with --stage prod", exit_code=2)
        primary = plan.previous_version
        if primary is None:
            raise UserError(
                "E7004",
                f"{self.endpoint} does not exist yet; a canary needs a version already in prod",
                hint="promote a first version to prod without --canary-weight",
            )
        if primary == package.version:
            raise UserError(
                "E7004",
                f"version {package.version} already takes most of {self.endpoint}'s traffic",
                hint="a canary is a different version next to the current one",
            )
        plan.action = "canary"
        plan.target = [
            {"name": variant_name(primary), "version": primary, "weight": round(1.0 - canary_weight, 6)},
            {**new, "weight": float(canary_weight)},
        ]
        plan.weights_only = {v["name"] for v in plan.current} == {v["name"] for v in plan.target}
        return plan

    def plan_finalize(self) -> Plan:
        current = self.current()
        canaries = [d for d in self.history() if d.action == "canary"]
        live = {v["version"] for v in current}
        if len(current) < 2 or not canaries or canaries[-1].version not in live:
            raise UserError(
                "E7004",
                f"{self.endpoint} has no canary to finalize",
                hint="start one with: sagespec promote GROUP --stage prod --canary-weight 0.1",
            )
        canary = canaries[-1].version
        package = self.registry.describe(package_arn(self.group_arn, canary))
        plan = Plan(
            self.stage,
            "finalize",
            package,
            self.account,
            self.endpoint,
            current,
            [{**v, "weight": 1.0 if v["version"] == canary else 0.0} for v in current],
            weights_only=True,
        )
        plan.notes.append("the old variant stays at weight 0 until the next promotion replaces the endpoint config")
        return plan

    def plan_rollback(self, reason: str | None = None) -> Plan:
        current = self.current()
        if not current:
            raise UserError("E7004", f"{self.endpoint} does not exist; there is nothing to roll back")
        serving = [v for v in current if v["weight"] > 0]
        full = [d for d in self.history() if d.action in FULL_ACTIONS and d.outcome == "Succeeded"]
        if len(serving) > 1 and full:
            target = full[-1].version  # a canary is running: back to the version it was tried against
        else:
            now_serving = full[-1].version if full else max(serving, key=lambda v: v["weight"])["version"]
            earlier = [d.version for d in reversed(full) if d.version != now_serving]
            if not earlier:
                raise UserError(
                    "E7004",
                    f"no version was in {self.stage} before version {now_serving}",
                    hint="`sagespec deployments list GROUP` shows the history",
                )
            target = earlier[0]
        package = self.package(target)
        return Plan(
            self.stage,
            "rollback",
            package,
            self.account,
            self.endpoint,
            current,
            [{"name": variant_name(target), "version": target, "weight": 1.0}],
            reason=reason,
        )

    # -- doing -----------------------------------------------------------------------------
    def execute(self, plan: Plan) -> Deployment:
        hosting = self.stage_hosting()
        if plan.weights_only:
            hosting.update_endpoint_weights_and_capacities(plan.endpoint, {v["name"]: v["weight"] for v in plan.target})
            config = None
        else:
            for variant in plan.target:
                name = model_name(self.group_name, variant["version"])
                if hosting.describe_model(name) is None:
                    hosting.create_model(name, package_arn(self.group_arn, variant["version"]), self.account.principal.arn)
            stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-%f")[:-3]
            config = f"{plan.endpoint[:40]}-{stamp}"
            hosting.create_endpoint_config(
                config, [production_variant(v["version"], v["weight"], self.group_name, self.instance_type) for v in plan.target]
            )
            if plan.current:
                hosting.update_endpoint(plan.endpoint, config)
            else:
                hosting.create_endpoint(plan.endpoint, config)
        label = STAGE_LABELS[plan.stage]
        status = {"deploy": "Deployed", "canary": "Canary", "finalize": "Deployed", "rollback": "Deployed"}[plan.action]
        description = f"{plan.action} on {plan.endpoint} in {plan.account.id}" + (f": {plan.reason}" if plan.reason else "")
        self.registry.set_stage(plan.package.arn, label, status, description)
        if plan.replaced is not None:
            self.registry.set_stage(
                package_arn(self.group_arn, plan.replaced),
                label,
                "RolledBack" if plan.action == "rollback" else "Replaced",
                f"{plan.endpoint} now serves version {plan.package.version}",
            )
        return self.registry.record_deployment(
            Deployment(
                self.group_arn,
                plan.stage,
                plan.action,
                plan.package.version,
                plan.package.arn,
                plan.account.id,
                plan.endpoint,
                config,
                plan.target,
                plan.previous_version,
                "Succeeded",
                {"forced": plan.forced} if plan.forced else {},
                reason=plan.reason,
            )
        )
