"""`kind: clarify_check`: a ClarifyCheckStep (SageMaker Clarify's analyzer as a processing job) that
computes a pre-training bias, post-training bias or SHAP explainability baseline and checks it
against the previous one; a register_model step's `quality_checks` records its baselines (the
SDK's "SageMaker Pipelines integration with Model Monitor and Clarify" example registers them one
slot at a time). SDK v2 keeps the classes under sagemaker.workflow.clarify_check_step and
sagemaker.clarify, v3 under sagemaker.mlops.workflow and sagemaker.core.clarify: one builder serves both.

The SDK uploads two files while it builds the step: the job's analysis config (to the spec's
`analysis_config_output_path`, or to a path of the pipeline's own here, since `output_path` may
hold the execution id and the upload happens before any execution) and the monitoring analysis
config a registered version points at (compiler.offline puts it under a hash of its content: the
SDK names it after the clock and a random UUID).
"""

from __future__ import annotations

from typing import Any

from sagespec.compiler.build import BuildContext, builder
from sagespec.compiler.compiled import Upload
from sagespec.compiler.quality import check_step_arguments
from sagespec.compiler.sdk import SdkObject
from sagespec.compiler.transform import execution_output_path
from sagespec.definition import walk_steps

CHECK_CONFIGS = {
    "data_bias": "DataBiasCheckConfig",
    "model_bias": "ModelBiasCheckConfig",
    "model_explainability": "ModelExplainabilityCheckConfig",
}
# The spec's DataConfig keys beside dataset/output_path (the SDK's argument names).
DATA_KEYS = ("label", "headers", "features", "dataset_type", "excluded_columns", "joinsource")
# (No endpoint_name_prefix: the shadow endpoint keeps Clarify's "sm-clarify", the name the job role's grants name.)
MODEL_KEYS = ("model_name", "instance_type", "instance_count", "accept_type", "content_type", "content_template", "record_template")
SHAP_KEYS = ("baseline", "num_samples", "agg_method", "use_logit", "save_local_shap_values", "seed", "num_clusters", "features_to_explain")


def analysis_config_output_path(ctx: BuildContext, step: dict[str, Any]) -> str:
    """Where the job's analysis config is uploaded at build time: the spec's, or the step's own
    folder of the pipeline (a literal: the SDK refuses a path that waits for an execution)."""
    declared: str | None = step.get("analysis_config_output_path")
    return declared or f"{ctx.pipeline_uri(step['name'])}/analysis_config"


def with_fixed_keys(uploads: list[Upload], definition: dict[str, Any]) -> list[Upload]:
    """`uploads`, each Clarify job's analysis config marked as put at every upsert: its key is the
    SDK's `<analysis_config_output_path>/analysis_config.json`, the same for any content, so an
    object already there may be an older config."""
    configs = {
        item["S3Input"]["S3Uri"]
        for placed in walk_steps(definition)
        if placed.type == "ClarifyCheck"
        for item in placed.step.get("Arguments", {}).get("ProcessingInputs", [])
        if item.get("InputName") == "analysis_config"
    }
    for upload in uploads:
        upload.fixed_key = upload.uri in configs
    return uploads


@builder("clarify_check", ("v2", "v3"))
def clarify_check(ctx: BuildContext, step: dict[str, Any]) -> SdkObject:
    sdk, clarify = ctx.cls("clarify_check_step"), ctx.cls("clarify")
    data = clarify.DataConfig(
        s3_data_input_path=ctx.expr.value(step["dataset"]),
        s3_output_path=execution_output_path(ctx, step),
        s3_analysis_config_output_path=analysis_config_output_path(ctx, step),
        **{key: step[key] for key in DATA_KEYS if key in step},
    )
    check = step["check"]
    config: dict[str, Any] = {"data_config": data}
    if step.get("kms_key"):
        config["kms_key"] = step["kms_key"]
    if check in ("data_bias", "model_bias"):
        config["data_bias_config"] = clarify.BiasConfig(**step["bias"])
        if "methods" in step:
            config["methods"] = step["methods"]
    if check in ("model_bias", "model_explainability"):
        model = step["model"]
        config["model_config"] = clarify.ModelConfig(
            **{key: ctx.expr.value(model[key]) if key == "model_name" else model[key] for key in MODEL_KEYS if key in model}
        )
    if check == "model_bias":
        config["model_predicted_label_config"] = clarify.ModelPredictedLabelConfig(**(step.get("predicted_label") or {}))
    if check == "model_explainability":
        config["explainability_config"] = clarify.SHAPConfig(**{key: step["shap"][key] for key in SHAP_KEYS if key in step["shap"]})
        if "model_scores" in step:
            config["model_scores"] = step["model_scores"]
    clarify_check_config = getattr(sdk, CHECK_CONFIGS[check])(**config)
    return sdk.ClarifyCheckStep(step["name"], clarify_check_config=clarify_check_config, **check_step_arguments(ctx, step))
