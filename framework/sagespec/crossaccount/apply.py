"""Apply the rendered policies with boto3, in each account, showing what changes before changing it.

Idempotent: each policy is read back first and compared as JSON; only differences are written.
Inline role policies that the topology does not render are removed (they would grant more than
the workflow needs). `--target local` writes the same policies into the local control plane, so
local runs are checked against exactly what AWS would enforce.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass

from sagespec.aws import aws_errors
from sagespec.crossaccount.render import AccountPolicies, render
from sagespec.spec.topology import Topology


@dataclass
class Change:
    account: str
    what: str  # e.g. "s3 bucket policy of sagespec-shared-artifacts-222222222222"
    action: str  # create | update | delete | unchanged
    diff: str
    write: object = None  # callable doing the change

    @property
    def changes(self) -> bool:
        return self.action != "unchanged"


def _text(document) -> list[str]:
    return json.dumps(document, indent=2, sort_keys=True).splitlines() if document is not None else []


def _change(account: str, what: str, current, wanted, write) -> Change:
    if current is not None and _normal(current) == _normal(wanted):
        return Change(account, what, "unchanged", "")
    diff = "\n".join(difflib.unified_diff(_text(current), _text(wanted), "current", "rendered", lineterm="", n=2))
    return Change(account, what, "create" if current is None else "update", diff, write)


def _normal(document):
    if isinstance(document, str):
        document = json.loads(document)
    return json.loads(json.dumps(document, sort_keys=True))


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
    import botocore.exceptions

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
                _change(
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
                _change(
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
                _change(
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
                _change(
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
                _change(
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
                _change(
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
                _change(
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
                Change(
                    name,
                    f"inline policy {stale} of role {role.name} (not rendered: grants more than the workflow needs)",
                    "delete",
                    "\n".join(f"-{line}" for line in _text(current and current["PolicyDocument"])),
                    lambda r=role.name, p=stale: iam.delete_role_policy(RoleName=r, PolicyName=p),
                )
            )
    return changes


def plan(topology: Topology, session_for, needs=()) -> list[Change]:
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


def execute(changes: list[Change]) -> None:
    for change in changes:
        if change.changes:
            with aws_errors(f"applying {change.what} in the {change.account.replace('_', '-')} account"):
                change.write()


def plan_local(topology: Topology, workspace, needs=()) -> list[Change]:
    """What writing the rendered policies into the local control plane changes: resource policies
    (with the account owning each resource), role trust policies, inline and managed identity
    policies; identity policies the topology no longer renders are deleted, as in AWS. Groups
    are created by their account's administrator where a policy names one that does not exist."""
    from sagespec.iam import Principal
    from sagespec.iam.managed import managed_policy
    from sagespec.local.database import connect
    from sagespec.local.policies import IDENTITY, delete_policy, identity_policies, read_policy, write_policy
    from sagespec.local.registry import LocalRegistry
    from sagespec.promotion.deployer import local_deployer
    from sagespec.registry import NotFound

    conn = connect(workspace)
    owner = LocalRegistry(
        conn, Principal.root(topology.accounts["shared_services"].id, topology.partition), topology.region, topology.partition
    )

    def write(resource: str, document: dict, account: str) -> None:
        if ":model-package-group/" in resource:
            try:
                owner.describe_group(resource)
            except NotFound:
                owner.create_group(resource.rsplit("/", 1)[1])
        write_policy(conn, resource, document, "sagespec accounts apply", account)

    changes = []
    for account in topology.accounts.values():
        own = LocalRegistry(conn, Principal.root(account.id, topology.partition), topology.region, topology.partition)
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
                        lambda own=own, name=name: own.create_group(name),
                    )
                )

    def role_documents(account: str, arn: str, trust: dict, inline: dict, managed: list) -> list[tuple[str, dict]]:
        documents = [(arn, trust)]
        documents += [(f"{arn}{IDENTITY}{name}", doc) for name, doc in inline.items()]
        documents += [(f"{arn}{IDENTITY}{managed_arn}", managed_policy(managed_arn)) for managed_arn in managed]
        rendered = set(inline) | set(managed)
        for stale, document in identity_policies(conn, arn):
            if stale not in rendered:
                changes.append(
                    Change(
                        account,
                        f"policy {stale} of {arn} (not rendered: grants more than the workflow needs)",
                        "delete",
                        "\n".join(f"-{line}" for line in _text(document)),
                        lambda r=f"{arn}{IDENTITY}{stale}": delete_policy(conn, r),
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
                _change(
                    name,
                    f"policy of {resource}",
                    read_policy(conn, resource),
                    document,
                    lambda r=resource, d=document, a=account_id: write(r, d, a),
                )
            )
    return changes


def plan_changes(project, assume_role_name: str | None = None) -> list[Change]:
    """Every rendered policy against where the project's target keeps policies: the accounts in
    AWS (through each account's session), or the local control plane. `execute` writes them."""
    from sagespec.crossaccount.pipelines import pipeline_needs

    topology = project.topology(validate=True)
    needs = pipeline_needs(project)
    if project.target == "local":
        return plan_local(topology, project.workspace, needs)
    return plan(topology, project.session_for(assume_role_name), needs)


def apply_local(topology: Topology, workspace, needs=()) -> list[Change]:
    """Write the rendered policies into the local control plane; every change, made or not."""
    changes = plan_local(topology, workspace, needs)
    execute(changes)
    return changes
