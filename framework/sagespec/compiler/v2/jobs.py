"""Processing and training steps on SDK v2 (`sagemaker.processing`, `sagemaker.estimator`):
the processor or estimator a spec step describes, run into the step's arguments."""

from __future__ import annotations

import importlib
from typing import Any

from sagemaker import image_uris
from sagemaker.debugger.debugger import CollectionConfig, DebuggerHookConfig
from sagemaker.estimator import Estimator
from sagemaker.inputs import TrainingInput
from sagemaker.processing import FrameworkProcessor, ProcessingInput, ProcessingOutput, ScriptProcessor
from sagemaker.sklearn.processing import SKLearnProcessor
from sagemaker.spark.processing import PySparkProcessor
from sagemaker.workflow.steps import ProcessingStep, TrainingStep

from sagespec.compiler.build import (
    CONTAINER_MODEL_DIR,
    BuildContext,
    builder,
    container_argument,
    processor_arguments,
    property_files,
    run_framework_processor,
    tags_of,
)
from sagespec.compiler.sdk import SdkObject


@builder("processing")
def processing(ctx: BuildContext, step: dict[str, Any]) -> ProcessingStep:
    spec = step["processor"]
    common = processor_arguments(ctx, spec, tags_of(spec))
    framework = spec.get("framework")
    if spec.get("image_uri"):
        processor = ScriptProcessor(image_uri=spec["image_uri"], command=spec.get("command") or ["python3"], **common)
    elif framework == "pyspark":
        processor = PySparkProcessor(framework_version=spec["framework_version"], py_version=spec.get("py_version"), **common)
    elif framework == "sklearn" and not step.get("source_dir"):
        processor = SKLearnProcessor(framework_version=spec["framework_version"], **common)
    else:
        processor = _framework_processor(spec, common)
    inputs = [
        ProcessingInput(
            source=ctx.expr.value(i["source"]), destination=i["destination"], input_name=i.get("name")
        )  # None: the SDK names it input-<n>
        for i in step.get("inputs", [])
    ]
    outputs = [
        ProcessingOutput(output_name=o["name"], source=o["source"], destination=ctx.expr.value(o.get("destination")))
        for o in step.get("outputs", [])
    ]
    arguments = [ctx.expr.value(container_argument(a)) for a in step.get("arguments", [])] or None
    if framework == "pyspark" and not spec.get("image_uri"):
        step_args = processor.run(
            submit_app=ctx.code(step["code"]),
            inputs=inputs or None,
            outputs=outputs or None,
            arguments=arguments,
            configuration=ctx.expr.nested(step.get("configuration")),
            spark_event_logs_s3_uri=ctx.expr.value(step.get("spark_event_logs_s3_uri")),
        )
    elif isinstance(processor, FrameworkProcessor):
        step_args = run_framework_processor(ctx, processor, step, inputs, outputs, arguments)
    else:
        step_args = processor.run(code=ctx.code(step["code"]), inputs=inputs or None, outputs=outputs or None, arguments=arguments)
    return ProcessingStep(step["name"], step_args=step_args, property_files=property_files(ctx, step), **ctx.common(step, cacheable=True))


# Each framework's FrameworkProcessor (module, class, default py_version); sklearn has none of its
# own, so it is FrameworkProcessor over the SKLearn estimator.
FRAMEWORK_PROCESSORS = {
    "tensorflow": ("sagemaker.tensorflow.processing", "TensorFlowProcessor", "py310"),
    "pytorch": ("sagemaker.pytorch.processing", "PyTorchProcessor", "py310"),
    "xgboost": ("sagemaker.xgboost.processing", "XGBoostProcessor", "py3"),
    "sklearn": ("sagemaker.processing", "FrameworkProcessor", "py3"),
}


def _framework_processor(spec: dict[str, Any], common: dict[str, Any]) -> SdkObject:
    """A FrameworkProcessor: runproc.sh unpacks the code (and pip-installs requirements.txt) on
    the framework's image, then runs the script with `python`."""
    module, name, py_version = FRAMEWORK_PROCESSORS[spec["framework"]]
    cls = getattr(importlib.import_module(module), name)
    extra = {"estimator_cls": importlib.import_module("sagemaker.sklearn").SKLearn} if spec["framework"] == "sklearn" else {}
    return cls(framework_version=spec["framework_version"], py_version=spec.get("py_version") or py_version, **extra, **common)


# Script mode: each framework's SDK estimator class (module, class). TensorFlow alone takes a
# model_dir hyperparameter, fixed here because the SDK's default embeds a timestamp.
FRAMEWORK_ESTIMATORS = {
    "tensorflow": ("sagemaker.tensorflow", "TensorFlow"),
    "pytorch": ("sagemaker.pytorch", "PyTorch"),
    "sklearn": ("sagemaker.sklearn", "SKLearn"),
    "xgboost": ("sagemaker.xgboost", "XGBoost"),
    "huggingface": ("sagemaker.huggingface", "HuggingFace"),
}
# py_version when the spec names none: the SDK's for TensorFlow and PyTorch images of this era;
# Hugging Face images exist for one Python each (image_uri_config/huggingface.json).
DEFAULT_PY_VERSIONS = {"tensorflow": "py310", "pytorch": "py310", "huggingface": "py311"}


def debugger_hook_config(hook: dict[str, Any] | bool | None) -> DebuggerHookConfig | bool | None:
    """The spec's debugger_hook_config as the SDK's argument: None (the SDK's default hook),
    False (none), or a DebuggerHookConfig."""
    if not isinstance(hook, dict):
        return None if hook is None else False
    collections = [CollectionConfig(c["name"], c.get("parameters")) for c in hook.get("collection_configs", [])]
    return DebuggerHookConfig(
        s3_output_path=hook.get("s3_output_path"),
        container_local_output_path=hook.get("container_local_output_path"),
        hook_parameters=hook.get("hook_parameters"),
        collection_configs=collections or None,
    )


def estimator_of(ctx: BuildContext, step: dict[str, Any]) -> SdkObject:
    spec = step["estimator"]
    common = dict(
        role=ctx.role,
        instance_type=ctx.expr.value(spec["instance_type"]),
        instance_count=ctx.expr.value(spec.get("instance_count", 1)),
        hyperparameters={k: ctx.expr.value(v) for k, v in (step.get("hyperparameters") or {}).items()},
        output_kms_key=step.get("output_kms_key") or ctx.spec["session"].get("kms_key"),
        output_path=step.get("output_path"),
        volume_size=ctx.expr.value(spec.get("volume_size_gb", 30)),
        max_run=ctx.expr.value(spec.get("max_runtime_seconds", 24 * 60 * 60)),
        environment=ctx.expr.mapping(spec.get("environment")),
        base_job_name=spec.get("base_job_name"),
        tags=tags_of(spec),
        volume_kms_key=spec.get("volume_kms_key"),
        enable_network_isolation=spec.get("enable_network_isolation", False),
        encrypt_inter_container_traffic=spec.get("encrypt_inter_container_traffic", False),
        subnets=(spec.get("vpc") or {}).get("subnets"),
        security_group_ids=(spec.get("vpc") or {}).get("security_group_ids"),
        use_spot_instances=spec.get("use_spot_instances", False),
        max_wait=spec.get("max_wait_seconds"),
        checkpoint_s3_uri=spec.get("checkpoint_s3_uri"),
        metric_definitions=[{"Name": m["name"], "Regex": m["regex"]} for m in spec.get("metric_definitions", [])] or None,
        # SageMaker Debugger as the SDK has it unless the spec says otherwise: the profiler's
        # system monitoring on, the hook saving under the job's output path.
        disable_profiler=spec.get("disable_profiler", False),
        debugger_hook_config=debugger_hook_config(spec.get("debugger_hook_config")),
        sagemaker_session=ctx.session,
    )
    if spec.get("image_uri"):
        script = {"entry_point": step["entry_point"], "source_dir": ctx.code(step["source_dir"])} if step.get("entry_point") else {}
        return Estimator(image_uri=spec["image_uri"], **script, **common)
    if spec.get("mode") == "builtin":  # SageMaker's built-in algorithm: its image, hyperparameters only
        image = image_uris.retrieve(spec["framework"], ctx.region, version=spec["framework_version"])
        return Estimator(image_uri=image, **common)
    module, name = FRAMEWORK_ESTIMATORS[spec["framework"]]
    framework = getattr(importlib.import_module(module), name)
    extra = {"model_dir": CONTAINER_MODEL_DIR} if spec["framework"] == "tensorflow" else {}
    if spec.get("py_version") or spec["framework"] in DEFAULT_PY_VERSIONS:
        extra["py_version"] = spec.get("py_version") or DEFAULT_PY_VERSIONS[spec["framework"]]
    if spec["framework"] == "huggingface":  # versioned by transformers and the PyTorch under it
        extra.update(transformers_version=spec["framework_version"], pytorch_version=spec["pytorch_version"])
    else:
        extra["framework_version"] = spec["framework_version"]
    return framework(entry_point=step["entry_point"], source_dir=ctx.code(step["source_dir"]), **extra, **common)


def channels(ctx: BuildContext, step: dict[str, Any]) -> dict[str, TrainingInput]:
    """A training or tuning step's inputs as the SDK's TrainingInput channels."""
    return {
        ch["name"]: TrainingInput(s3_data=ctx.expr.value(ch["source"]), content_type=ctx.expr.value(ch.get("content_type")))
        for ch in step["inputs"]
    }


@builder("training")
def training(ctx: BuildContext, step: dict[str, Any]) -> TrainingStep:
    estimator = estimator_of(ctx, step)
    # Resolve the image now so an unsupported version is reported at this step, not at definition().
    estimator.training_image_uri()
    ctx.estimators[step["name"]] = (estimator, step)
    return TrainingStep(step["name"], step_args=estimator.fit(inputs=channels(ctx, step)), **ctx.common(step, cacheable=True))
