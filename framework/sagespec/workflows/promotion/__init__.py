"""Promotion from the deployment account: an Approved version to QA, then (gated) to prod, with
canaries, rollback and the QA test of an endpoint.

A promotion is planned first (`plan`) and carried out second (`carry_out`), so the CLI can show
the plan and ask before prod (the manual gate) in between.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sagespec.backends.local.database import connect
from sagespec.backends.local.hosting import stop_servers as stop_local_servers
from sagespec.backends.records import Deployment
from sagespec.context import Context
from sagespec.diagnostics import UserError
from sagespec.spec.topology import Account
from sagespec.workflows.promotion import qa
from sagespec.workflows.promotion.promoter import Plan, Promoter
from sagespec.workflows.promotion.services import Services, open_services


def promoter(services: Services, group: str, stage: str, endpoint: str | None = None, instance_type: str = "ml.m5.large") -> Promoter:
    account = services.topology.find(stage)
    return Promoter(
        services.registry, services.hosting_for(account) if account else None, services.topology, group, stage, endpoint, instance_type
    )


@dataclass
class CarriedOut:
    deployment: Deployment
    endpoint: dict[str, Any]  # DescribeEndpoint after the change


def carry_out(promoting: Promoter, plan: Plan) -> CarriedOut:
    deployment = promoting.execute(plan)
    return CarriedOut(deployment, promoting.stage_hosting().describe_endpoint(plan.endpoint) or {})


def deployments(ctx: Context, as_: str | None, group: str, stage: str | None = None) -> list[Deployment]:
    """Every deployment, canary, finalize, rollback and QA test of GROUP, oldest first."""
    services = open_services(ctx, as_)
    return services.registry.deployments(services.topology.group_arn(group), stage)


def endpoints(ctx: Context, as_: str | None = None, assume_role_name: str | None = None) -> list[tuple[Account, dict[str, Any]]]:
    """Endpoints of every workload account."""
    services = open_services(ctx, as_, assume_role_name)
    return [(account, e) for account in services.topology.workloads for e in services.hosting_for(account).list_endpoints()]


def delete_endpoint(ctx: Context, name: str, account: str | None, as_: str | None = None, assume_role_name: str | None = None) -> Account:
    """Delete endpoint NAME (locally: stop its server process); its models and configs stay."""
    found, hosting = open_services(ctx, as_, assume_role_name).find_endpoint(name, account)
    hosting.delete_endpoint(name)
    return found


@dataclass
class Tested:
    account: Account
    results: list[qa.VariantResult]
    recorded: bool  # a QA test marks the version passed or failed; elsewhere it is only a check


def test_endpoint(
    ctx: Context,
    name: str,
    account: str | None,
    data: str | None,
    tolerance: float,
    group: str | None,
    as_: str | None = None,
    assume_role_name: str | None = None,
) -> Tested:
    """Send the test split through endpoint NAME and compare its metric with the registered one;
    in QA a pass marks the version QA-passed."""
    services = open_services(ctx, as_, assume_role_name)
    found, hosting = services.find_endpoint(name, account)
    group_arn = services.topology.group_arn(group or name.removesuffix(f"-{found.name}"))
    described = hosting.describe_endpoint(name)
    if described is None:
        raise UserError("E6005", f"endpoint {name} does not exist in {found.name} ({found.id})")
    data_uri = qa.test_data(services, described, group_arn, data)
    results = qa.test_endpoint(hosting, services.registry, services.read, name, data_uri, group_arn, tolerance)
    if found.name == "qa":
        qa.record(services.registry, results, group_arn, found.id, name, data_uri)
    return Tested(found, results, found.name == "qa")


def stop_servers(ctx: Context) -> list[dict[str, Any]]:
    """Stop every local endpoint server process of the workspace (the endpoints stay)."""
    return stop_local_servers(connect(ctx.workspace))
