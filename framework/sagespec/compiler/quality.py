"""`kind: quality_check`: a QualityCheckStep (Model Monitor's analyzer as a processing job) that
computes a data or model quality baseline and checks it against the previous one; and what a
register_model step records of such checks (ModelMetrics and DriftCheckBaselines, as the SDK's
"Baseline calculation, drift detection and lifecycle" example registers them). SDK v3 keeps the
same classes under sagemaker.mlops.workflow and sagemaker.core.model_monitor: one builder serves both.
"""

from __future__ import annotations

from typing import Any

from sagespec.compiler.build import BuildContext, builder
from sagespec.compiler.sdk import SdkObject
from sagespec.compiler.transform import execution_output_path
from sagespec.spec.checks.quality import filled_slots

CHECK_CONFIGS = {"data_quality": "DataQualityCheckConfig", "model_quality": "ModelQualityCheckConfig"}


def _dataset_format(ctx: BuildContext, declared: dict[str, Any] | None) -> SdkObject:
    DatasetFormat = ctx.cls("DatasetFormat")
    declared = declared or {"csv": {"header": True}}
    if "json" in declared:
        return DatasetFormat.json(lines=declared["json"].get("lines", True))
    csv = declared.get("csv", {})
    return DatasetFormat.csv(
        header=csv.get("header", True),
        **({"output_columns_position": csv["output_columns_position"]} if "output_columns_position" in csv else {}),
    )


def check_step_arguments(ctx: BuildContext, step: dict[str, Any]) -> dict[str, Any]:
    """What a QualityCheckStep and a ClarifyCheckStep take alike: the job that runs the analyzer
    (CheckJobConfig), the baseline lifecycle switches, a supplied baseline or the group whose
    latest approved version has one, and the step's common settings."""
    arguments: dict[str, Any] = dict(
        check_job_config=check_job_config(ctx, step),
        skip_check=ctx.expr.value(step.get("skip_check", False)),
        register_new_baseline=ctx.expr.value(step.get("register_new_baseline", False)),
        fail_on_violation=ctx.expr.value(step.get("fail_on_violation", True)),
    )
    for key in ("supplied_baseline_statistics", "supplied_baseline_constraints"):  # a Clarify check has constraints only
        if step.get(key):
            arguments[key] = ctx.expr.value(step[key])
    if step.get("model_package_group"):
        arguments["model_package_group_name"] = ctx.expr.value(step["model_package_group"])
    return arguments | ctx.common(step, cacheable=True)


def check_job_config(ctx: BuildContext, step: dict[str, Any]) -> SdkObject:
    """The CheckJobConfig of a quality or Clarify check: the processing job that runs the analyzer."""
    return ctx.cls("CheckJobConfig")(
        role=ctx.role,
        instance_count=ctx.expr.value(step.get("instance_count", 1)),
        instance_type=ctx.expr.value(step["instance_type"]),
        volume_size_in_gb=step.get("volume_size_gb", 30),
        volume_kms_key=step.get("volume_kms_key"),
        output_kms_key=step.get("output_kms_key") or ctx.spec["session"].get("kms_key"),
        max_runtime_in_seconds=step.get("max_runtime_seconds"),
        base_job_name=step.get("base_job_name"),
        sagemaker_session=ctx.session,
    )


@builder("quality_check", ("v2", "v3"))
def quality_check(ctx: BuildContext, step: dict[str, Any]) -> SdkObject:
    sdk = ctx.cls("quality_check_step")
    common = {
        "baseline_dataset": ctx.expr.value(step["dataset"]),
        "dataset_format": _dataset_format(ctx, step.get("dataset_format")),
        "output_s3_uri": execution_output_path(ctx, step),
    }
    if step["check"] == "model_quality":
        for key in (
            "problem_type",
            "inference_attribute",
            "probability_attribute",
            "ground_truth_attribute",
            "probability_threshold_attribute",
        ):
            if step.get(key) is not None:
                common[key] = ctx.expr.value(step[key])
    config = getattr(sdk, CHECK_CONFIGS[step["check"]])(**common)
    return sdk.QualityCheckStep(step["name"], quality_check_config=config, **check_step_arguments(ctx, step))


# The SDK's ModelMetrics and DriftCheckBaselines arguments (sagemaker.model_metrics,
# sagemaker.drift_check_baselines), as the spec's model_metrics and drift_check_baselines keys
# name them. The two *_config_file slots are FileSources, every other slot a MetricsSource.
METRICS_SLOTS = (
    "model_statistics",
    "model_constraints",
    "model_data_statistics",
    "model_data_constraints",
    "bias",
    "explainability",
    "bias_pre_training",
    "bias_post_training",
)
DRIFT_SLOTS = (
    "model_statistics",
    "model_constraints",
    "model_data_statistics",
    "model_data_constraints",
    "bias_pre_training_constraints",
    "bias_post_training_constraints",
    "explainability_constraints",
    "bias_config_file",
    "explainability_config_file",
)
FILE_SLOTS = ("bias_config_file", "explainability_config_file")


def _measured(slot: str) -> str:
    return "Statistics" if slot.endswith("statistics") else "Constraints"


def registered_checks(ctx: BuildContext, step: dict[str, Any]) -> dict[str, SdkObject | None]:
    """ModelMetrics and DriftCheckBaselines for `register`: what the spec's model_metrics and
    drift_check_baselines name, and each of its quality_checks' calculated baseline as the
    version's metrics and the baseline it checked against (with a Clarify check's monitoring
    analysis config) as its drift check baseline."""
    MetricsSource, FileSource = ctx.cls("MetricsSource"), ctx.cls("FileSource")
    ModelMetrics, DriftCheckBaselines = ctx.cls("ModelMetrics"), ctx.cls("DriftCheckBaselines")

    def source(declared: Any, slot: str, default_type: str | None = "application/json") -> SdkObject:
        if not isinstance(declared, dict):
            declared = {"s3_uri": declared}
        if slot in FILE_SLOTS:
            return FileSource(
                s3_uri=ctx.expr.value(declared["s3_uri"]),
                content_type=declared.get("content_type"),
                content_digest=declared.get("content_digest"),
            )
        return MetricsSource(
            s3_uri=ctx.expr.value(declared["s3_uri"]),
            content_type=declared.get("content_type", default_type),
            content_digest=declared.get("content_digest"),
        )

    declared_metrics = dict(step.get("model_metrics") or {})
    statistics_type = declared_metrics.pop("content_type", "application/json")
    metrics = {
        slot: source(value, slot, statistics_type if slot == "model_statistics" else "application/json")
        for slot, value in declared_metrics.items()
    }
    baselines = {slot: source(value, slot) for slot, value in (step.get("drift_check_baselines") or {}).items()}
    kinds = {s["name"]: s.get("check") for s in ctx.spec["steps"]}
    filled_metrics, filled_drift = filled_slots({kinds[name]: name for name in step.get("quality_checks", [])})
    for slot, name in filled_metrics.items():
        metrics[slot] = source(getattr(ctx.built[name].properties, f"CalculatedBaseline{_measured(slot)}"), slot)
    for slot, name in filled_drift.items():
        if slot in FILE_SLOTS:  # Clarify's monitoring analysis config, uploaded as the check was built
            uri = ctx.built[name].clarify_check_config.monitoring_analysis_config_uri
            baselines[slot] = source({"s3_uri": uri, "content_type": "application/json"}, slot)
        else:
            baselines[slot] = source(getattr(ctx.built[name].properties, f"BaselineUsedForDriftCheck{_measured(slot)}"), slot)
    return {
        "model_metrics": ModelMetrics(**{k: metrics[k] for k in METRICS_SLOTS if k in metrics}) if metrics else None,
        "drift_check_baselines": DriftCheckBaselines(**{k: baselines[k] for k in DRIFT_SLOTS if k in baselines}) if baselines else None,
    }
