"""`kind: tuning`: a TuningStep running a HyperparameterTuner over the step's estimator.

The tuner takes the same estimator a training step builds (`compiler.v2.jobs.estimator_of`); what is its
own is the search (HyperParameterTuningJobConfig) and three things the SDK would otherwise name
after the clock: the tuning job name it uploads code under, the code's S3 key and the output
path. TuningStep gets no code hash from the SDK (workflow.utilities.get_code_hash knows Training
and Processing only), so the code goes under `<prefix>/<pipeline>/code/<hash of the code>` as a
training step's does, and the compile stays byte-identical for the same code.
"""

from __future__ import annotations

import re
from typing import Any

from sagemaker.parameter import CategoricalParameter, ContinuousParameter, IntegerParameter
from sagemaker.tuner import HyperbandStrategyConfig, HyperparameterTuner, StrategyConfig, WarmStartConfig, WarmStartTypes
from sagemaker.workflow.functions import Join
from sagemaker.workflow.steps import TuningStep
from sagemaker.workflow.utilities import get_training_code_hash

from sagespec.compiler.build import BuildContext, builder
from sagespec.compiler.sdk import SdkObject
from sagespec.compiler.v2.jobs import channels, estimator_of
from sagespec.definition import TUNING_JOB_NAME_LENGTH


def _job_name(step: dict[str, Any]) -> str:
    return re.sub(r"[^A-Za-z0-9-]", "-", step["name"])[:TUNING_JOB_NAME_LENGTH].strip("-") or "tuning"


def output_path(ctx: BuildContext, step: dict[str, Any]) -> str:
    """Where each training job writes <job name>/output/model.tar.gz: the step's output_path, else
    the SDK's default for an estimator in a pipeline session (the session's bucket and prefix,
    s3://<bucket>/<prefix>/), so the definition is the one the SDK builds."""
    if step.get("output_path"):
        return str(step["output_path"]).rstrip("/")
    session = ctx.spec["session"]
    return "/".join(k for k in (f"s3://{session['default_bucket']}", session.get("default_bucket_prefix")) if k) + "/"


def _code_location(ctx: BuildContext, step: dict[str, Any]) -> str | None:
    if not step.get("entry_point"):
        return None
    return ctx.pipeline_uri(
        "code",
        # The SDK takes source_dir None (and hashes the entry point); its annotation says str.
        get_training_code_hash(
            step["entry_point"],
            ctx.code(step["source_dir"]) if step.get("source_dir") else None,  # type: ignore[arg-type]
            [],
        ),
    )


def _range(declared: dict[str, Any]) -> CategoricalParameter | IntegerParameter | ContinuousParameter:
    if declared["type"] == "categorical":
        values = [v if not isinstance(v, bool) else str(v).lower() for v in declared["values"]]
        return CategoricalParameter(values)  # type: ignore[no-untyped-call]  # the SDK's __init__ has no annotations
    cls = IntegerParameter if declared["type"] == "integer" else ContinuousParameter
    low, high = declared["min"], declared["max"]
    if declared["type"] == "integer":
        low, high = int(low), int(high)
    return cls(low, high, scaling_type=declared.get("scaling", "Auto"))


def _warm_start(ctx: BuildContext, declared: dict[str, Any] | None) -> WarmStartConfig | None:
    if not declared:
        return None
    # The parents' job names are known at run time: their steps' HyperParameterTuningJobName.
    parents = [ctx.built[p].properties.HyperParameterTuningJobName for p in declared["parents"]]
    # The SDK annotates `parents` as a set and makes one of whatever it is given (set(parents)).
    return WarmStartConfig(WarmStartTypes(declared.get("type", "IdenticalDataAndAlgorithm")), parents=parents)  # type: ignore[arg-type]


def _strategy_config(declared: dict[str, Any]) -> StrategyConfig | None:
    bounds = declared.get("hyperband")
    if declared.get("strategy") != "Hyperband" or not bounds:
        return None
    return StrategyConfig(HyperbandStrategyConfig(max_resource=bounds.get("max_resource"), min_resource=bounds.get("min_resource")))


@builder("tuning")
def tuning(ctx: BuildContext, step: dict[str, Any]) -> TuningStep:
    estimator = estimator_of(ctx, {**step, "output_path": output_path(ctx, step)})
    estimator.training_image_uri()  # an unsupported version is reported at this step
    estimator.code_location = _code_location(ctx, step)
    declared = step["tuning"]
    strategy = declared.get("strategy", "Bayesian")
    tuner = HyperparameterTuner(
        estimator,
        objective_metric_name=declared["objective"]["metric"],
        objective_type=declared["objective"]["type"],
        hyperparameter_ranges={name: _range(r) for name, r in declared["ranges"].items()},
        metric_definitions=estimator.metric_definitions,
        strategy=strategy,
        max_jobs=declared.get("max_jobs"),
        max_parallel_jobs=declared.get("max_parallel_jobs", 1),
        early_stopping_type=declared.get("early_stopping", "Off"),
        random_seed=declared.get("random_seed"),
        warm_start_config=_warm_start(ctx, declared.get("warm_start")),
        strategy_config=_strategy_config(declared),
        base_tuning_job_name=_job_name(step),
    )
    ctx.estimators[step["name"]] = (estimator, step)
    fitted = tuner.fit(inputs=channels(ctx, step), job_name=_job_name(step))
    built = TuningStep(step["name"], step_args=fitted, **ctx.common(step, cacheable=True))
    ctx.expr.best_models[step["name"]] = _best_model_artifacts(ctx, step, built)
    return built


def _best_model_artifacts(ctx: BuildContext, step: dict[str, Any], built: TuningStep) -> SdkObject:
    """The best training job's model.tar.gz: TuningStep.get_top_model_s3_uri(0) under the
    step's output path (a Join of the path and the job name when the path holds references)."""
    path = output_path(ctx, step)
    if "${" not in path:
        bucket, _, prefix = path[len("s3://") :].rstrip("/").partition("/")
        return built.get_top_model_s3_uri(top_k=0, s3_bucket=bucket, prefix=prefix)
    best = built.properties.TrainingJobSummaries[0].TrainingJobName
    return Join(on="/", values=[ctx.expr.value(path), best, "output/model.tar.gz"])
