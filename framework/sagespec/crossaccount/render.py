"""Least-privilege policies for every account of the topology, scoped to exact ARNs.

Resource policies, from the AWS blog's cross-account workflow and the SageMaker guide "Register a
Model Version" (cross-account section):

    artifacts owner  (shared services in the blog, data science in the guide) bucket policy: no
                     request without TLS; data science writes and reads under the prefix; the
                     registry account (guide), deployment and workloads read. KMS key policy: the
                     owner administers its key; data science encrypts and decrypts; the registry
                     account, deployment and workloads decrypt (and workloads let SageMaker create
                     grants for the endpoint). ECR repository policy when custom images are used.
    shared services  model package group policy: data science creates versions only as
                     PendingManualApproval and may never update them; deployment reads, lists and
                     updates (approves); workloads describe versions.

Identity policies: the data-science execution role and the workload endpoint roles get exactly
what the compiled pipelines need (sagespec.permissions, sagespec.crossaccount.roles), or
AmazonSageMakerFullAccess plus the scoped artifact grants when the accounts file says
`access: managed`. The deployment role reads the registry, approves and creates models, and is
assumed by the principals the accounts file names (CI). The shared-services role administers
the registry's groups and their policies.

`render(topology, symbolic=True)` writes account IDs, bucket, prefix and key as
`${Parameter}` placeholders so CloudFormation can substitute them per environment.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sagespec.crossaccount.grants import (
    DEPLOYMENT_VERSIONS,
    ECR_PULL,
    KMS_READ,
    REGISTER,
    REGISTRY_ADMIN_GROUPS,
    REGISTRY_ADMIN_VERSIONS,
    S3_READ,
    VERSION,
    WORKLOAD_VERSIONS,
    Names,
    bucket_policy,
    cfn_parameter,
    group_policy,
    key_policy,
    names,
    statement,
    trust,
)
from sagespec.crossaccount.roles import identity_policies
from sagespec.crossaccount.roles import symbolic as symbolize
from sagespec.spec.topology import Topology

MANAGED_FULL_ACCESS = "arn:{partition}:iam::aws:policy/AmazonSageMakerFullAccess"
SAGEMAKER_TRUST = {
    "Version": VERSION,
    "Statement": [
        {
            "Sid": "SageMakerAssumesTheRole",
            "Effect": "Allow",
            "Principal": {"Service": "sagemaker.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


@dataclass
class ResourcePolicy:
    kind: str  # s3-bucket | kms-key | model-package-group | ecr-repository
    resource: str  # the ARN (or name) the policy is attached to
    document: dict


@dataclass
class Role:
    name: str
    arn: str
    trust: dict
    inline: dict[str, dict]  # policy name -> document
    managed: list[str] = field(default_factory=list)  # attached AWS managed policy ARNs


@dataclass
class AccountPolicies:
    name: str
    account_id: str
    resource_policies: list[ResourcePolicy] = field(default_factory=list)
    roles: list[Role] = field(default_factory=list)


def _not_granted_by(managed_arn: str):
    """A filter of needs: those the managed policy, as an identity policy, does not already allow
    (AmazonSageMakerFullAccess opens S3 and Lambda only for names containing "sagemaker")."""
    from sagespec.iam import Principal, Request, identity_allows
    from sagespec.iam.managed import managed_policy

    document = managed_policy(managed_arn)

    def lacking(need) -> bool:
        principal = Principal(need.account, need.role)
        return not identity_allows(Request(principal, need.action, need.resource, need.account, need.context_dict()), [document])

    return lacking


def _derived(role_arn: str, needs, managed: bool, n: Names, topology: Topology, symbolic: bool) -> dict[str, dict]:
    mine = [need for need in needs if need.role == role_arn]
    only = _not_granted_by(MANAGED_FULL_ACCESS.format(partition=topology.partition)) if managed else None
    policies = identity_policies(mine, only)
    if symbolic:
        literals = [(topology.artifacts["kms_key"], "${ArtifactKeyArn}"), (topology.artifacts["bucket"], "${ArtifactBucket}")]
        literals += [(a.id, f"${{{cfn_parameter(name)}}}") for name, a in topology.accounts.items()]
        policies = {name: symbolize(doc, literals, topology.partition, topology.region) for name, doc in policies.items()}
    return policies


def render(topology: Topology, symbolic: bool = False, needs=()) -> list[AccountPolicies]:
    """Every account's policies. `needs` (sagespec.permissions.Need, from the compiled pipelines)
    decide the data-science and workload roles; without them those roles get the workflow's
    static grants (read/write the prefix, use the key, register; endpoints read and decrypt)."""
    n = names(topology, symbolic)
    workloads = [a.name for a in topology.workloads]
    groups = topology.model_package_groups
    owner = topology.artifacts.get("owner", "shared_services")
    managed = topology.access == "managed"
    full_access = [MANAGED_FULL_ACCESS.format(partition=n.partition)] if managed else []
    accounts = {name: AccountPolicies(name, n.ids[name]) for name in ["shared_services", "data_science", "deployment", *workloads]}

    accounts[owner].resource_policies += [
        ResourcePolicy("s3-bucket", n.bucket_arn, bucket_policy(n, owner, workloads)),
        ResourcePolicy("kms-key", n.key_arn, key_policy(n, owner, workloads)),
    ]
    read_from = {
        group for group in groups for need in needs if need.grant == "ReadBaselines" and f":model-package/{group}/" in need.resource
    }
    for group in groups:
        accounts["shared_services"].resource_policies.append(
            ResourcePolicy("model-package-group", n.group_arn(group), group_policy(n, group, workloads, group in read_from))
        )
    for repository in topology.ecr_repositories:
        # Repository policies apply to the repository itself: no Resource element.
        pullers = [a for a in ["data_science", *workloads] if a != owner]
        document = {
            "Version": VERSION,
            "Statement": [
                {
                    "Sid": "TrainingAndEndpointsPull",
                    "Effect": "Allow",
                    "Principal": {"AWS": [n.root(a) for a in pullers]},
                    "Action": ECR_PULL,
                }
            ],
        }
        accounts[owner].resource_policies.append(ResourcePolicy("ecr-repository", n.repository_arn(repository), document))

    registry_versions = [n.packages_arn(g) for g in groups]
    accounts["shared_services"].roles.append(
        Role(
            n.roles["shared_services"],
            n.role_arn("shared_services"),
            trust([n.root("shared_services")]),
            {
                "RegistryAdministration": {
                    "Version": VERSION,
                    "Statement": [
                        statement("ManageGroupsAndTheirPolicies", REGISTRY_ADMIN_GROUPS, [n.group_arn(g) for g in groups]),
                        statement("ReadAndRetireVersions", REGISTRY_ADMIN_VERSIONS, registry_versions),
                    ],
                }
            },
        )
    )
    ds_arn = n.role_arn("data_science")
    literal_ds = f"arn:{topology.partition}:iam::{topology.accounts['data_science'].id}:role/{topology.accounts['data_science'].role}"
    if needs:
        ds_inline = _derived(literal_ds, needs, managed, n, topology, symbolic)
    else:
        via_s3 = {"StringEquals": {"kms:ViaService": f"s3.{n.region}.amazonaws.com"}}
        ds_inline = {
            "ArtifactsReadWrite": {
                "Version": VERSION,
                "Statement": [
                    statement("ReadWriteArtifacts", ["s3:GetObject", "s3:PutObject"], n.objects_arn),
                    statement("ListThePrefix", ["s3:ListBucket"], n.bucket_arn, condition={"StringLike": {"s3:prefix": [f"{n.prefix}/*"]}}),
                ],
            },
            "ArtifactKeyUse": {
                "Version": VERSION,
                "Statement": [
                    statement("UseTheArtifactKeyThroughS3", ["kms:Decrypt", "kms:GenerateDataKey*"], n.key_arn, condition=via_s3)
                ],
            },
            "RegisterModelVersions": {"Version": VERSION, "Statement": [statement("Register", REGISTER, registry_versions)]},
        }
    accounts["data_science"].roles.append(Role(n.roles["data_science"], ds_arn, SAGEMAKER_TRUST, ds_inline, full_access))

    deployment = topology.accounts["deployment"]
    trusted = [p if p.startswith("arn:") else f"arn:{n.partition}:iam::{p}:root" for p in deployment.assumed_by] or [n.root("deployment")]
    accounts["deployment"].roles.append(
        Role(
            n.roles["deployment"],
            n.role_arn("deployment"),
            trust(trusted),
            {
                "RegistryApproveAndDeploy": {
                    "Version": VERSION,
                    "Statement": [
                        statement("ReadGroups", ["sagemaker:DescribeModelPackageGroup"], [n.group_arn(g) for g in groups]),
                        statement("ManageVersions", DEPLOYMENT_VERSIONS, registry_versions),
                        statement(
                            "CreateModelsFromVersions",
                            ["sagemaker:CreateModel"],
                            f"arn:{n.partition}:sagemaker:{n.region}:{n.ids['deployment']}:model/*",
                        ),
                    ],
                },
                "ArtifactRead": {"Version": VERSION, "Statement": [statement("ReadArtifacts", S3_READ, n.objects_arn)]},
                "ArtifactKeyDecrypt": {"Version": VERSION, "Statement": [statement("DecryptArtifacts", KMS_READ, n.key_arn)]},
            },
        )
    )
    for workload in workloads:
        account = topology.accounts[workload]
        literal = f"arn:{topology.partition}:iam::{account.id}:role/{account.role}"
        if needs:
            inline = _derived(literal, needs, managed, n, topology, symbolic)
        else:
            inline = {
                "ModelArtifactRead": {"Version": VERSION, "Statement": [statement("ReadModelArtifact", ["s3:GetObject"], n.objects_arn)]},
                "ArtifactKeyDecrypt": {
                    "Version": VERSION,
                    "Statement": [
                        statement(
                            "DecryptModelArtifact",
                            ["kms:Decrypt"],
                            n.key_arn,
                            condition={"StringEquals": {"kms:ViaService": f"s3.{n.region}.amazonaws.com"}},
                        )
                    ],
                },
            }
        inline["DeployFromRegistry"] = {
            "Version": VERSION,
            "Statement": [statement("DescribeVersions", WORKLOAD_VERSIONS, registry_versions)],
        }
        accounts[workload].roles.append(Role(n.roles[workload], n.role_arn(workload), SAGEMAKER_TRUST, inline, full_access))
    _scheduler_roles(accounts, needs, n, topology, symbolic)
    return list(accounts.values())


def _scheduler_roles(accounts: dict, needs, n: Names, topology: Topology, symbolic: bool) -> None:
    """The role EventBridge Scheduler assumes to start the scheduled pipelines of an account:
    trusted by scheduler.amazonaws.com for schedules of that account only (aws:SourceAccount, as
    "Set up the execution role" in the EventBridge Scheduler User Guide advises against the confused
    deputy), allowed sagemaker:StartPipelineExecution on those pipelines and nothing else."""
    from sagespec.pipelines.schedules import SCHEDULER_ROLE

    scheduled = [need for need in needs if need.caller == "scheduler"]
    for name in accounts:
        account = topology.accounts.get(name)
        literal = f"arn:{topology.partition}:iam::{account.id}:role/{SCHEDULER_ROLE}" if account else None
        if not literal or not any(need.role == literal for need in scheduled):
            continue
        trust = {
            "Version": VERSION,
            "Statement": [
                {
                    "Sid": "AssumedByEventBridgeScheduler",
                    "Effect": "Allow",
                    "Principal": {"Service": "scheduler.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": n.ids[name]}},
                }
            ],
        }
        inline = _derived(literal, scheduled, False, n, topology, symbolic)
        accounts[name].roles.append(Role(SCHEDULER_ROLE, f"arn:{n.partition}:iam::{n.ids[name]}:role/{SCHEDULER_ROLE}", trust, inline))


def policy_files(topology: Topology, output: str = "json", needs=()) -> dict[str, dict]:
    """What `accounts render` writes, by relative path: one JSON file per policy and role
    (`<account>/<kind>.<resource>.json`, `<account>/role.<name>.json`), or one CloudFormation
    template per account (`<account>.template.json`)."""
    if output == "cloudformation":
        from sagespec.crossaccount import cloudformation

        return {f"{name.replace('_', '-')}.template.json": t for name, t in cloudformation.templates(topology, needs).items()}
    files = {}
    for account in render(topology, needs=needs):
        folder = account.name.replace("_", "-")
        for policy in account.resource_policies:
            files[f"{folder}/{policy.kind}.{policy.resource.rsplit('/', 1)[-1].rsplit(':', 1)[-1]}.json"] = policy.document
        for role in account.roles:
            files[f"{folder}/role.{role.name}.json"] = {
                "RoleName": role.name,
                "Arn": role.arn,
                "AssumeRolePolicyDocument": role.trust,
                "InlinePolicies": role.inline,
                **({"ManagedPolicyArns": role.managed} if role.managed else {}),
            }
    return files


def read_policy_files(policies: list[AccountPolicies], folder, root=None) -> list[AccountPolicies]:
    """The rendered policies with each document replaced by the file `accounts render -o DIR` wrote
    for it (edited or not); a file that is gone removes that policy, as deleting it in AWS would.
    Files are read as the project's files are: regular files of bounded size, no link out of it."""
    import copy
    import json
    from pathlib import Path

    from sagespec.diagnostics import UserError
    from sagespec.spec.files import UnsafePath, read_bytes

    folder = Path(folder)
    if not folder.is_dir():
        raise UserError("E0001", f"no policy folder at {folder}", hint="write one with `sagespec accounts render -o DIR`", exit_code=2)

    def load(relative: str):
        path = folder / relative
        if not path.exists():
            return None
        try:
            return json.loads(read_bytes(path, root, str(path)))
        except UnsafePath as refused:
            raise UserError(refused.code, refused.message, exit_code=2) from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise UserError("E6018", f"{path} is not a JSON policy document: {exc}", exit_code=2) from None

    edited = copy.deepcopy(policies)
    for account in edited:
        prefix = account.name.replace("_", "-")
        kept = []
        for policy in account.resource_policies:
            document = load(f"{prefix}/{policy.kind}.{policy.resource.rsplit('/', 1)[-1].rsplit(':', 1)[-1]}.json")
            if document is not None:
                kept.append(ResourcePolicy(policy.kind, policy.resource, document))
        account.resource_policies = kept
        for role in account.roles:
            described = load(f"{prefix}/role.{role.name}.json")
            if not isinstance(described, dict):
                role.inline, role.managed, role.trust = {}, [], {"Version": VERSION, "Statement": []}
                continue
            role.trust = described.get("AssumeRolePolicyDocument") or {"Version": VERSION, "Statement": []}
            role.inline = described.get("InlinePolicies") or {}
            role.managed = list(described.get("ManagedPolicyArns") or [])
    return edited
