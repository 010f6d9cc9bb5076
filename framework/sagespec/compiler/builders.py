"""One builder per step kind: spec step -> SageMaker SDK v2 step object.

Builders register themselves by kind (`@builder("processing")`), so adding a kind is adding a
function, not extending a type switch. Each receives the build context (session, role,
expressions, the steps built so far) and the validated spec step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from sagespec.compiler.expressions import Expressions

# SDK ("v2" or "v3") -> step kind -> builder. A kind missing for an SDK is a spec feature that
# SDK's backend does not build yet (compiler.v3.unsupported says so, located).
BUILDERS: dict[str, dict[str, Callable]] = {"v2": {}, "v3": {}}

DEFAULT_CACHE_EXPIRY = "P30D"
CONTAINER_MODEL_DIR = "/opt/ml/model"  # explicit: the SDK's default embeds a timestamped job name


def builder(kind: str, sdks: tuple[str, ...] = ("v2",)):
    def register(fn: Callable) -> Callable:
        for sdk in sdks:
            BUILDERS[sdk][kind] = fn
        return fn

    return register


@dataclass
class BuildContext:
    session: object  # PipelineSession
    spec: dict
    expr: Expressions
    built: dict = field(default_factory=dict)  # step name -> SDK step
    estimators: dict = field(default_factory=dict)  # training or tuning step name -> (estimator, spec step)
    sdk: str = "v2"

    def cls(self, name: str):
        """An SDK class this context's SDK keeps somewhere of its own (compiler.sdk.LOCATIONS)."""
        from sagespec.compiler.sdk import sdk_class

        return sdk_class(self.sdk, name)

    @property
    def role(self) -> str:
        return self.spec["session"]["role"]

    @property
    def region(self) -> str:
        return self.spec["session"]["region"]

    def pipeline_uri(self, *parts: str) -> str:
        """s3://<default bucket>/<default prefix>/<pipeline>/<parts...>: where this pipeline's
        code and outputs go when the spec names no place."""
        session = self.spec["session"]
        keys = [session.get("default_bucket_prefix"), self.spec["name"], *parts]
        return f"s3://{session['default_bucket']}/" + "/".join(k for k in keys if k)

    def common(self, step: dict, cacheable: bool = False) -> dict:
        kwargs = {}
        if step.get("display_name"):
            kwargs["display_name"] = step["display_name"]
        if step.get("description"):
            kwargs["description"] = step["description"]
        if step.get("depends_on"):
            kwargs["depends_on"] = [self.built[name] for name in step["depends_on"]]
        if cacheable and step.get("cache"):
            kwargs["cache_config"] = cache_config(step["cache"], self.sdk)
        if step.get("retry"):
            from sagespec.compiler.settings import retry_policies

            kwargs["retry_policies"] = retry_policies(step["retry"], self.sdk)
        return kwargs


def declared_outputs(ctx: BuildContext, step: dict, output_class, types) -> list:
    """A Lambda or callback step's outputs as the SDK's output objects, noted for `${steps.S.outputs.O}`."""
    outputs = []
    for declared in step.get("outputs", []):
        outputs.append(output_class(output_name=declared["name"], output_type=types[declared.get("type", "String")]))
        ctx.expr.declared_outputs[(step["name"], declared["name"])] = outputs[-1]
    return outputs


def cache_config(cache, sdk: str = "v2"):
    from sagespec.compiler.sdk import sdk_class

    CacheConfig = sdk_class(sdk, "CacheConfig")

    if cache is True:
        return CacheConfig(enable_caching=True, expire_after=DEFAULT_CACHE_EXPIRY)
    return CacheConfig(enable_caching=cache.get("enabled", True), expire_after=cache["expire_after"])


def container_argument(value) -> object:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def _tags(spec: dict) -> list[dict] | None:
    return [{"Key": k, "Value": v} for k, v in (spec.get("tags") or {}).items()] or None


def network_config(spec: dict, sdk: str = "v2"):
    """A processing job's NetworkConfig (VPC, isolation, encryption), or None when nothing is set."""
    if not any(spec.get(k) for k in ("vpc", "enable_network_isolation", "encrypt_inter_container_traffic")):
        return None
    from sagespec.compiler.sdk import sdk_class

    NetworkConfig = sdk_class(sdk, "NetworkConfig")

    vpc = spec.get("vpc") or {}
    return NetworkConfig(
        enable_network_isolation=spec.get("enable_network_isolation", False),
        security_group_ids=vpc.get("security_group_ids"),
        subnets=vpc.get("subnets"),
        encrypt_inter_container_traffic=spec.get("encrypt_inter_container_traffic"),
    )


def processor_arguments(ctx: BuildContext, spec: dict, tags) -> dict:
    """What every processor takes, on either SDK: role, resources, limits, environment, keys,
    network (`tags` in the SDK's own form: dicts on v2, Tag shapes on v3)."""
    return dict(
        role=ctx.role,
        instance_type=ctx.expr.value(spec["instance_type"]),
        instance_count=ctx.expr.value(spec.get("instance_count", 1)),
        volume_size_in_gb=spec.get("volume_size_gb", 30),
        max_runtime_in_seconds=spec.get("max_runtime_seconds"),
        env=spec.get("environment"),
        base_job_name=spec.get("base_job_name"),
        tags=tags,
        volume_kms_key=spec.get("volume_kms_key"),
        output_kms_key=spec.get("output_kms_key") or ctx.spec["session"].get("kms_key"),  # as training's
        network_config=network_config(spec, ctx.sdk),
        sagemaker_session=ctx.session,
    )


def property_files(ctx: BuildContext, step: dict) -> list | None:
    """A processing step's PropertyFiles, noted for the JsonGet of `{step, property_file, json_path}`."""
    found = []
    for declared in step.get("property_files", []):
        prop = ctx.cls("PropertyFile")(name=declared["name"], output_name=declared["output"], path=declared["path"])
        ctx.expr.property_files[(step["name"], declared["name"])] = prop
        found.append(prop)
    return found or None


@builder("processing")
def processing(ctx: BuildContext, step: dict):
    from sagemaker.processing import FrameworkProcessor, ProcessingInput, ProcessingOutput, ScriptProcessor
    from sagemaker.sklearn.processing import SKLearnProcessor
    from sagemaker.workflow.steps import ProcessingStep

    spec = step["processor"]
    common = processor_arguments(ctx, spec, _tags(spec))
    framework = spec.get("framework")
    if spec.get("image_uri"):
        processor = ScriptProcessor(image_uri=spec["image_uri"], command=spec.get("command") or ["python3"], **common)
    elif framework == "pyspark":
        from sagemaker.spark.processing import PySparkProcessor

        processor = PySparkProcessor(framework_version=spec["framework_version"], py_version=spec.get("py_version"), **common)
    elif framework == "sklearn" and not step.get("source_dir"):
        processor = SKLearnProcessor(framework_version=spec["framework_version"], **common)
    else:
        processor = _framework_processor(spec, common)
    inputs = [
        ProcessingInput(source=ctx.expr.value(i["source"]), destination=i["destination"], input_name=i["name"])
        for i in step.get("inputs", [])
    ]
    outputs = [
        ProcessingOutput(output_name=o["name"], source=o["source"], destination=ctx.expr.value(o.get("destination")))
        for o in step.get("outputs", [])
    ]
    arguments = [ctx.expr.value(container_argument(a)) for a in step.get("arguments", [])] or None
    if framework == "pyspark" and not spec.get("image_uri"):
        step_args = processor.run(submit_app=step["code"], inputs=inputs or None, outputs=outputs or None, arguments=arguments)
    elif isinstance(processor, FrameworkProcessor):
        # FrameworkProcessor takes the script relative to source_dir (validation keeps it directly inside).
        code = PurePosixPath(step["code"]).name if step.get("source_dir") else step["code"]
        step_args = processor.run(
            code=code, source_dir=step.get("source_dir"), inputs=inputs or None, outputs=outputs or None, arguments=arguments
        )
    else:
        step_args = processor.run(code=step["code"], inputs=inputs or None, outputs=outputs or None, arguments=arguments)
    return ProcessingStep(step["name"], step_args=step_args, property_files=property_files(ctx, step), **ctx.common(step, cacheable=True))


# Each framework's FrameworkProcessor (module, class, default py_version); sklearn has none of its
# own, so it is FrameworkProcessor over the SKLearn estimator.
FRAMEWORK_PROCESSORS = {
    "tensorflow": ("sagemaker.tensorflow.processing", "TensorFlowProcessor", "py310"),
    "pytorch": ("sagemaker.pytorch.processing", "PyTorchProcessor", "py310"),
    "xgboost": ("sagemaker.xgboost.processing", "XGBoostProcessor", "py3"),
    "sklearn": ("sagemaker.processing", "FrameworkProcessor", "py3"),
}


def _framework_processor(spec: dict, common: dict):
    """A FrameworkProcessor: runproc.sh unpacks the code (and pip-installs requirements.txt) on
    the framework's image, then runs the script with `python`."""
    import importlib

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


def _estimator(ctx: BuildContext, step: dict):
    import importlib

    spec = step["estimator"]
    common = dict(
        role=ctx.role,
        instance_type=ctx.expr.value(spec["instance_type"]),
        instance_count=ctx.expr.value(spec.get("instance_count", 1)),
        hyperparameters={k: ctx.expr.value(v) for k, v in (step.get("hyperparameters") or {}).items()},
        output_kms_key=step.get("output_kms_key") or ctx.spec["session"].get("kms_key"),
        output_path=step.get("output_path"),
        volume_size=spec.get("volume_size_gb", 30),
        max_run=spec.get("max_runtime_seconds", 24 * 60 * 60),
        environment=spec.get("environment"),
        base_job_name=spec.get("base_job_name"),
        tags=_tags(spec),
        volume_kms_key=spec.get("volume_kms_key"),
        enable_network_isolation=spec.get("enable_network_isolation", False),
        encrypt_inter_container_traffic=spec.get("encrypt_inter_container_traffic", False),
        subnets=(spec.get("vpc") or {}).get("subnets"),
        security_group_ids=(spec.get("vpc") or {}).get("security_group_ids"),
        use_spot_instances=spec.get("use_spot_instances", False),
        max_wait=spec.get("max_wait_seconds"),
        checkpoint_s3_uri=spec.get("checkpoint_s3_uri"),
        metric_definitions=[{"Name": m["name"], "Regex": m["regex"]} for m in spec.get("metric_definitions", [])] or None,
        disable_profiler=True,
        debugger_hook_config=False,
        sagemaker_session=ctx.session,
    )
    if spec.get("image_uri"):
        from sagemaker.estimator import Estimator

        script = {"entry_point": step["entry_point"], "source_dir": step["source_dir"]} if step.get("entry_point") else {}
        return Estimator(image_uri=spec["image_uri"], **script, **common)
    if spec.get("mode") == "builtin":  # SageMaker's built-in algorithm: its image, hyperparameters only
        from sagemaker import image_uris
        from sagemaker.estimator import Estimator

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
    return framework(entry_point=step["entry_point"], source_dir=step["source_dir"], **extra, **common)


def channels(ctx: BuildContext, step: dict) -> dict:
    """A training or tuning step's inputs as the SDK's TrainingInput channels."""
    from sagemaker.inputs import TrainingInput

    return {ch["name"]: TrainingInput(s3_data=ctx.expr.value(ch["source"]), content_type=ch.get("content_type")) for ch in step["inputs"]}


@builder("training")
def training(ctx: BuildContext, step: dict):
    from sagemaker.workflow.steps import TrainingStep

    estimator = _estimator(ctx, step)
    # Resolve the image now so an unsupported version is reported at this step, not at definition().
    estimator.training_image_uri()
    ctx.estimators[step["name"]] = (estimator, step)
    return TrainingStep(step["name"], step_args=estimator.fit(inputs=channels(ctx, step)), **ctx.common(step, cacheable=True))


# Each framework's SDK Model class (module, class): the framework's SageMaker inference image.
FRAMEWORK_MODELS = {
    "tensorflow": ("sagemaker.tensorflow", "TensorFlowModel"),
    "pytorch": ("sagemaker.pytorch", "PyTorchModel"),
    "sklearn": ("sagemaker.sklearn", "SKLearnModel"),
    "xgboost": ("sagemaker.xgboost", "XGBoostModel"),
    "huggingface": ("sagemaker.huggingface", "HuggingFaceModel"),
}


def _inference_code_location(ctx: BuildContext, step: dict, source: dict, index: int | None) -> dict:
    """Where the SDK uploads inference code: under a hash of its files, as training code is, so
    the key (and the definition) depends only on the code. Without it the SDK names the upload
    after a timestamp, and every compile would change the definition."""
    from sagemaker.workflow.utilities import hash_files_or_dirs

    suffix = "" if index is None else f"-{index + 1}"
    return {
        "code_location": ctx.pipeline_uri("code", hash_files_or_dirs([source["source_dir"]])),
        "name": f"{ctx.spec['name']}-{step['name']}"[: 63 - len(suffix)].strip("-") + suffix,
    }


def _model(ctx: BuildContext, step: dict):
    """The SDK Model of a register or create step: one model, or a PipelineModel of 2-15 whose
    containers serve in order (an inference pipeline)."""
    if isinstance(step["model"], dict):
        return _one_model(ctx, step, step["model"], None)
    from sagemaker.pipeline import PipelineModel

    models = [_one_model(ctx, step, source, index) for index, source in enumerate(step["model"])]
    return PipelineModel(models=models, role=ctx.role, sagemaker_session=ctx.session)


def _one_model(ctx: BuildContext, step: dict, source: dict, index: int | None):
    """The SDK Model serving a training step's artifact. With an inference entry_point the SDK
    repacks the artifact with the code (a _RepackModelStep training job before the model step)."""
    import importlib

    common = dict(role=ctx.role, env=source.get("environment"), sagemaker_session=ctx.session)
    if source.get("entry_point"):
        common.update(entry_point=source["entry_point"], source_dir=source.get("source_dir"))
        common.update(_inference_code_location(ctx, step, source, index))
    if not source.get("training_step"):  # an artifact you name, on the image you name
        from sagemaker.model import Model

        return Model(image_uri=source["image_uri"], model_data=ctx.expr.value(source["model_data"]), **common)
    _, training_spec = ctx.estimators[source["training_step"]]
    estimator = training_spec["estimator"]
    if training_spec["kind"] == "tuning":  # the best training job's model
        common["model_data"] = ctx.expr.best_models[source["training_step"]]
    else:
        common["model_data"] = ctx.built[source["training_step"]].properties.ModelArtifacts.S3ModelArtifacts
    version = source.get("framework_version") or estimator.get("framework_version")
    if source.get("image_uri") or estimator.get("mode") == "builtin":
        from sagemaker import image_uris
        from sagemaker.model import Model

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


def model_statistics(ctx: BuildContext, step: dict):
    """The spec's model_metrics.model_statistics as the SDK's MetricsSource, or None."""
    declared = step.get("model_metrics")
    if not declared:
        return None
    return ctx.cls("MetricsSource")(
        s3_uri=ctx.expr.value(declared["model_statistics"]), content_type=declared.get("content_type", "application/json")
    )


@builder("register_model")
def register_model(ctx: BuildContext, step: dict):
    from sagemaker.workflow.model_step import ModelStep

    from sagespec.compiler.quality import registered_checks

    statistics = model_statistics(ctx, step)
    step_args = _model(ctx, step).register(
        content_types=step["content_types"],
        response_types=step["response_types"],
        inference_instances=[ctx.expr.value(i) for i in step["inference_instances"]],
        transform_instances=[ctx.expr.value(i) for i in step.get("transform_instances", [])] or None,
        # A full ARN of a group in another account is passed through unchanged.
        model_package_group_name=ctx.expr.value(step["model_package_group"]),
        approval_status=step.get("approval_status", "PendingManualApproval"),
        **registered_checks(ctx, step, statistics),
        customer_metadata_properties=step.get("customer_metadata"),
        description=step.get("description"),
    )
    common = ctx.common(step)
    common.pop("description", None)  # it describes the model package, not the step
    return ModelStep(step["name"], step_args=step_args, **common)


@builder("create_model")
def create_model(ctx: BuildContext, step: dict):
    from sagemaker.workflow.model_step import ModelStep

    step_args = _model(ctx, step).create(instance_type=ctx.expr.value(step["instance_type"]))
    return ModelStep(step["name"], step_args=step_args, **ctx.common(step))
