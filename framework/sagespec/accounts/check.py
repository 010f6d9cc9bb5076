"""The access matrix: every step of the workflow must be allowed, nothing else across accounts.

Each cell asks the IAM evaluator (sagespec.iam, the same one the local registry uses) whether an
actor (the role of an account) may do an action on a resource, given the rendered resource policy
and the actor's rendered identity policies. Required cells must be allowed. Forbidden cells,
every other action of a catalogue of sensitive and neighbouring actions, tried by every other
account and by an outsider, must be denied.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sagespec.accounts.grants import BASELINE_READS, BASELINE_SID
from sagespec.accounts.render import AccountPolicies, ResourcePolicy, render
from sagespec.iam import Principal, Request, evaluate, identity_allows
from sagespec.iam.managed import managed_policy
from sagespec.spec.topology import Topology

OUTSIDER = "999999999999"

# Actions a workflow step performs, per resource kind, and the neighbours that must stay closed.
CATALOGUE = {
    "s3-object": ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject", "s3:PutObjectAcl"],
    "kms-key": [
        "kms:Decrypt",
        "kms:Encrypt",
        "kms:GenerateDataKey",
        "kms:DescribeKey",
        "kms:ScheduleKeyDeletion",
        "kms:PutKeyPolicy",
        "kms:DisableKey",
    ],
    "model-package-group": [
        "sagemaker:DescribeModelPackageGroup",
        "sagemaker:DeleteModelPackageGroup",
        "sagemaker:PutModelPackageGroupPolicy",
    ],
    "model-package": [
        "sagemaker:CreateModelPackage",
        "sagemaker:DescribeModelPackage",
        "sagemaker:ListModelPackages",
        "sagemaker:UpdateModelPackage",
        "sagemaker:DeleteModelPackage",
    ],
}
# Requests that differ by a condition key the rendered policies test: CreateModelPackage as
# PendingManualApproval (what data science needs) and as Approved (self-approval, denied to all).
VARIANTS = {
    "sagemaker:CreateModelPackage": (
        {"sagemaker:ModelApprovalStatus": "PendingManualApproval"},
        {"sagemaker:ModelApprovalStatus": "Approved"},
    )
}
REQUIRED = {
    "data_science": {
        "s3-object": {"s3:GetObject", "s3:PutObject"},
        "kms-key": {"kms:Decrypt", "kms:GenerateDataKey"},
        "model-package": {"sagemaker:CreateModelPackage"},
    },
    "deployment": {
        "s3-object": {"s3:GetObject", "s3:GetObjectVersion"},
        "kms-key": {"kms:Decrypt", "kms:DescribeKey"},
        "model-package-group": {"sagemaker:DescribeModelPackageGroup"},
        "model-package": {"sagemaker:DescribeModelPackage", "sagemaker:ListModelPackages", "sagemaker:UpdateModelPackage"},
    },
    "workload": {"s3-object": {"s3:GetObject"}, "kms-key": {"kms:Decrypt"}, "model-package": {"sagemaker:DescribeModelPackage"}},
    # The guide's topology: the registry account reads and decrypts what it registers.
    "registry": {"s3-object": {"s3:GetObject"}, "kms-key": {"kms:Decrypt", "kms:GenerateDataKey"}},
}


@dataclass(frozen=True)
class Cell:
    actor: str
    action: str
    resource: str
    expected: bool
    allowed: bool
    reason: str
    context: str = ""  # the condition keys of the request, e.g. "ModelApprovalStatus=Approved"
    accepted: str = ""  # why an allowed cell that is not required is accepted (access: managed)

    @property
    def ok(self) -> bool:
        return self.expected == self.allowed or bool(self.accepted)


def _resources(topology: Topology, policies: list[AccountPolicies]) -> list[tuple[str, str, dict[str, Any]]]:
    """(kind, resource ARN as a request names it, resource policy) for every checked resource."""
    by_kind: dict[str, list[ResourcePolicy]] = {}
    for account in policies:
        for policy in account.resource_policies:
            by_kind.setdefault(policy.kind, []).append(policy)
    bucket = by_kind["s3-bucket"][0]
    out = [
        ("s3-object", f"{bucket.resource}/{topology.artifacts['prefix']}/model/output/model.tar.gz", bucket.document),
        ("kms-key", by_kind["kms-key"][0].resource, by_kind["kms-key"][0].document),
    ]
    for group in by_kind.get("model-package-group", []):
        out.append(("model-package-group", group.resource, group.document))
        out.append(("model-package", group.resource.replace("model-package-group/", "model-package/") + "/1", group.document))
    return out


def _required(required: dict[str, set[str]], kind: str, actor: str, resource_policy: dict[str, Any]) -> set[str]:
    """What the workflow needs of the resource: data science also reads a group's versions when a
    pipeline's quality check takes its previous baseline from it (the group policy says so)."""

    found = set(required.get(kind, set()))
    if kind == "model-package" and actor == "data_science" and any(s.get("Sid") == BASELINE_SID for s in resource_policy["Statement"]):
        found |= set(BASELINE_READS)
    return found


def matrix(topology: Topology, policies: list[AccountPolicies] | None = None) -> list[Cell]:
    policies = policies if policies is not None else render(topology)

    identity = {p.name: [doc for role in p.roles for doc in [*role.inline.values(), *map(managed_policy, role.managed)]] for p in policies}
    managed = {p.name: [managed_policy(arn) for role in p.roles for arn in role.managed] for p in policies}
    owners = {"s3-object": topology.artifacts_owner.id, "kms-key": topology.artifacts_owner.id}
    shared_id = topology.accounts["shared_services"].id
    # Artifact requests reach the key through S3 (SSE-KMS), as the jobs and endpoints make them.
    via_s3 = {"kms:ViaService": topology.aws.endpoint_host("s3", topology.region or "")}
    actors: list[tuple[str, Principal, dict[str, set[str]]]] = []
    for account in topology.accounts.values():
        if account.name == "shared_services":
            if topology.artifacts_owner.name != "shared_services":
                # Its resource grants are what the guide asks for; as the account (root) its identity side allows.
                actors.append((account.name, Principal(account.id, topology.aws.root(account.id)), REQUIRED["registry"]))
            continue
        role = "workload" if account.workload else account.name
        actors.append((account.name, account.principal, REQUIRED.get(role, {})))
    actors.append(("outsider", Principal(OUTSIDER, topology.aws.root(OUTSIDER)), {}))
    cells = []
    for kind, resource, resource_policy in _resources(topology, policies):
        owner = owners.get(kind, shared_id)
        for name, principal, required in actors:
            if principal.account == owner:
                continue  # the resource's own account: its access is its administrators', not the workflow's
            for action in CATALOGUE[kind]:
                for context in VARIANTS.get(action, ({},)):
                    extra = via_s3 if kind == "kms-key" else {}
                    request = Request(principal, action, resource, owner, {**context, **extra})
                    # The outsider is an account's root user: its own identity side allows anything.
                    decision = evaluate(request, resource_policy, identity.get(name))
                    approving = context.get("sagemaker:ModelApprovalStatus") == "Approved"
                    expected = action in _required(required, kind, name, resource_policy) and not approving
                    label = ", ".join(f"{k.split(':', 1)[1]}={v}" for k, v in context.items())
                    accepted = ""
                    if decision.allowed and not expected and managed.get(name):
                        # The trade-off `access: managed` chose (README): the managed policy grants it.
                        accepted = (
                            "granted by AmazonSageMakerFullAccess (access: managed)" if identity_allows(request, managed[name]) else ""
                        )
                    cells.append(Cell(name, action, resource, expected, decision.allowed, decision.reason, label, accepted))
    return cells
