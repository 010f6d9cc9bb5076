"""The rendered policies written into the local control plane, so local runs are checked
against exactly what AWS would enforce (`accounts apply --target local`, and every local run)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

from sagespec.accounts.changes import Change, change, deletion
from sagespec.accounts.deployer import local_deployer
from sagespec.accounts.needs import Need
from sagespec.accounts.render import render
from sagespec.backends.local.database import connect
from sagespec.backends.local.policies import IDENTITY, delete_policy, identity_policies, read_policy, write_policy
from sagespec.backends.local.registry import LocalRegistry
from sagespec.backends.records import NotFound
from sagespec.iam import Principal
from sagespec.iam.managed import managed_policy
from sagespec.spec.topology import Topology


def plan_local(topology: Topology, workspace: Path, needs: Sequence[Need] = ()) -> list[Change]:
    """What writing the rendered policies into the local control plane changes: resource policies
    (with the account owning each resource), role trust policies, inline and managed identity
    policies; identity policies the topology no longer renders are deleted, as in AWS. Groups
    are created by their account's administrator where a policy names one that does not exist."""
    conn = connect(workspace)
    aws, region = topology.aws, topology.region or ""
    shared = topology.accounts["shared_services"].id
    owner = LocalRegistry(conn, Principal(shared, aws.root(shared)), region, aws)

    def write(resource: str, document: dict[str, Any], account: str) -> None:
        if ":model-package-group/" in resource:
            try:
                owner.describe_group(resource)
            except NotFound:
                owner.create_group(resource.rsplit("/", 1)[1])
        write_policy(conn, resource, document, "sagespec accounts apply", account)

    changes: list[Change] = []
    for account in topology.accounts.values():
        own = LocalRegistry(conn, Principal(account.id, aws.root(account.id)), region, aws)
        for name in account.model_package_groups:
            try:
                own.describe_group(name)
                changes.append(Change(account.name, f"model package group {name}", "unchanged", ""))
            except NotFound:
                changes.append(
                    Change(
                        account.name,
                        f"model package group {name}",
                        "create",
                        f"+ {name}",
                        partial(own.create_group, name),
                    )
                )

    def role_documents(
        account: str, arn: str, trust: dict[str, Any], inline: dict[str, dict[str, Any]], managed: list[str]
    ) -> list[tuple[str, dict[str, Any]]]:
        documents = [(arn, trust)]
        documents += [(f"{arn}{IDENTITY}{name}", doc) for name, doc in inline.items()]
        documents += [(f"{arn}{IDENTITY}{managed_arn}", managed_policy(managed_arn)) for managed_arn in managed]
        rendered = set(inline) | set(managed)
        for stale, document in identity_policies(conn, arn):
            if stale not in rendered:
                changes.append(
                    deletion(
                        account,
                        f"policy {stale} of {arn} (not rendered: grants more than the workflow needs)",
                        document,
                        partial(delete_policy, conn, f"{arn}{IDENTITY}{stale}"),
                    )
                )
        return documents

    accounts = [
        (p.name, p.account_id, [(x.resource, x.document) for x in p.resource_policies], p.roles) for p in render(topology, needs=needs)
    ]
    for name, account_id, documents, roles in accounts:
        for role in roles:
            documents += role_documents(name, role.arn, role.trust, role.inline, role.managed)
        if topology.accounts[name].workload:
            # The role promotion assumes in the workload account (workload.deployer.template.json).
            arn, trust, inline = local_deployer(topology, topology.accounts[name])
            documents += role_documents(name, arn, trust, inline, [])
        for resource, document in documents:
            changes.append(
                change(
                    name,
                    f"policy of {resource}",
                    read_policy(conn, resource),
                    document,
                    partial(write, resource, document, account_id),
                )
            )
    return changes


class LocalPolicyAdmin:
    """The local control plane as the place policies live (backends.protocols.PolicyAdmin)."""

    def __init__(self, workspace: Path):
        self.workspace = workspace

    def plan(self, topology: Topology, needs: Sequence[Need] = ()) -> list[Change]:
        return plan_local(topology, self.workspace, needs)

    def execute(self, changes: list[Change]) -> None:
        for planned in changes:
            if planned.changes and planned.write is not None:
                planned.write()

    def apply(self, topology: Topology, needs: Sequence[Need] = ()) -> list[Change]:
        """Write the rendered policies; every change, made or not."""
        changes = self.plan(topology, needs)
        self.execute(changes)
        return changes
