"""Least-privilege policies for every account of the topology, scoped to exact ARNs.

What each account needs, from the AWS blog's cross-account workflow:

    shared services  bucket policy: data science writes and reads under the prefix; deployment and
                     workloads read. KMS key policy: the account administers its key; data science
                     encrypts/decrypts; deployment and workloads decrypt (and workloads let SageMaker
                     create grants for the endpoint). Model package group policy: data science
                     creates versions; deployment reads, lists, updates (approves) and creates models
                     from them; workloads describe versions (what creating a model from a package
                     needs). ECR repository policy when custom images are used.
    data science     the SageMaker execution role: read/write the prefix, use the key, register.
    deployment       its role: read the registry, approve, create models; read and decrypt artifacts.
    workloads        the SageMaker role endpoints run as: s3:GetObject on the artifacts,
                     kms:Decrypt on the key.

`render(topology, symbolic=True)` writes account IDs, bucket, prefix and key as
`${Parameter}` placeholders so CloudFormation can substitute them per environment.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sagespec.spec.topology import Topology

VERSION = "2012-10-17"
SAGEMAKER_TRUST = {
    "Version": VERSION,
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}],
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


@dataclass
class AccountPolicies:
    name: str
    account_id: str
    resource_policies: list[ResourcePolicy] = field(default_factory=list)
    roles: list[Role] = field(default_factory=list)


@dataclass
class Names:
    """The values a policy mentions, literal or as CloudFormation ${Parameters}."""

    partition: str
    region: str
    ids: dict[str, str]  # account name -> id
    roles: dict[str, str]  # account name -> role name
    bucket: str
    prefix: str
    key_arn: str
    shared: str

    def root(self, account: str) -> str:
        return f"arn:{self.partition}:iam::{self.ids[account]}:root"

    def role_arn(self, account: str) -> str:
        return f"arn:{self.partition}:iam::{self.ids[account]}:role/{self.roles[account]}"

    @property
    def bucket_arn(self) -> str:
        return f"arn:{self.partition}:s3:::{self.bucket}"

    @property
    def objects_arn(self) -> str:
        return f"arn:{self.partition}:s3:::{self.bucket}/{self.prefix}/*"

    def group_arn(self, group: str) -> str:
        return f"arn:{self.partition}:sagemaker:{self.region}:{self.shared}:model-package-group/{group}"

    def packages_arn(self, group: str) -> str:
        return f"arn:{self.partition}:sagemaker:{self.region}:{self.shared}:model-package/{group}/*"

    def repository_arn(self, repository: str) -> str:
        return f"arn:{self.partition}:ecr:{self.region}:{self.shared}:repository/{repository}"


def cfn_parameter(account: str) -> str:
    return "".join(part.capitalize() for part in account.split("_")) + "AccountId"


def names(topology: Topology, symbolic: bool = False) -> Names:
    accounts = topology.accounts
    ids = {n: (f"${{{cfn_parameter(n)}}}" if symbolic else a.id) for n, a in accounts.items()}
    return Names(
        partition="${AWS::Partition}" if symbolic else topology.partition,
        region="${AWS::Region}" if symbolic else topology.region,
        ids=ids,
        roles={n: a.role for n, a in accounts.items()},
        bucket="${ArtifactBucket}" if symbolic else topology.artifacts["bucket"],
        prefix="${ArtifactPrefix}" if symbolic else topology.artifacts["prefix"],
        key_arn="${ArtifactKeyArn}" if symbolic else topology.artifacts["kms_key"],
        shared=ids["shared_services"],
    )


def _statement(sid: str, actions, resources, principal: list[str] | None = None, condition: dict | None = None) -> dict:
    statement = {"Sid": sid, "Effect": "Allow"}
    if principal is not None:
        statement["Principal"] = {"AWS": principal if len(principal) > 1 else principal[0]}
    statement["Action"] = actions if len(actions) > 1 else actions[0]
    statement["Resource"] = resources if isinstance(resources, str) or len(resources) > 1 else resources[0]
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
# CreateModel acts on a model in the caller's own account (arn:...:model/*), not on the package,
# so it is granted in the deployment role's identity policy, not in the group's resource policy.
DEPLOYMENT_VERSIONS = ["sagemaker:DescribeModelPackage", "sagemaker:ListModelPackages", "sagemaker:UpdateModelPackage"]
WORKLOAD_VERSIONS = ["sagemaker:DescribeModelPackage"]
ECR_PULL = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]


def render(topology: Topology, symbolic: bool = False) -> list[AccountPolicies]:
    n = names(topology, symbolic)
    workloads = [a.name for a in topology.workloads]
    readers = ["deployment", *workloads]
    groups = topology.model_package_groups

    bucket = {
        "Version": VERSION,
        "Statement": [
            _statement("DataScienceWritesArtifacts", S3_WRITE, n.objects_arn, [n.root("data_science")]),
            _statement(
                "DataScienceListsThePrefix",
                ["s3:ListBucket"],
                n.bucket_arn,
                [n.root("data_science")],
                {"StringLike": {"s3:prefix": [f"{n.prefix}/*"]}},
            ),
            _statement("DeploymentAndWorkloadsReadArtifacts", S3_READ, n.objects_arn, [n.root(a) for a in readers]),
        ],
    }
    key = {
        "Version": VERSION,
        "Statement": [
            _statement("KeyAdministration", KMS_ADMIN, "*", [n.root("shared_services")]),
            _statement("DataScienceEncryptsAndDecrypts", KMS_USE, "*", [n.root("data_science")]),
            _statement("DeploymentAndWorkloadsDecrypt", KMS_READ, "*", [n.root(a) for a in readers]),
            _statement(
                "WorkloadEndpointsCreateGrants",
                ["kms:CreateGrant"],
                "*",
                [n.root(a) for a in workloads],
                {"Bool": {"kms:GrantIsForAWSResource": "true"}},
            ),
        ],
    }
    shared = AccountPolicies(
        "shared_services",
        n.shared,
        [
            ResourcePolicy("s3-bucket", n.bucket_arn, bucket),
            ResourcePolicy("kms-key", n.key_arn, key),
        ],
    )
    for group in groups:
        shared.resource_policies.append(
            ResourcePolicy(
                "model-package-group",
                n.group_arn(group),
                {
                    "Version": VERSION,
                    "Statement": [
                        # No self-approval: data science registers versions only as PendingManualApproval
                        # (condition key sagemaker:ModelApprovalStatus of CreateModelPackage, Service
                        # Authorization Reference for Amazon SageMaker); only deployment approves.
                        _statement(
                            "DataScienceRegistersVersions",
                            REGISTER,
                            n.packages_arn(group),
                            [n.root("data_science")],
                            {"StringEquals": {"sagemaker:ModelApprovalStatus": "PendingManualApproval"}},
                        ),
                        _statement(
                            "DeploymentReadsTheGroup", ["sagemaker:DescribeModelPackageGroup"], n.group_arn(group), [n.root("deployment")]
                        ),
                        _statement("DeploymentManagesVersions", DEPLOYMENT_VERSIONS, n.packages_arn(group), [n.root("deployment")]),
                        _statement("WorkloadsDeployVersions", WORKLOAD_VERSIONS, n.packages_arn(group), [n.root(a) for a in workloads]),
                    ],
                },
            )
        )
    for repository in topology.ecr_repositories:
        # Repository policies apply to the repository itself: no Resource element.
        document = {
            "Version": VERSION,
            "Statement": [
                {
                    "Sid": "TrainingAndEndpointsPull",
                    "Effect": "Allow",
                    "Principal": {"AWS": [n.root(a) for a in ["data_science", *workloads]]},
                    "Action": ECR_PULL,
                }
            ],
        }
        shared.resource_policies.append(ResourcePolicy("ecr-repository", n.repository_arn(repository), document))

    registry_versions = [n.packages_arn(g) for g in groups]
    data_science = AccountPolicies(
        "data_science",
        n.ids["data_science"],
        roles=[
            Role(
                n.roles["data_science"],
                n.role_arn("data_science"),
                SAGEMAKER_TRUST,
                {
                    "ArtifactsReadWrite": {
                        "Version": VERSION,
                        "Statement": [
                            _statement("ReadWriteArtifacts", S3_WRITE, n.objects_arn),
                            _statement(
                                "ListThePrefix", ["s3:ListBucket"], n.bucket_arn, condition={"StringLike": {"s3:prefix": [f"{n.prefix}/*"]}}
                            ),
                        ],
                    },
                    "ArtifactKeyUse": {"Version": VERSION, "Statement": [_statement("UseTheArtifactKey", KMS_USE, n.key_arn)]},
                    "RegisterModelVersions": {"Version": VERSION, "Statement": [_statement("Register", REGISTER, registry_versions)]},
                },
            )
        ],
    )
    deployment = AccountPolicies(
        "deployment",
        n.ids["deployment"],
        roles=[
            Role(
                n.roles["deployment"],
                n.role_arn("deployment"),
                SAGEMAKER_TRUST,
                {
                    "RegistryApproveAndDeploy": {
                        "Version": VERSION,
                        "Statement": [
                            _statement("ReadGroups", ["sagemaker:DescribeModelPackageGroup"], [n.group_arn(g) for g in groups]),
                            _statement("ManageVersions", DEPLOYMENT_VERSIONS, registry_versions),
                            _statement(
                                "CreateModelsFromVersions",
                                ["sagemaker:CreateModel"],
                                f"arn:{n.partition}:sagemaker:{n.region}:{n.ids['deployment']}:model/*",
                            ),
                        ],
                    },
                    "ArtifactRead": {"Version": VERSION, "Statement": [_statement("ReadArtifacts", S3_READ, n.objects_arn)]},
                    "ArtifactKeyDecrypt": {"Version": VERSION, "Statement": [_statement("DecryptArtifacts", KMS_READ, n.key_arn)]},
                },
            )
        ],
    )
    result = [shared, data_science, deployment]
    for workload in workloads:
        result.append(
            AccountPolicies(
                workload,
                n.ids[workload],
                roles=[
                    Role(
                        n.roles[workload],
                        n.role_arn(workload),
                        SAGEMAKER_TRUST,
                        {
                            "ModelArtifactRead": {
                                "Version": VERSION,
                                "Statement": [_statement("ReadModelArtifact", ["s3:GetObject"], n.objects_arn)],
                            },
                            "ArtifactKeyDecrypt": {
                                "Version": VERSION,
                                "Statement": [_statement("DecryptModelArtifact", ["kms:Decrypt"], n.key_arn)],
                            },
                            "DeployFromRegistry": {
                                "Version": VERSION,
                                "Statement": [_statement("DescribeVersions", WORKLOAD_VERSIONS, registry_versions)],
                            },
                        },
                    )
                ],
            )
        )
    return result


def policy_files(topology: Topology, output: str = "json") -> dict[str, dict]:
    """What `accounts render` writes, by relative path: one JSON file per policy and role
    (`<account>/<kind>.<resource>.json`, `<account>/role.<name>.json`), or one CloudFormation
    template per account (`<account>.template.json`)."""
    if output == "cloudformation":
        from sagespec.crossaccount import cloudformation

        return {f"{name.replace('_', '-')}.template.json": t for name, t in cloudformation.templates(topology).items()}
    files = {}
    for account in render(topology):
        folder = account.name.replace("_", "-")
        for policy in account.resource_policies:
            files[f"{folder}/{policy.kind}.{policy.resource.rsplit('/', 1)[-1].rsplit(':', 1)[-1]}.json"] = policy.document
        for role in account.roles:
            files[f"{folder}/role.{role.name}.json"] = {
                "RoleName": role.name,
                "Arn": role.arn,
                "AssumeRolePolicyDocument": role.trust,
                "InlinePolicies": role.inline,
            }
    return files
