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

from sagespec.iam import AccessDenied, Decision, Principal, Request, evaluate, partition_of
from sagespec.local.policies import governed, identity_policies, owner_of, read_policy

UNGOVERNED = (
    "ungoverned control plane (no identity policies stored)",
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
)


def role_arn_of(principal: Principal) -> str:
    """The role an assumed-role session belongs to (identity policies are attached to the role)."""
    arn = principal.arn
    if ":assumed-role/" in arn:
        prefix, _, rest = arn.partition(":assumed-role/")
        parts = prefix.split(":")
        return f"arn:{parts[1]}:iam::{parts[4]}:role/{rest.split('/', 1)[0]}"
    return arn


def policy_holder(resource: str, action: str) -> str | None:
    """The ARN under which the resource's own policy is stored, or None for resources without one."""
    parts = resource.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    service, rest = parts[2], parts[5]
    if service == "s3":
        return f"arn:{parts[1]}:s3:::{rest.split('/', 1)[0]}"
    if service == "sagemaker" and rest.startswith("model-package/") and rest.count("/") == 2:
        group = rest.split("/")[1]
        return f"{':'.join(parts[:5])}:model-package-group/{group}"
    if service == "sagemaker" and rest.startswith("model-package-group/"):
        return resource
    if service in ("kms", "ecr"):
        return resource
    if service == "iam" and rest.startswith("role/") and action.lower().startswith("sts:assumerole"):
        return resource
    return None


def default_key_policy(key_arn: str) -> dict:
    """The key policy AWS gives a key created without one ("Default key policy", AWS KMS guide):
    the account's root, so IAM policies of the account decide. Keys sagespec does not manage
    (a team's own key) are taken to have it."""
    account = key_arn.split(":")[4]
    partition = partition_of(key_arn) or "aws"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Enable IAM User Permissions",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }


# AWS's own image repositories (Deep Learning Containers, built-in algorithms) let every account
# pull ("Docker Registry Paths and Example Code"); a repository without a stored policy is taken as one.
PUBLIC_IMAGES = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "AwsImagesArePullable",
            "Effect": "Allow",
            "Principal": "*",
            "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
        }
    ],
}


# Every SageMaker execution role trusts SageMaker; an ungoverned control plane stores no roles.
SAGEMAKER_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def assumed_policy(holder: str, governed: bool) -> dict | None:
    """The policy AWS would have on a resource sagespec stored none for."""
    if ":kms:" in holder:
        return default_key_policy(holder)
    if ":ecr:" in holder:
        return PUBLIC_IMAGES
    if ":iam::" in holder and not governed:
        return SAGEMAKER_TRUST
    return None


class LocalAccess:
    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def _identities(self, principal: Principal, governed: bool) -> list[tuple[str, dict]]:
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

    def decide(self, principal: Principal, action: str, resource: str, context: dict | None = None) -> tuple[Request, Decision]:
        holder = policy_holder(resource, action)
        is_governed = governed(self.conn)  # one read per decision: identity and assumed policies agree
        request = Request(principal, action, resource, self._resource_account(resource, holder, principal), dict(context or {}))
        resource_policy = (read_policy(self.conn, holder) or assumed_policy(holder, is_governed)) if holder else None
        return request, evaluate(request, resource_policy, self._identities(principal, is_governed))

    def require(self, principal: Principal, action: str, resource: str, context: dict | None = None, hint: str | None = None) -> Decision:
        request, decision = self.decide(principal, action, resource, context)
        if not decision.allowed:
            raise AccessDenied(request, decision, hint)
        return decision
