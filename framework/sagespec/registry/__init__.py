"""The model registry: one interface, two implementations (local SQLite, SageMaker via boto3).

Names and shapes follow SageMaker's: ModelPackageGroup, ModelPackage versions with ARNs
`arn:aws:sagemaker:<region>:<account>:model-package/<group>/<n>`, ModelApprovalStatus
PendingManualApproval / Approved / Rejected, ApprovalDescription, ModelMetrics,
InferenceSpecification, CustomerMetadataProperties.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Protocol

from sagespec.diagnostics import UserError
from sagespec.iam import AccessDenied  # noqa: F401  (re-exported: registry callers catch it here)

STATUSES = ("PendingManualApproval", "Approved", "Rejected")
STATE_CHANGE = "SageMaker Model Package State Change"


@dataclass(frozen=True)
class ModelPackageGroup:
    name: str
    arn: str
    account: str
    description: str | None = None
    tags: dict = field(default_factory=dict)
    created_at: str | None = None
    created_by: str | None = None


@dataclass(frozen=True)
class ModelPackage:
    arn: str
    group_name: str
    group_arn: str
    version: int
    status: str
    inference_specification: dict
    approval_description: str | None = None
    description: str | None = None
    model_metrics: dict | None = None
    customer_metadata: dict = field(default_factory=dict)
    drift_check_baselines: dict | None = None  # DriftCheckBaselines: what its quality checks checked against
    stage: str | None = None
    stage_status: str | None = None
    created_at: str | None = None
    created_by_account: str | None = None
    created_by: str | None = None
    last_modified_at: str | None = None
    last_modified_by: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ApprovalChange:
    from_status: str | None
    to_status: str
    reason: str | None
    by_account: str
    by: str
    at: str


@dataclass(frozen=True)
class LineageEntry:
    kind: str  # dataset | code | execution | training_job | model | metrics | endpoint
    uri: str | None = None
    sha256: str | None = None
    detail: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Deployment:
    """One promotion step: a version deployed, canaried, finalized, rolled back or tested at a stage."""

    group_arn: str
    stage: str  # qa | prod
    action: str  # deploy | canary | finalize | rollback | qa-test
    version: int
    package_arn: str
    account: str  # the workload account hosting the endpoint
    endpoint: str
    endpoint_config: str | None = None
    variants: list = field(default_factory=list)  # [{"name": "v3", "version": 3, "weight": 0.9}, ...]
    previous_version: int | None = None
    outcome: str = "Succeeded"  # Succeeded | Passed | Failed
    detail: dict = field(default_factory=dict)
    by: str = ""
    reason: str | None = None
    at: str = ""
    id: int | None = None


class NotFound(UserError):
    def __init__(self, what: str):
        super().__init__("E6005", f"{what} does not exist")


class Registry(Protocol):
    def create_group(self, name: str, description: str | None = None, tags: dict | None = None) -> ModelPackageGroup: ...
    def list_groups(self) -> list[ModelPackageGroup]: ...
    def describe_group(self, group: str) -> ModelPackageGroup: ...
    def register(
        self,
        group: str,
        inference_specification: dict,
        approval_status: str = "PendingManualApproval",
        model_metrics: dict | None = None,
        customer_metadata: dict | None = None,
        description: str | None = None,
        lineage: list[LineageEntry] | None = None,
        drift_check_baselines: dict | None = None,
    ) -> ModelPackage: ...
    def list_packages(self, group: str, status: str | None = None, latest: bool = False) -> list[ModelPackage]: ...
    def describe(self, arn: str) -> ModelPackage: ...
    def update_status(self, arn: str, status: str, reason: str | None = None) -> ModelPackage: ...
    def history(self, arn: str) -> list[ApprovalChange]: ...
    def lineage(self, arn: str) -> list[LineageEntry]: ...
    def get_policy(self, group: str) -> dict | None: ...
    def put_policy(self, group: str, policy: dict) -> None: ...
    def set_stage(self, arn: str, stage: str, status: str, description: str | None = None) -> ModelPackage: ...
    def record_deployment(self, deployment: Deployment) -> Deployment: ...
    def deployments(self, group: str, stage: str | None = None) -> list[Deployment]: ...


def check_status(status: str) -> str:
    if status not in STATUSES:
        raise UserError("E6007", f"'{status}' is not a ModelApprovalStatus", hint="one of: " + ", ".join(STATUSES), exit_code=2)
    return status


def package_arn(group_arn: str, version: int) -> str:
    """The ARN of `version` in the model package group `group_arn`."""
    return group_arn.replace(":model-package-group/", ":model-package/", 1) + f"/{version}"


def package_arn_parts(arn: str) -> tuple[str, str, str, str, int]:
    """(partition, region, account, group, version) of a model package ARN."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or not parts[5].startswith("model-package/") or parts[5].count("/") != 2:
        raise UserError(
            "E6017",
            f"'{arn}' is not a model package ARN",
            hint="arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>",
            exit_code=2,
        )
    _, group, version = parts[5].split("/")
    if not version.isdigit():
        raise UserError("E6017", f"'{arn}' does not end in a version number", exit_code=2)
    return parts[1], parts[3], parts[4], group, int(version)


# The TensorFlow Serving CPU image the California housing model was trained for: AWS Deep
# Learning Containers, account 763104351884 in the commercial regions ("Available Deep Learning
# Containers Images", aws/deep-learning-containers).
DEFAULT_INFERENCE_IMAGE = "763104351884.dkr.ecr.{region}.amazonaws.com/tensorflow-inference:2.13-cpu"


@dataclass(frozen=True)
class Registration:
    """What `models register` sends: CreateModelPackage's InferenceSpecification and ModelMetrics."""

    inference_specification: dict
    model_metrics: dict | None
    lineage: list[LineageEntry]


def registration(model_data: str, image: str | None, content_types, response_types, metrics_uri: str | None, region: str) -> Registration:
    """A version registered by hand: one container serving `model_data`, optional model-quality metrics."""
    spec = {
        "Containers": [{"Image": image or DEFAULT_INFERENCE_IMAGE.format(region=region), "ModelDataUrl": model_data}],
        "SupportedContentTypes": list(content_types),
        "SupportedResponseMIMETypes": list(response_types),
    }
    metrics = {"ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": metrics_uri}}} if metrics_uri else None
    lineage = [LineageEntry("model", model_data)] + ([LineageEntry("metrics", metrics_uri)] if metrics_uri else [])
    return Registration(spec, metrics, lineage)
