"""Which SageMaker Python SDK compiles a spec, and where each SDK keeps the classes sagespec builds.

v2 (`sagemaker` 2.x) keeps pipelines under `sagemaker.workflow`. v3 (`sagemaker` 3.x, four
packages: sagemaker-core, -train, -serve, -mlops) keeps the pipeline primitives (parameters,
functions, conditions, properties, PipelineSession) under `sagemaker.core.workflow` and the steps
under `sagemaker.mlops.workflow` (the v3 README's "What's new", and the packages' own layout).
The steps that orchestrate rather than run a job (condition, fail, lambda, callback, EMR) build
the same way on both, so their builders look their classes up here instead of importing them.

Both majors install as the distribution `sagemaker`, so one environment has one of them: the
installed major selects the backend, and `--sdk` (or SAGESPEC_SDK) only confirms or refuses.
"""

from __future__ import annotations

import importlib
from importlib import metadata
from typing import Any, TypeAlias

SDKS = ("v2", "v3")
# A class, module or object of the installed SageMaker Python SDK, looked up by name (sdk_class):
# v2 and v3 keep different classes in different places, and one environment holds one of them.
SdkObject: TypeAlias = Any

# class -> (its v2 module, its v3 module)
LOCATIONS: dict[str, tuple[str, str]] = {
    "Join": ("sagemaker.workflow.functions", "sagemaker.core.workflow.functions"),
    "JsonGet": ("sagemaker.workflow.functions", "sagemaker.core.workflow.functions"),
    "ExecutionVariable": ("sagemaker.workflow.execution_variables", "sagemaker.core.workflow.execution_variables"),
    "ExecutionVariables": ("sagemaker.workflow.execution_variables", "sagemaker.core.workflow.execution_variables"),
    "ParameterString": ("sagemaker.workflow.parameters", "sagemaker.core.workflow.parameters"),
    "ParameterInteger": ("sagemaker.workflow.parameters", "sagemaker.core.workflow.parameters"),
    "ParameterFloat": ("sagemaker.workflow.parameters", "sagemaker.core.workflow.parameters"),
    "ParameterBoolean": ("sagemaker.workflow.parameters", "sagemaker.core.workflow.parameters"),
    "PropertyFile": ("sagemaker.workflow.properties", "sagemaker.core.workflow.properties"),
    "PipelineSession": ("sagemaker.workflow.pipeline_context", "sagemaker.core.workflow.pipeline_context"),
    "PipelineDefinitionConfig": ("sagemaker.workflow.pipeline_definition_config", "sagemaker.core.workflow.pipeline_definition_config"),
    "conditions": ("sagemaker.workflow.conditions", "sagemaker.core.workflow.conditions"),  # a module
    "Pipeline": ("sagemaker.workflow.pipeline", "sagemaker.mlops.workflow.pipeline"),
    "CacheConfig": ("sagemaker.workflow.steps", "sagemaker.mlops.workflow.steps"),
    "ProcessingStep": ("sagemaker.workflow.steps", "sagemaker.mlops.workflow.steps"),
    "TrainingStep": ("sagemaker.workflow.steps", "sagemaker.mlops.workflow.steps"),
    "TransformStep": ("sagemaker.workflow.steps", "sagemaker.mlops.workflow.steps"),
    "ModelStep": ("sagemaker.workflow.model_step", "sagemaker.mlops.workflow.model_step"),
    "ConditionStep": ("sagemaker.workflow.condition_step", "sagemaker.mlops.workflow.condition_step"),
    "FailStep": ("sagemaker.workflow.fail_step", "sagemaker.mlops.workflow.fail_step"),
    "LambdaStep": ("sagemaker.workflow.lambda_step", "sagemaker.mlops.workflow.lambda_step"),
    "LambdaOutput": ("sagemaker.workflow.lambda_step", "sagemaker.mlops.workflow.lambda_step"),
    "LambdaOutputTypeEnum": ("sagemaker.workflow.lambda_step", "sagemaker.mlops.workflow.lambda_step"),
    "Lambda": ("sagemaker.lambda_helper", "sagemaker.core.lambda_helper"),
    "CallbackStep": ("sagemaker.workflow.callback_step", "sagemaker.mlops.workflow.callback_step"),
    "CallbackOutput": ("sagemaker.workflow.callback_step", "sagemaker.mlops.workflow.callback_step"),
    "CallbackOutputTypeEnum": ("sagemaker.workflow.callback_step", "sagemaker.mlops.workflow.callback_step"),
    "EMRStep": ("sagemaker.workflow.emr_step", "sagemaker.mlops.workflow.emr_step"),
    "EMRStepConfig": ("sagemaker.workflow.emr_step", "sagemaker.mlops.workflow.emr_step"),
    "StepRetryPolicy": ("sagemaker.workflow.retry", "sagemaker.mlops.workflow.retry"),
    "SageMakerJobStepRetryPolicy": ("sagemaker.workflow.retry", "sagemaker.mlops.workflow.retry"),
    "StepExceptionTypeEnum": ("sagemaker.workflow.retry", "sagemaker.mlops.workflow.retry"),
    "SageMakerJobExceptionTypeEnum": ("sagemaker.workflow.retry", "sagemaker.mlops.workflow.retry"),
    "MetricsSource": ("sagemaker.model_metrics", "sagemaker.core.model_metrics"),
    "FileSource": ("sagemaker.model_metrics", "sagemaker.core.model_metrics"),
    "ModelMetrics": ("sagemaker.model_metrics", "sagemaker.core.model_metrics"),
    "DriftCheckBaselines": ("sagemaker.drift_check_baselines", "sagemaker.core.drift_check_baselines"),
    "Transformer": ("sagemaker.transformer", "sagemaker.core.transformer"),
    "quality_check_step": ("sagemaker.workflow.quality_check_step", "sagemaker.mlops.workflow.quality_check_step"),  # a module
    "clarify_check_step": ("sagemaker.workflow.clarify_check_step", "sagemaker.mlops.workflow.clarify_check_step"),  # a module
    "clarify": ("sagemaker.clarify", "sagemaker.core.clarify"),  # a module
    "CheckJobConfig": ("sagemaker.workflow.check_job_config", "sagemaker.mlops.workflow.check_job_config"),
    "DatasetFormat": ("sagemaker.model_monitor.dataset_format", "sagemaker.core.model_monitor.dataset_format"),
    "NetworkConfig": ("sagemaker.network", "sagemaker.core.network"),
    "hash_files_or_dirs": ("sagemaker.workflow.utilities", "sagemaker.core.workflow.utilities"),
    "image_uris": ("sagemaker.image_uris", "sagemaker.core.image_uris"),  # a module
}


MODULES = ("conditions", "image_uris", "quality_check_step", "clarify_check_step", "clarify")  # looked up as modules, not classes


class SdkUnavailable(Exception):
    """The SDK a compile asked for is not the one installed (or none is)."""


def installed_version() -> str | None:
    try:
        return metadata.version("sagemaker")
    except metadata.PackageNotFoundError:
        return None


def installed() -> str | None:
    """ "v2" or "v3" for the installed `sagemaker`, None when there is none (or another major)."""
    version = installed_version()
    major = version.split(".", 1)[0] if version else ""
    return f"v{major}" if f"v{major}" in SDKS else None


def choose(asked: str | None = None) -> str:
    """The backend for a compile: the installed SDK's, confirmed against `asked` (--sdk, or SAGESPEC_SDK: sagespec.context)."""
    have, version = installed(), installed_version()
    if asked and asked not in SDKS:
        raise SdkUnavailable(f"unknown SDK '{asked}': choose one of {', '.join(SDKS)}")
    if have is None:
        found = f"sagemaker {version} is installed" if version else "no SageMaker Python SDK is installed"
        raise SdkUnavailable(f"{found}; sagespec compiles with SDK v2 or v3: pip install 'sagemaker>=2.257,<4'")
    if asked and asked != have:
        pins = {"v2": "'sagemaker>=2.257,<3'", "v3": "'sagemaker>=3,<4'"}
        raise SdkUnavailable(
            f"--sdk {asked} needs SageMaker Python SDK {asked}, but this environment has sagemaker {version} ({have}): "
            f"install {pins[asked]} in another environment, or compile with --sdk {have}"
        )
    return have


def sdk_class(sdk: str, name: str) -> SdkObject:
    """The class (or module, for MODULES) called `name` in SDK `sdk`."""
    module = LOCATIONS[name][SDKS.index(sdk)]
    if name in MODULES:
        return importlib.import_module(module)
    return getattr(importlib.import_module(module), name)
