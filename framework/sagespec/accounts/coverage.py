"""Proof before deploying: every request of every pipeline step against the rendered policies.

For each need (sagespec.accounts.needs: pipeline, step, caller, role, action, resource, condition
keys) the evaluator decides with the role's rendered identity policies (inline and managed) and
the rendered policy of the resource (bucket, key, group, repository, the role's trust policy).
Resources sagespec does not manage are taken with the policy AWS gives them (a key's default
key policy; AWS image repositories open to every account). Then every granted action of the
derived policies is matched against the needs: a grant no step uses is reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sagespec.accounts.needs import Need
from sagespec.accounts.render import AccountPolicies, Role
from sagespec.accounts.roles import POLICY_OF
from sagespec.iam import Request, evaluate, statements
from sagespec.iam.conditions import glob_matches
from sagespec.iam.managed import managed_policy
from sagespec.iam.resources import assumed_policy, policy_holder
from sagespec.spec.topology import Topology


@dataclass(frozen=True)
class Verdict:
    need: Need
    allowed: bool
    statement: str | None  # the deciding statement's Sid
    policy: str | None  # which policy holds it
    reason: str


@dataclass(frozen=True)
class Unused:
    role: str
    policy: str
    statement: str
    action: str
    resource: str


def _roles(policies: list[AccountPolicies]) -> dict[str, Role]:
    return {role.arn: role for account in policies for role in account.roles}


def _resource_policies(policies: list[AccountPolicies]) -> dict[str, dict[str, Any]]:
    found = {p.resource: p.document for account in policies for p in account.resource_policies}
    for role in _roles(policies).values():
        found[role.arn] = role.trust
    return found


def _identity(role: Role | None) -> list[tuple[str, dict[str, Any]]]:
    if role is None:
        return []
    return list(role.inline.items()) + [(arn.rsplit("/", 1)[-1], managed_policy(arn)) for arn in role.managed]


def _resource_account(resource: str, need: Need, topology: Topology) -> str:
    parts = resource.split(":")
    if len(parts) > 4 and parts[4]:
        return parts[4]
    bucket = resource.split(":::", 1)[-1].split("/", 1)[0]
    if bucket == topology.artifacts.get("bucket"):
        return topology.artifacts_owner.id
    return need.account if need.caller != "SageMaker" else ""


def decide(needs: list[Need], policies: list[AccountPolicies], topology: Topology) -> list[Verdict]:
    roles, attached = _roles(policies), _resource_policies(policies)
    verdicts = []
    for need in needs:
        principal = need.principal
        account = need.resource.split(":")[4] if need.caller == "SageMaker" else _resource_account(need.resource, need, topology)
        if need.caller != "SageMaker" and need.role not in roles:
            verdicts.append(Verdict(need, False, None, None, f"role {need.role} is not in the accounts file: nothing renders its policies"))
            continue
        holder = policy_holder(need.resource, need.action)
        resource_policy = (attached.get(holder) or assumed_policy(holder, governed=True)) if holder else None
        request = Request(principal, need.action, need.resource, account, need.context_dict())
        decision = evaluate(request, resource_policy, _identity(roles.get(need.role)))
        verdicts.append(Verdict(need, decision.allowed, decision.statement, decision.policy, decision.reason))
    return verdicts


def unused_grants(needs: list[Need], policies: list[AccountPolicies]) -> list[Unused]:
    """Granted (action, resource) pairs of the derived policies that no step of any pipeline uses."""
    derived = set(POLICY_OF.values())
    found = []
    for role in _roles(policies).values():
        mine = [n for n in needs if n.role == role.arn]
        for name, document in role.inline.items():
            if name not in derived:
                continue  # the workflow's own grants (approving, deploying), not derived from pipelines
            for index, statement in enumerate(statements(document)):
                if statement.get("Effect") != "Allow":
                    continue
                for action in _as_list(statement.get("Action")):
                    for resource in _as_list(statement.get("Resource")):
                        if not any(glob_matches(action, n.action, True) and glob_matches(resource, n.resource) for n in mine):
                            found.append(Unused(role.arn, name, statement.get("Sid") or f"#{index}", action, resource))
    return found


def _as_list(value: object) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]
