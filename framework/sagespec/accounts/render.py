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
what the compiled pipelines need (sagespec.accounts.needs, sagespec.accounts.roles), or
AmazonSageMakerFullAccess plus the scoped artifact grants when the accounts file says
`access: managed`. The deployment role reads the registry, approves and creates models, and is
assumed by the principals the accounts file names (CI). The shared-services role administers
the registry's groups and their policies.

`render(topology, symbolic=True)` writes account IDs, bucket, prefix and key as
`${Parameter}` placeholders so CloudFormation can substitute them per environment.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sagespec.accounts.grants import (
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
from sagespec.accounts.roles import identity_policies
from sagespec.accounts.roles import symbolic as symbolize
from sagespec.aws import arns, partitions
from sagespec.aws.partitions import Partition
from sagespec.iam import Principal, Request, identity_allows
from sagespec.iam.managed import managed_policy
from sagespec.spec.topology import Topology

if TYPE_CHECKING:
    from sagespec.accounts.needs import Need

SCHEDULER_ROLE = "sagespec-scheduler"


def managed_full_access(aws: Partition) -> str:
    """AmazonSageMakerFullAccess, an AWS managed policy (account `aws` in its ARN)."""
    return aws.arn("iam", "", "aws", "policy/AmazonSageMakerFullAccess")


def sagemaker_trust(aws: Partition) -> dict[str, Any]:
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "SageMakerAssumesTheRole",
                "Effect": "Allow",
                "Principal": {"Service": aws.service_principal("sagemaker")},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def scheduler_role_arn(pipeline_role_arn: str, account: str | None = None) -> str:
    """The accounts file's scheduler role in `account` (default: the pipeline role's account)."""
    parsed = arns.parse(pipeline_role_arn)
    if parsed is None:
        raise ValueError(f"{pipeline_role_arn} is not a role ARN")
    return partitions.partition(parsed.partition).role(account or parsed.account, SCHEDULER_ROLE)


@dataclass
class ResourcePolicy:
    kind: str  # s3-bucket | kms-key | model-package-group | ecr-repository
    resource: str  # the ARN (or name) the policy is attached to
    document: dict[str, Any]


@dataclass
class Role:
    name: str
    arn: str
    trust: dict[str, Any]
    inline: dict[str, dict[str, Any]]  # policy name -> document
    managed: list[str] = field(default_factory=list)  # attached AWS managed policy ARNs

    def __post_init__(self) -> None:
        # A statement over nothing (no model package groups in the accounts file) is left out, and a
        # policy left with no statement too: IAM refuses both as malformed.
        for name, document in list(self.inline.items()):
            document["Statement"] = [s for s in document["Statement"] if s.get("Resource") != []]
            if not document["Statement"]:
                del self.inline[name]


@dataclass
class AccountPolicies:
    name: str
    account_id: str
    resource_policies: list[ResourcePolicy] = field(default_factory=list)
    roles: list[Role] = field(default_factory=list)


def _not_granted_by(managed_arn: str) -> Callable[[Need], bool]:
    """A filter of needs: those the managed policy, as an identity policy, does not already allow
    (AmazonSageMakerFullAccess opens S3 and Lambda only for names containing "sagemaker")."""

    document = managed_policy(managed_arn)

    def lacking(need: Need) -> bool:
        principal = Principal(need.account, need.role)
        return not identity_allows(Request(principal, need.action, need.resource, need.account, need.context_dict()), [document])

    return lacking


def _derived(
    role_arn: str, needs: Sequence[Need], managed: bool, n: Names, topology: Topology, symbolic: bool
) -> dict[str, dict[str, Any]]:
    mine = [need for need in needs if need.role == role_arn]
    only = _not_granted_by(managed_full_access(topology.aws)) if managed else None
    policies = identity_policies(mine, only)
    if symbolic:
        literals = [(topology.artifacts["kms_key"], "${ArtifactKeyArn}"), (topology.artifacts["bucket"], "${ArtifactBucket}")]
        literals += [(a.id, f"${{{cfn_parameter(name)}}}") for name, a in topology.accounts.items()]
        policies = {name: symbolize(doc, literals, topology.aws, topology.region or "") for name, doc in policies.items()}
    return policies


def render(topology: Topology, symbolic: bool = False, needs: Sequence[Need] = ()) -> list[AccountPolicies]:
    """Every account's policies. `needs` (sagespec.accounts.needs.Need, from the compiled pipelines)
    decide the data-science and workload roles; without them those roles get the workflow's
    static grants (read/write the prefix, use the key, register; endpoints read and decrypt)."""
    n = names(topology, symbolic)
    workloads = [a.name for a in topology.workloads]
    groups = topology.model_package_groups
    owner = topology.artifacts.get("owner", "shared_services")
    managed = topology.access == "managed"
    full_access = [managed_full_access(n.aws)] if managed else []
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
    literal_ds = topology.accounts["data_science"].principal.arn
    if needs:
        ds_inline = _derived(literal_ds, needs, managed, n, topology, symbolic)
    else:
        via_s3 = n.via("s3")
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
    accounts["data_science"].roles.append(Role(n.roles["data_science"], ds_arn, sagemaker_trust(n.aws), ds_inline, full_access))

    deployment = topology.accounts["deployment"]
    trusted = [p if p.startswith("arn:") else n.aws.root(p) for p in deployment.assumed_by] or [n.root("deployment")]
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
                            n.aws.sagemaker(n.region, n.ids["deployment"], "model/*"),
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
        literal = account.principal.arn
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
                            condition=n.via("s3"),
                        )
                    ],
                },
            }
        inline["DeployFromRegistry"] = {
            "Version": VERSION,
            "Statement": [statement("DescribeVersions", WORKLOAD_VERSIONS, registry_versions)],
        }
        accounts[workload].roles.append(Role(n.roles[workload], n.role_arn(workload), sagemaker_trust(n.aws), inline, full_access))
    _scheduler_roles(accounts, needs, n, topology, symbolic)
    return list(accounts.values())


def _scheduler_roles(accounts: dict[str, AccountPolicies], needs: Sequence[Need], n: Names, topology: Topology, symbolic: bool) -> None:
    """The role EventBridge Scheduler assumes to start the scheduled pipelines of an account:
    trusted by scheduler.amazonaws.com for schedules of that account only (aws:SourceAccount, as
    "Set up the execution role" in the EventBridge Scheduler User Guide advises against the confused
    deputy), allowed sagemaker:StartPipelineExecution on those pipelines and nothing else."""
    scheduled = [need for need in needs if need.caller == "scheduler"]
    for name in accounts:
        account = topology.accounts.get(name)
        literal = topology.aws.role(account.id, SCHEDULER_ROLE) if account else None
        if not literal or not any(need.role == literal for need in scheduled):
            continue
        trust = {
            "Version": VERSION,
            "Statement": [
                {
                    "Sid": "AssumedByEventBridgeScheduler",
                    "Effect": "Allow",
                    "Principal": {"Service": n.aws.service_principal("scheduler")},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": n.ids[name]}},
                }
            ],
        }
        inline = _derived(literal, scheduled, False, n, topology, symbolic)
        accounts[name].roles.append(Role(SCHEDULER_ROLE, n.aws.role(n.ids[name], SCHEDULER_ROLE), trust, inline))
