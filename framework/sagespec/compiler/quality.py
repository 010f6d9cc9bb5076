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

CHECK_CONFIGS = {"data_quality": "DataQualityCheckConfig", "model_quality": "ModelQualityCheckConfig"}


def _dataset_format(ctx: BuildContext, declared: dict[str, Any] | None) -> SdkObject:
    DatasetFormat = ctx.cls("DatasetFormat")
    declared = declared or {"csv": {"header": True}}
    if "json" in declared:
        return DatasetFormat.json(lines=declared["json"].get("lines", True))
    return DatasetFormat.csv(header=declared.get("csv", {}).get("header", True))


@builder("quality_check", ("v2", "v3"))
def quality_check(ctx: BuildContext, step: dict[str, Any]) -> SdkObject:
    sdk, CheckJobConfig = ctx.cls("quality_check_step"), ctx.cls("CheckJobConfig")
    session = ctx.spec["session"]
    job = CheckJobConfig(
        role=ctx.role,
        instance_count=ctx.expr.value(step.get("instance_count", 1)),
        instance_type=ctx.expr.value(step["instance_type"]),
        volume_size_in_gb=step.get("volume_size_gb", 30),
        volume_kms_key=step.get("volume_kms_key"),
        output_kms_key=step.get("output_kms_key") or session.get("kms_key"),
        max_runtime_in_seconds=step.get("max_runtime_seconds"),
        base_job_name=step.get("base_job_name"),
        sagemaker_session=ctx.session,
    )
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
    options: dict[str, Any] = {}
    for key in ("supplied_baseline_statistics", "supplied_baseline_constraints"):
        if step.get(key):
            options[key] = ctx.expr.value(step[key])
    if step.get("model_package_group"):
        options["model_package_group_name"] = ctx.expr.value(step["model_package_group"])
    return sdk.QualityCheckStep(
        step["name"],
        quality_check_config=config,
        check_job_config=job,
        skip_check=ctx.expr.value(step.get("skip_check", False)),
        register_new_baseline=ctx.expr.value(step.get("register_new_baseline", False)),
        fail_on_violation=ctx.expr.value(step.get("fail_on_violation", True)),
        **options,
        **ctx.common(step, cacheable=True),
    )


def registered_checks(ctx: BuildContext, step: dict[str, Any], model_statistics: SdkObject | None = None) -> dict[str, SdkObject | None]:
    """ModelMetrics and DriftCheckBaselines for `register`: each named check's calculated baseline
    as the version's metrics, the baseline it checked against as its drift check baseline."""
    MetricsSource, ModelMetrics, DriftCheckBaselines = (ctx.cls(n) for n in ("MetricsSource", "ModelMetrics", "DriftCheckBaselines"))

    def source(value: SdkObject) -> SdkObject:
        return MetricsSource(s3_uri=value, content_type="application/json")

    metrics: dict[str, SdkObject] = {}
    baselines: dict[str, SdkObject] = {}
    if model_statistics is not None:
        metrics["model_statistics"] = model_statistics
    for name in step.get("quality_checks", []):
        check = next(s for s in ctx.spec["steps"] if s["name"] == name)["check"]
        prefix = "model_data" if check == "data_quality" else "model"
        properties = ctx.built[name].properties
        metrics[f"{prefix}_statistics"] = source(properties.CalculatedBaselineStatistics)
        metrics[f"{prefix}_constraints"] = source(properties.CalculatedBaselineConstraints)
        baselines[f"{prefix}_statistics"] = source(properties.BaselineUsedForDriftCheckStatistics)
        baselines[f"{prefix}_constraints"] = source(properties.BaselineUsedForDriftCheckConstraints)
    return {
        "model_metrics": ModelMetrics(**metrics) if metrics else None,
        "drift_check_baselines": DriftCheckBaselines(**baselines) if baselines else None,
    }
