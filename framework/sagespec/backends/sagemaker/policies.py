"""The rendered policies against what each AWS account has: read with boto3, compared as JSON,
written only where they differ. Inline role policies the topology does not render are removed
(they would grant more than the workflow needs)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

import botocore.exceptions

from sagespec.accounts.changes import Change, change, deletion
from sagespec.accounts.render import AccountPolicies, render
from sagespec.aws.sessions import aws_errors
from sagespec.spec.topology import Account, Topology

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_sagemaker import SageMakerClient

    from sagespec.accounts.needs import Need

T = TypeVar("T")


def _missing(exc: botocore.exceptions.ClientError) -> bool:
    code = exc.response.get("Error", {}).get("Code", "")
    return code in (
        "NoSuchBucketPolicy",
        "NoSuchEntity",
        "RepositoryPolicyNotFoundException",
        "NotFoundException",
        "ResourceNotFound",
    ) or any(p in str(exc).lower() for p in ("does not have", "not found", "does not exist"))


def _read(call: Callable[..., T], **kwargs: Any) -> T | None:
    try:
        return call(**kwargs)
    except botocore.exceptions.ClientError as exc:
        if _missing(exc):
            return None
        raise


def plan_account(policies: AccountPolicies, session: boto3.Session) -> list[Change]:
    changes: list[Change] = []
    name = policies.name
    current: Mapping[str, Any] | None  # what a Get*Policy answered (None: no policy)
    for policy in policies.resource_policies:
        doc = json.dumps(policy.document, sort_keys=True)
        if policy.kind == "s3-bucket":
            s3, bucket = session.client("s3"), policy.resource.split(":::", 1)[1]
            current = _read(s3.get_bucket_policy, Bucket=bucket)
            changes.append(
                change(
                    name,
                    f"s3 bucket policy of {bucket}",
                    current and current["Policy"],
                    policy.document,
                    partial(s3.put_bucket_policy, Bucket=bucket, Policy=doc),
                )
            )
        elif policy.kind == "kms-key":
            kms = session.client("kms")
            current = _read(kms.get_key_policy, KeyId=policy.resource, PolicyName="default")
            changes.append(
                change(
                    name,
                    f"kms key policy of {policy.resource}",
                    current and current["Policy"],
                    policy.document,
                    partial(kms.put_key_policy, KeyId=policy.resource, PolicyName="default", Policy=doc),
                )
            )
        elif policy.kind == "model-package-group":
            sm, group = session.client("sagemaker"), policy.resource.rsplit("/", 1)[1]
            exists = _read(sm.describe_model_package_group, ModelPackageGroupName=group) is not None
            current = _read(sm.get_model_package_group_policy, ModelPackageGroupName=group) if exists else None

            def write(sm: SageMakerClient = sm, group: str = group, doc: str = doc, exists: bool = exists) -> None:
                if not exists:
                    sm.create_model_package_group(ModelPackageGroupName=group)
                sm.put_model_package_group_policy(ModelPackageGroupName=group, ResourcePolicy=doc)

            changes.append(
                change(
                    name,
                    f"model package group policy of {group}" + ("" if exists else " (and the group)"),
                    current and current["ResourcePolicy"],
                    policy.document,
                    write,
                )
            )
        elif policy.kind == "ecr-repository":
            ecr, repository = session.client("ecr"), policy.resource.split("repository/", 1)[1]
            current = _read(ecr.get_repository_policy, repositoryName=repository)
            changes.append(
                change(
                    name,
                    f"ecr repository policy of {repository}",
                    current and current["policyText"],
                    policy.document,
                    partial(ecr.set_repository_policy, repositoryName=repository, policyText=doc),
                )
            )
    if not policies.roles:
        return changes
    iam = session.client("iam")
    for role in policies.roles:
        found = _read(iam.get_role, RoleName=role.name)
        trust = json.dumps(role.trust, sort_keys=True)
        if found is None:
            changes.append(
                change(
                    name,
                    f"role {role.name}",
                    None,
                    role.trust,
                    partial(iam.create_role, RoleName=role.name, AssumeRolePolicyDocument=trust),
                )
            )
            existing: list[str] = []
        else:
            changes.append(
                change(
                    name,
                    f"trust policy of role {role.name}",
                    found["Role"]["AssumeRolePolicyDocument"],
                    role.trust,
                    partial(iam.update_assume_role_policy, RoleName=role.name, PolicyDocument=trust),
                )
            )
            existing = iam.list_role_policies(RoleName=role.name)["PolicyNames"]
        for policy_name, document in role.inline.items():
            current = _read(iam.get_role_policy, RoleName=role.name, PolicyName=policy_name) if policy_name in existing else None
            changes.append(
                change(
                    name,
                    f"inline policy {policy_name} of role {role.name}",
                    current and current["PolicyDocument"],
                    document,
                    partial(
                        iam.put_role_policy, RoleName=role.name, PolicyName=policy_name, PolicyDocument=json.dumps(document, sort_keys=True)
                    ),
                )
            )
        attached = (
            [] if found is None else [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role.name)["AttachedPolicies"]]
        )
        for arn in role.managed:
            if arn not in attached:
                changes.append(
                    Change(
                        name,
                        f"managed policy {arn} on role {role.name}",
                        "create",
                        f"+ {arn}",
                        partial(iam.attach_role_policy, RoleName=role.name, PolicyArn=arn),
                    )
                )
        for stale in sorted(set(existing) - set(role.inline)):
            current = _read(iam.get_role_policy, RoleName=role.name, PolicyName=stale)
            changes.append(
                deletion(
                    name,
                    f"inline policy {stale} of role {role.name} (not rendered: grants more than the workflow needs)",
                    current and current["PolicyDocument"],
                    partial(iam.delete_role_policy, RoleName=role.name, PolicyName=stale),
                )
            )
    return changes


def plan(topology: Topology, session_for: Callable[[Account], boto3.Session], needs: Sequence[Need] = ()) -> list[Change]:
    """Every rendered policy against the accounts in AWS (`session_for(account)` reaches each)."""
    changes: list[Change] = []
    for policies in render(topology, needs=needs):
        account = topology.accounts[policies.name]
        with aws_errors(f"reading the policies of the {policies.name.replace('_', '-')} account ({account.id})"):
            changes += plan_account(policies, session_for(account))
    for account in topology.accounts.values():
        if account.model_package_groups:
            with aws_errors(f"reading the model package groups of the {account.name.replace('_', '-')} account ({account.id})"):
                changes += own_groups(account, session_for(account))
    return changes


def own_groups(account: Account, session: boto3.Session) -> list[Change]:
    """The groups an account owns itself (accounts.<name>.model_package_groups): created when missing."""
    sm = session.client("sagemaker")
    found: list[Change] = []
    for name in account.model_package_groups:
        exists = _read(sm.describe_model_package_group, ModelPackageGroupName=name) is not None
        write = None if exists else partial(sm.create_model_package_group, ModelPackageGroupName=name)
        found.append(
            Change(account.name, f"model package group {name}", "unchanged" if exists else "create", "" if exists else f"+ {name}", write)
        )
    return found


class SageMakerPolicyAdmin:
    """The AWS accounts as the place policies live (backends.protocols.PolicyAdmin)."""

    def __init__(self, session_for: Callable[[Account], boto3.Session]):
        self.session_for = session_for

    def plan(self, topology: Topology, needs: Sequence[Need] = ()) -> list[Change]:
        return plan(topology, self.session_for, needs)

    def execute(self, changes: list[Change]) -> None:
        for planned in changes:
            if planned.changes and planned.write is not None:
                with aws_errors(f"applying {planned.what} in the {planned.account.replace('_', '-')} account"):
                    planned.write()
