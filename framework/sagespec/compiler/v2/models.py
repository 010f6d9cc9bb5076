"""Register and create model steps on SDK v2: the Model (or PipelineModel) a spec step serves,
registered or created as a ModelStep."""

from __future__ import annotations

import hashlib
import importlib
import warnings
from pathlib import Path
from typing import Any

from sagemaker import image_uris
from sagemaker.inputs import CreateModelInput
from sagemaker.model import Model
from sagemaker.pipeline import PipelineModel
from sagemaker.workflow import _utils as sdk_workflow_utils
from sagemaker.workflow._utils import _RepackModelStep
from sagemaker.workflow.model_step import ModelStep
from sagemaker.workflow.step_collections import RegisterModel
from sagemaker.workflow.steps import CreateModelStep
from sagemaker.workflow.utilities import hash_files_or_dirs

from sagespec.compiler.build import BuildContext, builder
from sagespec.compiler.quality import registered_checks
from sagespec.compiler.sdk import SdkObject
from sagespec.compiler.v2.jobs import DEFAULT_PY_VERSIONS

# Each framework's SDK Model class (module, class): the framework's SageMaker inference image.
FRAMEWORK_MODELS = {
    "tensorflow": ("sagemaker.tensorflow", "TensorFlowModel"),
    "pytorch": ("sagemaker.pytorch", "PyTorchModel"),
    "sklearn": ("sagemaker.sklearn", "SKLearnModel"),
    "xgboost": ("sagemaker.xgboost", "XGBoostModel"),
    "huggingface": ("sagemaker.huggingface", "HuggingFaceModel"),
}


def _inference_code_location(ctx: BuildContext, step: dict[str, Any], source: dict[str, Any], index: int | None) -> dict[str, str]:
    """Where the SDK uploads inference code: under a hash of its files, as training code is, so
    the key (and the definition) depends only on the code. Without it the SDK names the upload
    after a timestamp, and every compile would change the definition."""
    suffix = "" if index is None else f"-{index + 1}"
    return {
        "code_location": ctx.pipeline_uri("code", hash_files_or_dirs([ctx.code(source["source_dir"])])),
        "name": f"{ctx.spec['name']}-{step['name']}"[: 63 - len(suffix)].strip("-") + suffix,
    }


def _model(ctx: BuildContext, step: dict[str, Any]) -> SdkObject:
    """The SDK Model of a register or create step: one model, or a PipelineModel of 2-15 whose
    containers serve in order (an inference pipeline)."""
    if isinstance(step["model"], dict):
        return _one_model(ctx, step, step["model"], None)
    models = [_one_model(ctx, step, source, index) for index, source in enumerate(step["model"])]
    return PipelineModel(models=models, role=ctx.role, sagemaker_session=ctx.session)


def _one_model(ctx: BuildContext, step: dict[str, Any], source: dict[str, Any], index: int | None) -> SdkObject:
    """The SDK Model serving a training step's artifact. With an inference entry_point the SDK
    repacks the artifact with the code (a _RepackModelStep training job before the model step)."""
    common: dict[str, Any] = dict(role=ctx.role, env=ctx.expr.mapping(source.get("environment")), sagemaker_session=ctx.session)
    if source.get("entry_point"):
        common.update(entry_point=source["entry_point"], source_dir=ctx.code(source["source_dir"]) if source.get("source_dir") else None)
        common.update(_inference_code_location(ctx, step, source, index))
    if not source.get("training_step"):  # an artifact you name, on the image you name
        return Model(image_uri=source["image_uri"], model_data=ctx.expr.value(source["model_data"]), **common)
    _, training_spec = ctx.estimators[source["training_step"]]
    estimator = training_spec["estimator"]
    if training_spec["kind"] == "tuning":  # the best training job's model
        common["model_data"] = ctx.expr.best_models[source["training_step"]]
    else:
        common["model_data"] = ctx.built[source["training_step"]].properties.ModelArtifacts.S3ModelArtifacts
    version = source.get("framework_version") or estimator.get("framework_version")
    if source.get("image_uri") or estimator.get("mode") == "builtin":
        # A built-in algorithm serves with its own training image (SageMaker's algorithm containers serve).
        image = source.get("image_uri") or image_uris.retrieve(estimator["framework"], ctx.region, version=version)
        return Model(image_uri=image, **common)
    framework = estimator["framework"]
    module, name = FRAMEWORK_MODELS[framework]
    cls = getattr(importlib.import_module(module), name)
    if framework == "huggingface":
        versions = dict(transformers_version=version, pytorch_version=estimator["pytorch_version"])
    else:
        versions = dict(framework_version=version)
    if framework in ("pytorch", "huggingface"):  # TensorFlow Serving has no Python; sklearn and xgboost default to py3
        versions["py_version"] = estimator.get("py_version") or DEFAULT_PY_VERSIONS[framework]
    return cls(**versions, **common)


def _model_step(ctx: BuildContext, step: dict[str, Any], step_args: Any, **kwargs: Any) -> ModelStep:
    """The ModelStep of a register or create step, whose repack steps (a model with its own
    entry_point on a trained artifact) compile the same way every time. Left to itself, the SDK
    uploads the repack code under a job name made from the time (`sagemaker-scikit-learn-<now>`)
    and passes the staged code folder's path (a fresh temporary folder each compile) as the
    `source_dir` hyperparameter; the repack script only tests that value for emptiness
    (sagemaker/workflow/_repack_model.py). So the code goes under a hash of its files and the
    SDK's repack script, named after the repack step, and the hyperparameter names the spec's folder."""
    sources = [step["model"]] if isinstance(step["model"], dict) else list(step["model"])
    scripted = [s for s in sources if s.get("entry_point")]
    if not scripted:
        return ModelStep(step["name"], step_args=step_args, **kwargs)
    folders = {ctx.code(s["source_dir"]): s["source_dir"] for s in scripted if s.get("source_dir")}
    repack_script = Path(sdk_workflow_utils.__file__).with_name(sdk_workflow_utils.REPACK_SCRIPT)
    # the script's bytes, not its path: where the SDK is installed must not change the key
    code_hash = hashlib.sha256(
        (hash_files_or_dirs(sorted(folders)) + hashlib.sha256(repack_script.read_bytes()).hexdigest()).encode()
    ).hexdigest()
    settings = {"code_location": ctx.pipeline_uri("code", code_hash)}
    model_step = ModelStep(step["name"], step_args=step_args, repack_model_step_settings=settings, **kwargs)
    for built in model_step.steps:
        if isinstance(built, _RepackModelStep):
            repack: SdkObject = built
            repack.job_name = repack.name
            hyperparameters: dict[str, Any] = repack.estimator._hyperparameters
            staged = hyperparameters.get("source_dir")
            if isinstance(staged, str) and staged in folders:
                hyperparameters["source_dir"] = folders[staged]
    return model_step


@builder("register_model")
def register_model(ctx: BuildContext, step: dict[str, Any]) -> ModelStep | RegisterModel:
    registration = dict(
        content_types=step["content_types"],
        response_types=step["response_types"],
        inference_instances=[ctx.expr.value(i) for i in step["inference_instances"]],
        transform_instances=[ctx.expr.value(i) for i in step.get("transform_instances", [])] or None,
        # A full ARN of a group in another account is passed through unchanged.
        model_package_group_name=ctx.expr.value(step["model_package_group"]),
        approval_status=ctx.expr.value(step.get("approval_status", "PendingManualApproval")),
        **registered_checks(ctx, step),
        customer_metadata_properties=step.get("customer_metadata"),
        description=step.get("description"),
    )
    common = ctx.common(step)
    common.pop("description", None)  # it describes the model package, not the step
    if step.get("sdk_step") == "RegisterModel":  # the project templates' step collection, from the estimator
        training_step = step["model"]["training_step"]
        estimator, trained = ctx.estimators[training_step]
        if "retry_policies" in common:
            common["register_model_step_retry_policies"] = common.pop("retry_policies")
        model_data = (
            ctx.expr.best_models[training_step]
            if trained["kind"] == "tuning"
            else ctx.built[training_step].properties.ModelArtifacts.S3ModelArtifacts
        )
        return RegisterModel(step["name"], estimator=estimator, model_data=model_data, **registration, **common)
    step_args = _model(ctx, step).register(**registration)
    return _model_step(ctx, step, step_args, **common)


@builder("create_model")
def create_model(ctx: BuildContext, step: dict[str, Any]) -> ModelStep | CreateModelStep:
    accelerator = {"accelerator_type": step["accelerator_type"]} if step.get("accelerator_type") else {}  # PipelineModel takes none
    instance_type = ctx.expr.value(step["instance_type"])
    if step.get("sdk_step") == "CreateModelStep":  # the notebooks' older class: the step keeps its name
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="We are deprecating the use of CreateModelStep")  # the SDK's, every build
            inputs = CreateModelInput(instance_type=instance_type, **accelerator)
            return CreateModelStep(step["name"], model=_model(ctx, step), inputs=inputs, **ctx.common(step))
    step_args = _model(ctx, step).create(instance_type=instance_type, **accelerator)
    return _model_step(ctx, step, step_args, **ctx.common(step))
