"""Access decisions of the local control plane, made as AWS makes them, for every caller.

Each request is decided by sagespec.iam with the caller's identity policies and the policy
attached to the resource (bucket policy for an object, key policy for a key, the group's
policy for a model package, the trust policy for AssumeRole), as `accounts apply --target
local` stored them. A denial is AWS's AccessDenied text, naming action, resource and the
deciding statement.

A control plane where no identity policy was ever stored (a project without an accounts file)
is ungoverned: there is no IAM to enforce, so each principal acts as an administrator of its own
account, and a call into another account still needs that resource's policy. As soon as
identity policies are stored (by `accounts apply --target local`, or the first local run of a
project with an accounts file) every caller is decided strictly: a role with no policies,
made up or forgotten, may do nothing.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from sagespec.backends.local.policies import governed, identity_policies, owner_of, read_policy
from sagespec.iam import AccessDenied, Decision, Principal, Request, evaluate
from sagespec.iam.resources import assumed_policy, policy_holder, role_arn_of

UNGOVERNED: tuple[str, dict[str, Any]] = (
    "ungoverned control plane (no identity policies stored)",
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
)


class LocalAccess:
    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def _identities(self, principal: Principal, governed: bool) -> list[tuple[str, dict[str, Any]]]:
        if principal.is_root or principal.is_service:
            return []
        if not governed:
            return [UNGOVERNED]
        return identity_policies(self.conn, role_arn_of(principal))

    def _resource_account(self, resource: str, holder: str | None, caller: Principal) -> str:
        parts = resource.split(":")
        if len(parts) > 4 and parts[4]:
            return parts[4]
        owner = owner_of(self.conn, holder) if holder else None
        return owner or caller.account  # a bucket without a stored policy: taken as the caller's own

    def decide(self, principal: Principal, action: str, resource: str, context: dict[str, Any] | None = None) -> tuple[Request, Decision]:
        holder = policy_holder(resource, action)
        is_governed = governed(self.conn)  # one read per decision: identity and assumed policies agree
        request = Request(principal, action, resource, self._resource_account(resource, holder, principal), dict(context or {}))
        resource_policy = (read_policy(self.conn, holder) or assumed_policy(holder, is_governed)) if holder else None
        return request, evaluate(request, resource_policy, self._identities(principal, is_governed))

    def require(
        self, principal: Principal, action: str, resource: str, context: dict[str, Any] | None = None, hint: str | None = None
    ) -> Decision:
        request, decision = self.decide(principal, action, resource, context)
        if not decision.allowed:
            raise AccessDenied(request, decision, hint)
        return decision
