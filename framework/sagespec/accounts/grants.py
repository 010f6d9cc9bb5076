"""The vocabulary of the rendered policies: the topology's resource names (literal or as
CloudFormation ${Parameters}), the statement builder, the action groups each account is granted,
and the resource policies (bucket, key, model package group) built from them.

Sources: the AWS blog's cross-account workflow, the SageMaker guide "Register a Model Version"
(cross-account section), "Security best practices for Amazon S3" (TLS only) and the KMS guide's
key administrator statement.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sagespec.aws.partitions import Partition
from sagespec.aws.s3 import tls_only_statement
from sagespec.spec.topology import Topology

VERSION = "2012-10-17"
# A partition as CloudFormation names it: the template works in whichever partition it is deployed.
SYMBOLIC_PARTITION = Partition("${AWS::Partition}", "${AWS::URLSuffix}")


@dataclass
class Names:
    """The values a policy mentions, literal or as CloudFormation ${Parameters}."""

    aws: Partition  # the topology's, or SYMBOLIC_PARTITION
    region: str
    ids: dict[str, str]  # account name -> id
    roles: dict[str, str]  # account name -> role name
    bucket: str
    prefix: str
    key_arn: str
    shared: str
    owner: str  # the account ID holding bucket, key and repositories

    @property
    def partition(self) -> str:
        return self.aws.name

    def root(self, account: str) -> str:
        return self.aws.root(self.ids[account])

    def role_arn(self, account: str) -> str:
        return self.aws.role(self.ids[account], self.roles[account])

    @property
    def bucket_arn(self) -> str:
        return self.aws.bucket(self.bucket)

    @property
    def objects_arn(self) -> str:
        return self.aws.bucket(self.bucket, f"{self.prefix}/*")

    def group_arn(self, group: str) -> str:
        return self.aws.sagemaker(self.region, self.shared, f"model-package-group/{group}")

    def packages_arn(self, group: str) -> str:
        return self.aws.sagemaker(self.region, self.shared, f"model-package/{group}/*")

    def repository_arn(self, repository: str) -> str:
        return self.aws.arn("ecr", self.region, self.owner, f"repository/{repository}")

    def via(self, service: str) -> dict[str, dict[str, str]]:
        """The condition that a key is used only through `service` in the region (kms:ViaService)."""
        return {"StringEquals": {"kms:ViaService": self.aws.endpoint_host(service, self.region)}}


def cfn_parameter(account: str) -> str:
    return "".join(part.capitalize() for part in account.split("_")) + "AccountId"


def names(topology: Topology, symbolic: bool = False) -> Names:
    accounts = topology.accounts
    ids = {n: (f"${{{cfn_parameter(n)}}}" if symbolic else a.id) for n, a in accounts.items()}
    return Names(
        aws=SYMBOLIC_PARTITION if symbolic else topology.aws,
        region="${AWS::Region}" if symbolic else topology.region or "",
        ids=ids,
        roles={n: a.role for n, a in accounts.items()},
        bucket="${ArtifactBucket}" if symbolic else topology.artifacts["bucket"],
        prefix="${ArtifactPrefix}" if symbolic else topology.artifacts["prefix"],
        key_arn="${ArtifactKeyArn}" if symbolic else topology.artifacts["kms_key"],
        shared=ids["shared_services"],
        owner=ids[topology.artifacts.get("owner", "shared_services")],
    )


def statement(
    sid: str, actions: list[str], resources: str | list[str], principal: list[str] | None = None, condition: dict[str, Any] | None = None
) -> dict[str, Any]:
    statement: dict[str, Any] = {"Sid": sid, "Effect": "Allow"}
    if principal is not None:
        statement["Principal"] = {"AWS": principal if len(principal) > 1 else principal[0]}
    statement["Action"] = actions if len(actions) > 1 else actions[0]
    # An empty list (an accounts file with no model package groups) stays empty: the Role drops
    # such a statement, since IAM refuses a statement without a resource (MalformedPolicyDocument).
    statement["Resource"] = resources if isinstance(resources, str) or len(resources) != 1 else resources[0]
    if condition:
        statement["Condition"] = condition
    return statement


S3_WRITE = ["s3:PutObject", "s3:GetObject", "s3:GetObjectVersion"]
S3_READ = ["s3:GetObject", "s3:GetObjectVersion"]
KMS_USE = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]
KMS_READ = ["kms:Decrypt", "kms:DescribeKey"]
# Key administrators manage the key but cannot use it (AWS's "key administrators" statement).
# Only actions that act on a key (aliases, key creation and key stores are not key-level).
KMS_ADMIN = [
    "kms:DescribeKey",
    "kms:EnableKey",
    "kms:DisableKey",
    "kms:EnableKeyRotation",
    "kms:DisableKeyRotation",
    "kms:GetKeyRotationStatus",
    "kms:GetKeyPolicy",
    "kms:PutKeyPolicy",
    "kms:ListKeyPolicies",
    "kms:ListGrants",
    "kms:RevokeGrant",
    "kms:ListResourceTags",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateKeyDescription",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
]
REGISTER = ["sagemaker:CreateModelPackage"]
BASELINE_READS = ["sagemaker:DescribeModelPackage", "sagemaker:ListModelPackages"]
BASELINE_SID = "DataScienceReadsBaselines"
# CreateModel acts on a model in the caller's own account (arn:...:model/*), not on the package,
# so it is granted in the deployment role's identity policy, not in the group's resource policy.
DEPLOYMENT_VERSIONS = ["sagemaker:DescribeModelPackage", "sagemaker:ListModelPackages", "sagemaker:UpdateModelPackage"]
WORKLOAD_VERSIONS = ["sagemaker:DescribeModelPackage"]
ECR_PULL = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]


# The registry account reads what it registers (guide, "Register a Model Version": GetObject,
# GetBucketAcl, GetObjectAcl on the bucket; Decrypt and GenerateDataKey* on the key).
REGISTRY_OBJECT_READ = ["s3:GetObject", "s3:GetObjectAcl"]
REGISTRY_KEY_USE = ["kms:Decrypt", "kms:GenerateDataKey*"]
REGISTRY_ADMIN_GROUPS = [
    "sagemaker:CreateModelPackageGroup",
    "sagemaker:DescribeModelPackageGroup",
    "sagemaker:DeleteModelPackageGroup",
    "sagemaker:GetModelPackageGroupPolicy",
    "sagemaker:PutModelPackageGroupPolicy",
    "sagemaker:DeleteModelPackageGroupPolicy",
]
REGISTRY_ADMIN_VERSIONS = ["sagemaker:DescribeModelPackage", "sagemaker:ListModelPackages", "sagemaker:DeleteModelPackage"]


def trust(principals: list[str]) -> dict[str, Any]:
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "AssumedBy",
                "Effect": "Allow",
                "Principal": {"AWS": principals if len(principals) > 1 else principals[0]},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def tls_only(n: Names) -> dict[str, Any]:
    return tls_only_statement(n.bucket_arn)


def bucket_policy(n: Names, owner: str, workloads: list[str]) -> dict[str, Any]:
    readers = ["deployment", *workloads]
    statements = [tls_only(n)]
    if owner != "data_science":
        statements += [
            statement("DataScienceWritesArtifacts", S3_WRITE, n.objects_arn, [n.root("data_science")]),
            statement(
                "DataScienceListsThePrefix",
                ["s3:ListBucket"],
                n.bucket_arn,
                [n.root("data_science")],
                {"StringLike": {"s3:prefix": [f"{n.prefix}/*"]}},
            ),
        ]
    else:
        statements += [
            statement("RegistryReadsArtifacts", REGISTRY_OBJECT_READ, n.objects_arn, [n.root("shared_services")]),
            statement("RegistryReadsTheBucketAcl", ["s3:GetBucketAcl"], n.bucket_arn, [n.root("shared_services")]),
        ]
    statements.append(statement("DeploymentAndWorkloadsReadArtifacts", S3_READ, n.objects_arn, [n.root(a) for a in readers]))
    return {"Version": VERSION, "Statement": statements}


def key_policy(n: Names, owner: str, workloads: list[str]) -> dict[str, Any]:
    readers = ["deployment", *workloads]
    statements = [statement("KeyAdministration", KMS_ADMIN, "*", [n.root(owner)])]
    statements.append(statement("DataScienceEncryptsAndDecrypts", KMS_USE, "*", [n.root("data_science")]))
    if owner == "data_science":
        statements.append(statement("RegistryUsesTheKey", REGISTRY_KEY_USE, "*", [n.root("shared_services")]))
    statements.append(statement("DeploymentAndWorkloadsDecrypt", KMS_READ, "*", [n.root(a) for a in readers]))
    statements.append(
        statement(
            "WorkloadEndpointsCreateGrants",
            ["kms:CreateGrant"],
            "*",
            [n.root(a) for a in workloads],
            {"Bool": {"kms:GrantIsForAWSResource": "true"}},
        )
    )
    return {"Version": VERSION, "Statement": statements}


def group_policy(n: Names, group: str, workloads: list[str], baseline_reads: bool = False) -> dict[str, Any]:
    """The group's resource policy; `baseline_reads` when a pipeline's quality check reads the
    previous baseline from it (only then: every grant is one a step uses)."""
    reads = [statement(BASELINE_SID, BASELINE_READS, n.packages_arn(group), [n.root("data_science")])] if baseline_reads else []
    return {
        "Version": VERSION,
        "Statement": [
            # No self-approval: data science registers versions only as PendingManualApproval
            # (condition key sagemaker:ModelApprovalStatus of CreateModelPackage, Service
            # Authorization Reference for Amazon SageMaker) and may never update them.
            statement(
                "DataScienceRegistersVersions",
                REGISTER,
                n.packages_arn(group),
                [n.root("data_science")],
                {"StringEquals": {"sagemaker:ModelApprovalStatus": "PendingManualApproval"}},
            ),
            {
                **statement("DataScienceNeverApproves", ["sagemaker:UpdateModelPackage"], n.packages_arn(group), [n.root("data_science")]),
                "Effect": "Deny",
            },
            # A pipeline's quality check reads the previous baseline: the latest approved
            # version's DriftCheckBaselines (ListModelPackages, then DescribeModelPackage).
            *reads,
            statement("DeploymentReadsTheGroup", ["sagemaker:DescribeModelPackageGroup"], n.group_arn(group), [n.root("deployment")]),
            statement("DeploymentManagesVersions", DEPLOYMENT_VERSIONS, n.packages_arn(group), [n.root("deployment")]),
            statement("WorkloadsDeployVersions", WORKLOAD_VERSIONS, n.packages_arn(group), [n.root(a) for a in workloads]),
        ],
    }
