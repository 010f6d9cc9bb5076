"""Register and create model steps on SDK v3: ModelStep(step_args=ModelBuilder.register() / .build()).

v3 has no RegisterModel collection and no framework Model classes: a ModelBuilder names its image
and artifact, and under a PipelineSession its register() and build() return step args. The
image is the one v2's framework Model chose (`image_uris.retrieve(..., image_scope="inference")`),
and a built-in algorithm serves with its training image, as on v2. A ModelStep is named as the
spec step (v2's collection named it `<step>-RegisterModel` / `<step>-CreateModel`).
"""

from __future__ import annotations

from typing import Any

from sagemaker.serve.model_builder import ModelBuilder

from sagespec.compiler.build import BuildContext, builder
from sagespec.compiler.quality import registered_checks
from sagespec.compiler.sdk import SdkObject
from sagespec.compiler.v3.jobs import concrete_instance_type

V3 = ("v3",)
INFERENCE_PY_VERSIONS = {"pytorch": "py310", "huggingface": "py311"}  # TensorFlow Serving has no Python; sklearn and xgboost: py3


def _image(ctx: BuildContext, source: dict[str, Any], instance_type: object) -> str:
    if source.get("image_uri"):
        uri: str = source["image_uri"]
        return uri
    _, training_spec = ctx.estimators[source["training_step"]]
    estimator = training_spec["estimator"]
    image_uris = ctx.cls("image_uris")
    version = source.get("framework_version") or estimator.get("framework_version")
    if estimator.get("mode") == "builtin":  # a built-in algorithm serves with its own training image
        uri = image_uris.retrieve(estimator["framework"], ctx.region, version=version)
        return uri
    framework = estimator["framework"]
    kwargs: dict[str, Any] = dict(region=ctx.region, instance_type=concrete_instance_type(ctx, instance_type), image_scope="inference")
    if framework == "huggingface":
        kwargs.update(version=version, base_framework_version=f"pytorch{estimator['pytorch_version']}")
    else:
        kwargs["version"] = version
    if framework in INFERENCE_PY_VERSIONS:
        kwargs["py_version"] = estimator.get("py_version") or INFERENCE_PY_VERSIONS[framework]
    elif framework in ("sklearn", "xgboost"):
        kwargs["py_version"] = "py3"
    uri = image_uris.retrieve(framework, **kwargs)
    return uri


def model_builder(ctx: BuildContext, step: dict[str, Any], instance_type: object) -> SdkObject:
    """The ModelBuilder serving a training step's artifact, or an artifact you name on your image."""

    source = step["model"]
    if source.get("training_step"):
        model_data = ctx.built[source["training_step"]].properties.ModelArtifacts.S3ModelArtifacts
    else:
        model_data = ctx.expr.value(source["model_data"])
    return ModelBuilder(
        image_uri=_image(ctx, source, instance_type),
        s3_model_data_url=model_data,
        role_arn=ctx.role,
        env_vars=ctx.expr.mapping(source.get("environment")) or {},
        sagemaker_session=ctx.session,
    )


@builder("register_model", V3)
def register_model(ctx: BuildContext, step: dict[str, Any]) -> SdkObject:
    inference_instances = [ctx.expr.value(i) for i in step["inference_instances"]]
    step_args = model_builder(ctx, step, step["inference_instances"][0]).register(
        content_types=step["content_types"],
        response_types=step["response_types"],
        inference_instances=inference_instances,
        transform_instances=[ctx.expr.value(i) for i in step.get("transform_instances", [])] or None,
        model_package_group_name=ctx.expr.value(step["model_package_group"]),  # a group ARN in another account passes through
        approval_status=ctx.expr.value(step.get("approval_status", "PendingManualApproval")),
        **registered_checks(ctx, step),
        customer_metadata_properties=step.get("customer_metadata"),
        description=step.get("description"),
    )
    common = ctx.common(step)
    common.pop("description", None)  # it describes the model package, not the step
    return ctx.cls("ModelStep")(step["name"], step_args=step_args, **common)


@builder("create_model", V3)
def create_model(ctx: BuildContext, step: dict[str, Any]) -> SdkObject:
    step_args = model_builder(ctx, step, step["instance_type"]).build()
    return ctx.cls("ModelStep")(step["name"], step_args=step_args, **ctx.common(step))
