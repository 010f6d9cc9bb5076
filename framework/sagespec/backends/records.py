"""What the backends return, the same on every target: model package groups and versions,
approval history, lineage, deployments, upserts and execution events; and the statuses and keys
SageMaker names them by.

Names and shapes follow SageMaker's: ModelPackageGroup, ModelPackage versions with ARNs
`arn:<partition>:sagemaker:<region>:<account>:model-package/<group>/<n>`, ModelApprovalStatus
PendingManualApproval / Approved / Rejected, ApprovalDescription, ModelMetrics,
InferenceSpecification, CustomerMetadataProperties; an execution is described with the same
keys on both targets (EXECUTION_KEYS, STEP_KEYS, LISTED_KEYS).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from sagespec.diagnostics import UserError

STATUSES = ("PendingManualApproval", "Approved", "Rejected")
STATE_CHANGE = "SageMaker Model Package State Change"
TERMINAL = ("Succeeded", "Failed", "Stopped")

# The keys of an execution, one of its steps, and a listed execution, on either target (what
# `--output json` prints; a key one target cannot know is null there).
EXECUTION_KEYS = (
    "arn",
    "pipeline",
    "definition_version",
    "status",
    "parameters",
    "failure_reason",
    "retry_of",
    "started_at",
    "ended_at",
    "runner_pid",
    "max_parallel_steps",
    "selective_source",
    "selected_steps",
    "steps",
    "outbox",
    "callbacks",
)
STEP_KEYS = (
    "execution",
    "name",
    "type",
    "status",
    "properties",
    "cache_key",
    "cached_from",
    "failure_reason",
    "log_path",
    "started_at",
    "ended_at",
    "attempt_count",
)
LISTED_KEYS = ("arn", "pipeline", "status", "started_at", "ended_at", "failure_reason")


@dataclass
class StepEvent:
    """A step's status changed (or, while it runs, its metrics): what a progress view shows."""

    step: str
    status: str  # Executing | Succeeded | Failed | NotStarted; on SageMaker also Starting | Stopping | Stopped
    detail: str = ""
    seconds: float | None = None  # how long the step took, when the backend knows it (SageMaker's StartTime..EndTime)


@dataclass
class UpsertResult:
    action: str  # created | updated (SageMaker); stored | unchanged (local definition versions)
    arn: str
    uploaded: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    version: int | None = None  # the local definition version
    functions: list[str] = field(default_factory=list)  # "<FunctionArn>: created | code updated | configuration updated | unchanged"


@dataclass(frozen=True)
class ModelPackageGroup:
    name: str
    arn: str
    account: str
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    created_at: str | None = None
    created_by: str | None = None


@dataclass(frozen=True)
class ModelPackage:
    arn: str
    group_name: str
    group_arn: str
    version: int
    status: str
    inference_specification: dict[str, Any]
    approval_description: str | None = None
    description: str | None = None
    model_metrics: dict[str, Any] | None = None
    customer_metadata: dict[str, str] = field(default_factory=dict)
    drift_check_baselines: dict[str, Any] | None = None  # DriftCheckBaselines: what its quality checks checked against
    stage: str | None = None
    stage_status: str | None = None
    created_at: str | None = None
    created_by_account: str | None = None
    created_by: str | None = None
    last_modified_at: str | None = None
    last_modified_by: str | None = None

    def to_dict(self) -> dict[str, Any]:
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
    detail: dict[str, Any] = field(default_factory=dict)


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
    variants: list[dict[str, Any]] = field(default_factory=list)  # [{"name": "v3", "version": 3, "weight": 0.9}, ...]
    previous_version: int | None = None
    outcome: str = "Succeeded"  # Succeeded | Passed | Failed
    detail: dict[str, Any] = field(default_factory=dict)
    by: str = ""
    reason: str | None = None
    at: str = ""
    id: int | None = None


class NotFound(UserError):
    def __init__(self, what: str):
        super().__init__("E6005", f"{what} does not exist")


def check_status(status: str) -> str:
    if status not in STATUSES:
        raise UserError("E6007", f"'{status}' is not a ModelApprovalStatus", hint="one of: " + ", ".join(STATUSES), exit_code=2)
    return status


def step_summary(properties: dict[str, Any]) -> str:
    """What a finished step shows beside its name: what it made, and its metrics."""
    if "TransformOutput" in properties:  # a transform names its model too; what it wrote says more
        written: str = properties["TransformOutput"]["S3OutputPath"]
        return written
    if "BestTrainingJob" in properties:
        metric = properties["BestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]
        return f"best {properties['BestTrainingJob']['TrainingJobName']} ({metric['MetricName']} {metric['Value']:g})"
    if "CalculatedBaselineStatistics" in properties:  # a quality check
        if "ViolationReport" in properties:
            count = properties["ViolationCount"]
            return f"{count} violation{'' if count == 1 else 's'} of {properties['BaselineUsedForDriftCheckConstraints']}"
        return f"baseline {properties['CalculatedBaselineStatistics'].rsplit('/', 1)[0]}"
    if properties.get("OutputParameters"):  # a callback's answer (a Lambda step's outputs stay "queued")
        return ", ".join(f"{k}={v}" for k, v in properties["OutputParameters"].items())
    for key in ("ModelPackageArn", "ModelName"):
        if key in properties:
            made: str = properties[key]
            return made
    if "ModelArtifacts" in properties:
        metrics = ", ".join(f"{m['MetricName']} {m['Value']:g}" for m in properties.get("FinalMetricDataList") or [])
        artifacts: str = properties["ModelArtifacts"]["S3ModelArtifacts"]
        return artifacts + (f" ({metrics})" if metrics else "")
    return ""
