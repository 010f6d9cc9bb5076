"""Containers: a framework image runs a script; your own image brings its own program.

A framework estimator (tensorflow, pytorch, sklearn, xgboost, huggingface) needs its
framework_version and the script it runs (entry_point in source_dir), as the SDK's framework
estimators do; huggingface also needs pytorch_version (its images are versioned by both). An
`image_uri` estimator needs neither. A framework processor may take a source_dir, which holds the
script at its root (FrameworkProcessor runs it from there); an image_uri or pyspark processor
takes none. A registered or created model is served by its framework's inference image, with an
inference script where that container needs one, or by your own image_uri.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from sagespec.aws import builtin_xgboost
from sagespec.spec.checks.base import CheckContext, rule
from sagespec.spec.files import inside
from sagespec.spec.references import model_sources, processing_code

if TYPE_CHECKING:
    from sagespec.spec.source import Path as JsonPath

BUILTIN = {"xgboost"}
# kind -> (the key holding its container, what the container is called, the frameworks it takes)
CONTAINERS = {
    "training": ("estimator", "estimator", "tensorflow|pytorch|sklearn|xgboost|huggingface"),
    "tuning": ("estimator", "estimator", "tensorflow|pytorch|sklearn|xgboost|huggingface"),
    "processing": ("processor", "processor", "sklearn|tensorflow|pytorch|xgboost|pyspark"),
}


def _one_container(ctx: CheckContext, i: int, step: dict[str, Any]) -> tuple[dict[str, Any], str | None] | None:
    """The step's container spec and its framework when it names exactly one container (a
    framework with its version, or an image_uri); None after reporting what is wrong."""
    key, called, frameworks = CONTAINERS[step["kind"]]
    container = step.get(key)
    if not isinstance(container, dict):
        return None
    framework, image = container.get("framework"), container.get("image_uri")
    where = ("steps", i, key)
    if framework and image:
        ctx.report("E4014", f"step '{step['name']}' names both a framework ({framework}) and an image_uri", where + ("image_uri",))
    elif not framework and not image:
        hint = f"framework: {frameworks} with framework_version, or image_uri: your own image"
        ctx.report("E4014", f"the {called} of step '{step['name']}' names no container", where, hint=hint)
    elif framework and not container.get("framework_version"):
        ctx.report("E4014", f"a {framework} {called} needs framework_version", where + ("framework",), hint="e.g. framework_version: 1.2-1")
    else:
        return container, framework
    return None


@rule
def containers_are_named_once(ctx: CheckContext) -> None:
    for i, step in ctx.steps():
        found = _one_container(ctx, i, step) if step.get("kind") in CONTAINERS else None
        if found is None:
            continue
        container, framework = found
        if step["kind"] == "processing":
            if container.get("command") and not container.get("image_uri"):
                message = "command applies to an image_uri processor (a framework image runs python3)"
                ctx.report("E4014", message, ("steps", i, "processor", "command"), key=True)
            _processing_source(ctx, i, step, framework)
            continue
        if (framework == "huggingface") != bool(container.get("pytorch_version")):
            if framework == "huggingface":
                ctx.report(
                    "E4014",
                    "a huggingface estimator needs pytorch_version (its image is versioned by transformers and PyTorch)",
                    ("steps", i, "estimator", "framework"),
                    hint="e.g. framework_version: 4.49.0 with pytorch_version: 2.5.1",
                )
            else:
                ctx.report(
                    "E4014", "pytorch_version applies to a huggingface estimator", ("steps", i, "estimator", "pytorch_version"), key=True
                )
        if framework and container.get("mode") == "builtin":
            _builtin(ctx, i, step, framework)
        elif framework:
            missing = [k for k in ("entry_point", "source_dir") if not step.get(k)]
            if missing:
                ctx.report(
                    "E4014",
                    f"step '{step['name']}' runs a {framework} script: it needs {' and '.join(missing)}",
                    ("steps", i),
                    hint="the framework image runs entry_point from source_dir (script mode)",
                )


@rule
def metric_regexes_capture_a_value(ctx: CheckContext) -> None:
    """SageMaker takes each metric's value from the regex's first group ("Define metrics")."""

    for i, step in ctx.steps():
        estimator = step["estimator"] if isinstance(step.get("estimator"), dict) else {}
        for j, metric in enumerate(estimator.get("metric_definitions") or []):
            regex = metric.get("regex") if isinstance(metric, dict) else None
            if not isinstance(regex, str):
                continue
            where = ("steps", i, "estimator", "metric_definitions", j, "regex")
            try:
                groups = re.compile(regex).groups
            except re.error as exc:
                ctx.report("E4014", f"metric '{metric.get('name')}': {regex!r} is not a regular expression ({exc})", where)
                continue
            if groups < 1:
                ctx.report(
                    "E4014",
                    f"metric '{metric.get('name')}': {regex!r} captures no value",
                    where,
                    hint="put the value in a group: 'rmse:([0-9.]+)'",
                )


# The compiler's default MaxRuntimeInSeconds when max_runtime_seconds is not given (24 h).
DEFAULT_MAX_RUNTIME = 24 * 60 * 60


@rule
def spot_settings_agree(ctx: CheckContext) -> None:
    """Managed spot training (CreateTrainingJob StoppingCondition): MaxWaitTimeInSeconds is
    required with EnableManagedSpotTraining, allowed only with it, and at least MaxRuntimeInSeconds."""
    for i, step in ctx.steps():
        estimator = step["estimator"] if isinstance(step.get("estimator"), dict) else {}
        spot, wait = estimator.get("use_spot_instances"), estimator.get("max_wait_seconds")
        where = ("steps", i, "estimator")
        runtime = estimator.get("max_runtime_seconds") or DEFAULT_MAX_RUNTIME
        if spot and wait is None:
            ctx.report(
                "E4015",
                "spot training needs max_wait_seconds (how long to wait for capacity, at least max_runtime_seconds)",
                where + ("use_spot_instances",),
            )
        elif wait is not None and not spot:
            ctx.report("E4015", "max_wait_seconds applies only with use_spot_instances: true", where + ("max_wait_seconds",))
        elif spot and isinstance(wait, int) and isinstance(runtime, int) and wait < runtime:
            default = "" if estimator.get("max_runtime_seconds") else " (the default, 24 h)"
            ctx.report(
                "E4015",
                f"max_wait_seconds {wait} is below max_runtime_seconds {runtime}{default}: SageMaker refuses a spot job that cannot wait as long as it runs",
                where + ("max_wait_seconds",),
                hint="raise max_wait_seconds or lower max_runtime_seconds",
            )


@rule
def isolated_jobs_install_nothing(ctx: CheckContext) -> None:
    """With network isolation the container has no outbound network ("Run Training and Inference
    Containers in Internet-Free Mode"), but a requirements.txt in a script's source_dir is
    pip-installed from the network when the job starts (by the training toolkit, or by
    FrameworkProcessor's runproc.sh): that job would fail on SageMaker."""

    root = ctx.project_root.resolve()
    for i, step in ctx.steps():
        kind = step.get("kind")
        key = CONTAINERS[kind][0] if kind in CONTAINERS else None
        container = step[key] if key and isinstance(step.get(key), dict) else {}
        source = step.get("source_dir")
        if not key or not container.get("enable_network_isolation") or not isinstance(source, str):
            continue
        requirements = (root / source / "requirements.txt").resolve()
        if inside(requirements, root) and requirements.is_file():
            ctx.report(
                "E4015",
                f"enable_network_isolation leaves the job no network, but {source}/requirements.txt is pip-installed from it when the job starts",
                ("steps", i, key, "enable_network_isolation"),
                hint="install the requirements into your own image_uri, or drop the isolation",
            )


def _processing_source(ctx: CheckContext, i: int, step: dict[str, Any], framework: str | None) -> None:
    """source_dir goes with a FrameworkProcessor, which runs the script from the folder's root;
    a Spark configuration and event log path with a PySparkProcessor."""
    for key in ("configuration", "spark_event_logs_s3_uri"):
        if key in step and framework != "pyspark":
            ctx.report("E4014", f"{key} applies to a pyspark processor (PySparkProcessor.run)", ("steps", i, key), key=True)
    source, code = step.get("source_dir"), processing_code(step)
    if not isinstance(source, str):
        return
    if framework in (None, "pyspark"):
        called = "an image_uri processor" if framework is None else "a pyspark processor (it submits code alone)"
        ctx.report("E4014", f"source_dir applies to a framework processor, not {called}", ("steps", i, "source_dir"), key=True)
    elif isinstance(code, str) and PurePosixPath(code).parent != PurePosixPath(source):
        ctx.report(
            "E4014",
            f"code {code} is not directly in source_dir {source}: FrameworkProcessor runs the script from the folder's root",
            ("steps", i, "code"),
            hint=f"code: {PurePosixPath(source) / PurePosixPath(code).name}",
        )


def _builtin(ctx: CheckContext, i: int, step: dict[str, Any], framework: str) -> None:
    where = ("steps", i, "estimator", "mode")
    if framework not in BUILTIN:
        ctx.report("E4014", f"SageMaker has no built-in {framework} algorithm", where, hint="built-in mode: framework: xgboost")
        return
    for key in ("entry_point", "source_dir"):
        if step.get(key):
            ctx.report("E4014", f"the built-in xgboost algorithm runs no script: remove {key}", ("steps", i, key), key=True)
    hyperparameters = step["hyperparameters"] if isinstance(step.get("hyperparameters"), dict) else {}
    version = step["estimator"].get("framework_version")
    version = version if isinstance(version, str) else None
    accepted = builtin_xgboost.hyperparameters(version)
    for name in hyperparameters:
        if name not in accepted:
            elsewhere = [v for v in builtin_xgboost.versions() if name in builtin_xgboost.hyperparameters(v)]
            ctx.report(
                "E4014",
                f"'{name}' is not a hyperparameter of the built-in xgboost algorithm {version or ''}".rstrip(),
                ("steps", i, "hyperparameters", name),
                key=True,
                hint=f"container {elsewhere[-1]} takes it" if elsewhere else None,
            )
    tuning: dict[str, Any] = step["tuning"] if isinstance(step.get("tuning"), dict) else {}
    ranges: dict[str, Any] = tuning["ranges"] if isinstance(tuning.get("ranges"), dict) else {}
    for name in ranges:  # a tuning job sets them as hyperparameters of each training job
        if name not in accepted:
            ctx.report(
                "E4014",
                f"range '{name}' is not a hyperparameter of the built-in xgboost algorithm {version or ''}".rstrip(),
                ("steps", i, "tuning", "ranges", name),
                key=True,
            )
    if "num_round" not in hyperparameters and "num_round" not in ranges:
        ctx.report("E4014", "the built-in xgboost algorithm needs the num_round hyperparameter", ("steps", i), hint="e.g. num_round: 100")


# Frameworks whose SageMaker inference container needs your inference script (model_fn): the
# scikit-learn and XGBoost (script mode) containers load no model by themselves (the SDK's Model
# classes take entry_point as required). PyTorch's loads a TorchScript model.pt by itself
# (sagemaker-pytorch-inference-toolkit's default model_fn); with a script its Model repacks (below).
NEEDS_INFERENCE_SCRIPT = {"sklearn", "xgboost"}


@rule
def registered_models_can_be_served(ctx: CheckContext) -> None:
    """A register or create step names how its model is served: the framework's inference image
    (with an inference script where that container needs one), or your own image_uri."""
    steps = ctx.steps_by_name
    for i, step in ctx.steps():
        if step.get("kind") not in ("register_model", "create_model"):
            continue
        for below, source in model_sources(step):
            training = source.get("training_step")
            _servable(ctx, step, source, steps.get(training) if isinstance(training, str) else None, ("steps", i, *below))


def _servable(
    ctx: CheckContext, step: dict[str, Any], source: dict[str, Any], training: tuple[int, dict[str, Any]] | None, where: JsonPath
) -> None:
    """One model of a register or create step (`where` locates it) names how it is served."""
    estimator = training[1].get("estimator") if training else None
    if not isinstance(estimator, dict) or source.get("image_uri"):
        return
    framework = estimator.get("framework")
    if framework in ("pytorch", "huggingface") and source.get("entry_point"):
        ctx.report(
            "E4014",
            f"step '{step['name']}' serves a {framework} model with an inference script: the SDK repacks it in a "
            "_RepackModelStep whose code upload is named after a timestamp, so the definition would change on every compile; "
            "sagespec does not build that step yet",
            where,
            hint="drop entry_point to use the container's default handlers"
            + (" (a TorchScript model.pt)" if framework == "pytorch" else "")
            + ", or serve it with your own image: model: {training_step: ..., image_uri: <inference image with the code>}",
        )
    elif not framework:
        ctx.report(
            "E4014",
            f"step '{step['name']}' serves the model of '{source['training_step']}', trained on your own image: name its serving image",
            where,
            hint="model: {training_step: ..., image_uri: <your inference image>}",
        )
    elif framework in NEEDS_INFERENCE_SCRIPT and estimator.get("mode") != "builtin" and not source.get("entry_point"):
        ctx.report(
            "E4014",
            f"step '{step['name']}' serves a {framework} model: its inference container needs model.entry_point (a script with model_fn)",
            where,
            hint="model: {training_step: ..., source_dir: inference_code, entry_point: inference.py}",
        )
    elif source.get("entry_point") and not source.get("source_dir"):
        ctx.report("E4014", f"model.entry_point of step '{step['name']}' needs model.source_dir, the folder it is in", where)


# CreateTrainingJob's TrainingJobName (and CreateProcessingJob's ProcessingJobName): the pattern
# botocore's SageMaker model gives, at most 63 characters.
JOB_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")


@rule
def custom_job_prefixes_are_job_names(ctx: CheckContext) -> None:
    """In a pipeline SageMaker names each job itself and a base_job_name only shapes the SDK's S3
    paths, so any the SDK takes is fine (the examples' "abalone/preprocess"). With
    settings.custom_job_prefix (PipelineDefinitionConfig use_custom_job_prefix) it becomes the
    job's name, which SageMaker allows only as letters, digits and hyphens."""
    settings = ctx.data.get("settings")
    if not (isinstance(settings, dict) and settings.get("custom_job_prefix") is True):
        return
    for i, step in ctx.steps():
        for key in ("estimator", "processor", None):
            holder = step.get(key) if key else step
            name = holder.get("base_job_name") if isinstance(holder, dict) else None
            if isinstance(name, str) and not JOB_NAME.match(name):
                ctx.report(
                    "E4015",
                    f"base_job_name {name!r} of step '{step['name']}' cannot be a job name, which it is with settings.custom_job_prefix",
                    ("steps", i, key, "base_job_name") if key else ("steps", i, "base_job_name"),
                    hint="a job name is letters, digits and hyphens, at most 63 (or leave custom_job_prefix off)",
                )
