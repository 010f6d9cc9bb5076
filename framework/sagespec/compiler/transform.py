"""`kind: transform`: a TransformStep running a batch transform job with a model of the pipeline.

The model is a create_model step's (its ModelName, known at run time) or a model you name. The
output path is set here because the SDK's default is named after the job, and the job's name
after the clock; the default keeps executions apart: `<bucket>/<prefix>/<pipeline>/<step>/<execution id>`.
SDK v3's Transformer (sagemaker.core.transformer) takes the same arguments, so one builder serves both.
"""

from __future__ import annotations

from typing import Any

from sagespec.compiler.build import BuildContext, builder
from sagespec.compiler.sdk import SdkObject


def execution_output_path(ctx: BuildContext, step: dict[str, Any]) -> SdkObject:
    """`output_path`, or `<bucket>/<prefix>/<pipeline>/<step>/<execution id>`."""
    if step.get("output_path"):
        return ctx.expr.value(step["output_path"])
    return ctx.cls("Join")(on="/", values=[ctx.pipeline_uri(step["name"]), ctx.cls("ExecutionVariables").PIPELINE_EXECUTION_ID])


@builder("transform", ("v2", "v3"))
def transform(ctx: BuildContext, step: dict[str, Any]) -> SdkObject:
    if step.get("model_step"):
        model_name = ctx.built[step["model_step"]].properties.ModelName
    else:
        model_name = ctx.expr.value(step["model_name"])
    data = step["input"]
    transformer = ctx.cls("Transformer")(
        model_name=model_name,
        instance_count=ctx.expr.value(step.get("instance_count", 1)),
        instance_type=ctx.expr.value(step["instance_type"]),
        strategy=step.get("strategy"),
        assemble_with=step.get("assemble_with"),
        output_path=execution_output_path(ctx, step),
        output_kms_key=step.get("output_kms_key") or ctx.spec["session"].get("kms_key"),
        accept=step.get("accept"),
        max_concurrent_transforms=step.get("max_concurrent_transforms"),
        max_payload=step.get("max_payload_mb"),
        env=ctx.expr.mapping(step.get("environment")),
        volume_kms_key=step.get("volume_kms_key"),
        sagemaker_session=ctx.session,
    )
    step_args = transformer.transform(
        data=ctx.expr.value(data["source"]),
        data_type=data.get("data_type", "S3Prefix"),
        content_type=ctx.expr.value(data.get("content_type")),
        compression_type=data.get("compression"),
        split_type=data.get("split_type"),
        input_filter=step.get("input_filter"),
        join_source=step.get("join_source"),
        output_filter=step.get("output_filter"),
    )
    return ctx.cls("TransformStep")(step["name"], step_args=step_args, **ctx.common(step, cacheable=True))
