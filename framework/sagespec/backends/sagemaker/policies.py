"""The rendered policies against what each AWS account has: read with boto3, compared as JSON,
written only where they differ. Inline role policies the topology does not render are removed
(they would grant more than the workflow needs)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import botocore.exceptions

from sagespec.accounts.changes import Change, change, deletion
from sagespec.accounts.render import AccountPolicies, render
from sagespec.aws.sessions import aws_errors
from sagespec.spec.topology import Account, Topology

if TYPE_CHECKING:
    import boto3

    from sagespec.accounts.needs import Need


def _missing(exc) -> bool:
    code = exc.response.get("Error", {}).get("Code", "")
    return code in (
        "NoSuchBucketPolicy",
        "NoSuchEntity",
        "RepositoryPolicyNotFoundException",
        "NotFoundException",
        "ResourceNotFound",
    ) or any(p in str(exc).lower() for p in ("does not have", "not found", "does not exist"))


def _read(call, **kwargs):
    try:
        return call(**kwargs)
    except botocore.exceptions.ClientError as exc:
        if _missing(exc):
            return None
        raise


def plan_account(policies: AccountPolicies, session) -> list[Change]:
    changes: list[Change] = []
    name = policies.name
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
                    lambda s3=s3, bucket=bucket, doc=doc: s3.put_bucket_policy(Bucket=bucket, Policy=doc),
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
                    lambda kms=kms, key=policy.resource, doc=doc: kms.put_key_policy(KeyId=key, PolicyName="default", Policy=doc),
                )
            )
        elif policy.kind == "model-package-group":
            sm, group = session.client("sagemaker"), policy.resource.rsplit("/", 1)[1]
            exists = _read(sm.describe_model_package_group, ModelPackageGroupName=group) is not None
            current = _read(sm.get_model_package_group_policy, ModelPackageGroupName=group) if exists else None

            def write(sm=sm, group=group, doc=doc, exists=exists):
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
                    lambda ecr=ecr, r=repository, doc=doc: ecr.set_repository_policy(repositoryName=r, policyText=doc),
                )
            )
    iam = session.client("iam") if policies.roles else None
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
                    lambda r=role.name, t=trust: iam.create_role(RoleName=r, AssumeRolePolicyDocument=t),
                )
            )
            existing = []
        else:
            changes.append(
                change(
                    name,
                    f"trust policy of role {role.name}",
                    found["Role"]["AssumeRolePolicyDocument"],
                    role.trust,
                    lambda r=role.name, t=trust: iam.update_assume_role_policy(RoleName=r, PolicyDocument=t),
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
                    lambda r=role.name, p=policy_name, d=json.dumps(document, sort_keys=True): iam.put_role_policy(
                        RoleName=r, PolicyName=p, PolicyDocument=d
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
                        lambda r=role.name, a=arn: iam.attach_role_policy(RoleName=r, PolicyArn=a),
                    )
                )
        for stale in sorted(set(existing) - set(role.inline)):
            current = _read(iam.get_role_policy, RoleName=role.name, PolicyName=stale)
            changes.append(
                deletion(
                    name,
                    f"inline policy {stale} of role {role.name} (not rendered: grants more than the workflow needs)",
                    current and current["PolicyDocument"],
                    lambda r=role.name, p=stale: iam.delete_role_policy(RoleName=r, PolicyName=p),
                )
            )
    return changes


def plan(topology: Topology, session_for, needs=()) -> list[Change]:
    """Every rendered policy against the accounts in AWS (`session_for(account)` reaches each)."""
    changes = []
    for policies in render(topology, needs=needs):
        account = topology.accounts[policies.name]
        with aws_errors(f"reading the policies of the {policies.name.replace('_', '-')} account ({account.id})"):
            changes += plan_account(policies, session_for(account))
    for account in topology.accounts.values():
        if account.model_package_groups:
            with aws_errors(f"reading the model package groups of the {account.name.replace('_', '-')} account ({account.id})"):
                changes += own_groups(account, session_for(account))
    return changes


def own_groups(account, session) -> list[Change]:
    """The groups an account owns itself (accounts.<name>.model_package_groups): created when missing."""
    sm, found = session.client("sagemaker"), []
    for name in account.model_package_groups:
        exists = _read(sm.describe_model_package_group, ModelPackageGroupName=name) is not None
        write = None if exists else (lambda sm=sm, name=name: sm.create_model_package_group(ModelPackageGroupName=name))
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
