"""Processing and training steps on SDK v3: Processor.run() and ModelTrainer.train() step args.

v3 has no framework estimators or framework processors (TensorFlow, SKLearn, ...): a job names
its image, which `sagemaker.core.image_uris.retrieve` finds exactly as v2's classes did (same
image_uri_config data, same signature). So a spec's `framework` + `framework_version` select the
same image on both SDKs; what differs is how the code travels:

- processing: a plain script runs on ScriptProcessor (`python3 /opt/ml/processing/input/code/x.py`,
  as v2's SKLearnProcessor); with a source_dir, or on any other framework image, FrameworkProcessor
  uploads sourcedir.tar.gz and bootstraps with runproc.sh, as v2's framework processors did.
- training: ModelTrainer with SourceCode sends the code as a `code` channel and its own drivers
  as an `sm_drivers` channel, and runs `/bin/bash -c ... sm_train.sh` (v3's training contract)
  where v2 passed sagemaker_program / sagemaker_submit_directory hyperparameters.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sagemaker.core.processing import FrameworkProcessor, ScriptProcessor
from sagemaker.core.shapes import (
    CheckpointConfig,
    MetricDefinition,
    OutputDataConfig,
    ProcessingInput,
    ProcessingOutput,
    ProcessingS3Input,
    ProcessingS3Output,
    StoppingCondition,
    Tag,
)
from sagemaker.core.training.configs import Compute, InputData, Networking, SourceCode
from sagemaker.train.model_trainer import ModelTrainer

from sagespec.compiler.build import BuildContext, builder, container_argument, processor_arguments, property_files, run_framework_processor
from sagespec.compiler.sdk import SdkObject
from sagespec.spec import references as syntax

V3 = ("v3",)
# py_version when the spec names none, as the v2 backend (compiler.builders) chooses.
PROCESSING_PY_VERSIONS = {"tensorflow": "py310", "pytorch": "py310", "xgboost": "py3", "sklearn": "py3"}
TRAINING_PY_VERSIONS = {"tensorflow": "py310", "pytorch": "py310", "huggingface": "py311", "sklearn": "py3", "xgboost": "py3"}


def _tags(spec: dict[str, Any]) -> list[Tag] | None:
    return [Tag(key=k, value=v) for k, v in (spec.get("tags") or {}).items()] or None


def concrete_instance_type(ctx: BuildContext, declared: object) -> str:
    """An instance type to choose an image by (image_uris.retrieve tells CPU from GPU images by
    it, and refuses a pipeline variable): the literal, or the parameter's default, since the
    image is a literal of the definition while a parameter's value is known only at run time."""

    if isinstance(declared, str) and "${" in declared:
        parts, _ = syntax.parse(declared)
        ref = parts[0] if len(parts) == 1 and isinstance(parts[0], syntax.Reference) else None
        if ref is not None and ref.form == "params":
            return str((ctx.spec.get("parameters") or {}).get(ref.name, {}).get("default", "ml.m5.xlarge"))
        return "ml.m5.xlarge"
    return str(declared)


def framework_image(ctx: BuildContext, spec: dict[str, Any], scope: str, py_versions: dict[str, str]) -> str:
    image_uris = ctx.cls("image_uris")
    framework = spec["framework"]
    kwargs: dict[str, Any] = dict(region=ctx.region, instance_type=concrete_instance_type(ctx, spec["instance_type"]), image_scope=scope)
    if framework == "huggingface":
        kwargs.update(version=spec["framework_version"], base_framework_version=f"pytorch{spec['pytorch_version']}")
    else:
        kwargs["version"] = spec["framework_version"]
    kwargs["py_version"] = spec.get("py_version") or py_versions.get(framework)
    uri: str = image_uris.retrieve(framework, **kwargs)
    return uri


@builder("processing", V3)
def processing(ctx: BuildContext, step: dict[str, Any]) -> SdkObject:
    spec = step["processor"]
    common = processor_arguments(ctx, spec, _tags(spec))
    if spec.get("image_uri"):
        image, plain = spec["image_uri"], True
    else:
        image = framework_image(ctx, spec, "training", PROCESSING_PY_VERSIONS)
        plain = spec["framework"] == "sklearn" and not step.get("source_dir")  # v2's SKLearnProcessor
    inputs = [
        ProcessingInput(
            input_name=i.get("name") or f"input-{n}",  # v2's SDK names an unnamed input by its position
            s3_input=ProcessingS3Input(
                s3_uri=ctx.expr.value(i["source"]), local_path=i["destination"], s3_data_type="S3Prefix", s3_input_mode="File"
            ),
        )
        for n, i in enumerate(step.get("inputs", []), 1)
    ]
    # An output with no destination gets the SDK's per-execution default: a non-s3 URI asks for it.
    outputs = [
        ProcessingOutput(
            output_name=o["name"],
            s3_output=ProcessingS3Output(
                local_path=o["source"], s3_uri=ctx.expr.value(o.get("destination")) or o["source"], s3_upload_mode="EndOfJob"
            ),
        )
        for o in step.get("outputs", [])
    ]
    arguments = [ctx.expr.value(container_argument(a)) for a in step.get("arguments", [])] or None
    if plain:
        processor = ScriptProcessor(image_uri=image, command=spec.get("command") or ["python3"], **common)
        step_args = processor.run(code=ctx.code(step["code"]), inputs=inputs or None, outputs=outputs or None, arguments=arguments)
    else:
        processor = FrameworkProcessor(image_uri=image, command=spec.get("command") or ["python"], **common)
        step_args = run_framework_processor(ctx, processor, step, inputs, outputs, arguments)
    return ctx.cls("ProcessingStep")(
        step["name"], step_args=step_args, property_files=property_files(ctx, step), **ctx.common(step, cacheable=True)
    )


def _hyperparameter(ctx: BuildContext, value: object) -> SdkObject:
    """CreateTrainingJob's HyperParameters is a map of strings: a parameter or property becomes a
    string at run time through a Join, as SDK v2 does for every pipeline variable it is given."""
    resolved = ctx.expr.value(value)
    if isinstance(resolved, (str, int, float, bool)):
        return resolved
    return ctx.cls("Join")(on="", values=[resolved])


def trainer(ctx: BuildContext, step: dict[str, Any]) -> SdkObject:
    """The ModelTrainer of a training step (its image, code, resources, output and limits)."""

    spec = step["estimator"]
    if spec.get("image_uri"):
        image = spec["image_uri"]
    elif spec.get("mode") == "builtin":  # SageMaker's built-in algorithm: its image, hyperparameters only
        image = ctx.cls("image_uris").retrieve(spec["framework"], ctx.region, version=spec["framework_version"])
    else:
        image = framework_image(ctx, spec, "training", TRAINING_PY_VERSIONS)
    vpc = spec.get("vpc") or {}
    networking = None
    if vpc or spec.get("enable_network_isolation") or spec.get("encrypt_inter_container_traffic"):
        networking = Networking(
            subnets=vpc.get("subnets"),
            security_group_ids=vpc.get("security_group_ids"),
            enable_network_isolation=spec.get("enable_network_isolation", False),
            enable_inter_container_traffic_encryption=spec.get("encrypt_inter_container_traffic", False),
        )
    stopping = {"max_runtime_in_seconds": ctx.expr.value(spec.get("max_runtime_seconds", 24 * 60 * 60))}
    if spec.get("max_wait_seconds"):
        stopping["max_wait_time_in_seconds"] = spec["max_wait_seconds"]
    session = ctx.spec["session"]
    default_output = "/".join(p for p in (f"s3://{session['default_bucket']}", session.get("default_bucket_prefix")) if p) + "/"
    output = {"s3_output_path": ctx.expr.value(step.get("output_path")) or default_output}  # v2's default: the bucket and prefix
    if kms := step.get("output_kms_key") or ctx.spec["session"].get("kms_key"):
        output["kms_key_id"] = kms
    compute = dict(
        instance_type=ctx.expr.value(spec["instance_type"]),
        instance_count=ctx.expr.value(spec.get("instance_count", 1)),
        volume_size_in_gb=ctx.expr.value(spec.get("volume_size_gb", 30)),
        enable_managed_spot_training=spec.get("use_spot_instances", False) or None,
    )
    if spec.get("volume_kms_key"):
        compute["volume_kms_key_id"] = spec["volume_kms_key"]
    kwargs = dict(
        training_image=image,
        role=ctx.role,
        compute=Compute(**compute),
        stopping_condition=StoppingCondition(**stopping),
        output_data_config=OutputDataConfig(**output),
        hyperparameters={k: _hyperparameter(ctx, v) for k, v in (step.get("hyperparameters") or {}).items()} or None,
        environment=ctx.expr.mapping(spec.get("environment")),
        base_job_name=spec.get("base_job_name"),
        tags=_tags(spec),
        networking=networking,
        sagemaker_session=ctx.session,
    )
    if step.get("entry_point"):
        # v2's framework containers pip-install a requirements.txt found in the code; v3's
        # sm_train.sh installs only the one SourceCode names, so it is named when present.
        requirements = "requirements.txt" if (Path(ctx.code(step["source_dir"])) / "requirements.txt").is_file() else None
        kwargs["source_code"] = SourceCode(
            source_dir=ctx.code(step["source_dir"]), entry_script=step["entry_point"], requirements=requirements
        )
    if spec.get("checkpoint_s3_uri"):
        kwargs["checkpoint_config"] = CheckpointConfig(s3_uri=spec["checkpoint_s3_uri"])
    model_trainer = ModelTrainer(**{k: v for k, v in kwargs.items() if v is not None})
    if spec.get("metric_definitions"):
        model_trainer = model_trainer.with_metric_definitions(
            [MetricDefinition(name=m["name"], regex=m["regex"]) for m in spec["metric_definitions"]]
        )
    return model_trainer


@builder("training", V3)
def training(ctx: BuildContext, step: dict[str, Any]) -> SdkObject:
    model_trainer = trainer(ctx, step)
    ctx.estimators[step["name"]] = (model_trainer, step)
    # InputData refuses content_type=None (a pydantic string field): it is given only when declared.
    channels = [
        InputData(
            channel_name=ch["name"],
            data_source=ctx.expr.value(ch["source"]),
            **({"content_type": ctx.expr.value(ch["content_type"])} if ch.get("content_type") else {}),
        )
        for ch in step["inputs"]
    ]
    step_args = model_trainer.train(input_data_config=channels)
    return ctx.cls("TrainingStep")(step["name"], step_args=step_args, **ctx.common(step, cacheable=True))
