"""Tuning jobs SageMaker would refuse, found before the upsert.

Sources: "Understand the hyperparameter tuning strategies" (Grid takes categorical ranges only and
runs every combination; MaxNumberOfTrainingJobs, if given, must equal their number), the API
reference's HyperParameterTuningJobConfig (Hyperband needs TrainingJobEarlyStoppingType OFF;
StrategyConfig only with Hyperband), "Define Hyperparameter Ranges" (Logarithmic scaling needs
values above 0, ReverseLogarithmic values in [0, 1)), HyperParameterTuningJobObjective (the
metric must be one the training job emits: one of its metric definitions, or for the built-in
XGBoost algorithm one of its own metrics, sagespec.aws.builtin_xgboost) and WarmStartConfig
(parents are earlier tuning jobs).
"""

from __future__ import annotations

import math
from typing import Any

from sagespec.aws import builtin_xgboost
from sagespec.spec.checks.base import CheckContext, rule


def combinations(ranges: dict[str, Any]) -> int:
    """How many training jobs a Grid search runs: the product of the categorical ranges' sizes."""
    return math.prod(len(r.get("values") or []) for r in ranges.values() if isinstance(r, dict))


def _range_problem(declared: dict[str, Any]) -> tuple[str, str] | None:
    """(message, key at fault) for a range its type or scaling cannot take, else None."""
    low, high = declared.get("min"), declared.get("max")
    if not isinstance(low, (int, float)) or not isinstance(high, (int, float)):
        return None
    if declared.get("type") == "integer" and (low != int(low) or high != int(high)):
        return "an integer range needs whole min and max", "min"
    if low > high:
        return f"min {low:g} is above max {high:g}", "min"
    scaling = declared.get("scaling", "Auto")
    if scaling == "Logarithmic" and low <= 0:
        return "Logarithmic scaling needs min above 0", "scaling"
    if scaling == "ReverseLogarithmic" and (declared.get("type") == "integer" or low < 0 or high >= 1):
        return "ReverseLogarithmic scaling takes continuous ranges within 0 <= min <= max < 1", "scaling"
    return None


@rule
def tuning_jobs_are_valid(ctx: CheckContext) -> None:
    steps = ctx.steps_by_name
    for i, step in ctx.steps():
        tuning = step.get("tuning")
        if step.get("kind") != "tuning" or not isinstance(tuning, dict):
            continue
        where = ("steps", i, "tuning")
        ranges = tuning["ranges"] if isinstance(tuning.get("ranges"), dict) else {}
        estimator = step["estimator"] if isinstance(step.get("estimator"), dict) else {}
        objective = tuning["objective"] if isinstance(tuning.get("objective"), dict) else {}
        metrics = [m["name"] for m in estimator.get("metric_definitions") or [] if isinstance(m, dict) and isinstance(m.get("name"), str)]
        builtin = estimator.get("mode") == "builtin"
        if (
            builtin
            and estimator.get("framework") == "xgboost"
            and isinstance(objective.get("metric"), str)
            and not builtin_xgboost.is_metric(objective["metric"])
        ):
            ctx.report(
                "E4017",
                f"tuning step '{step['name']}' optimises '{objective['metric']}', which the built-in XGBoost algorithm does not report",
                where + ("objective", "metric"),
                hint='its metrics ("Tune an XGBoost model"): train: or validation: followed by '
                + ", ".join(builtin_xgboost.OBJECTIVE_METRICS),
            )
        if objective.get("metric") and not builtin and objective["metric"] not in metrics:
            ctx.report(
                "E4017",
                f"tuning step '{step['name']}' optimises '{objective['metric']}', which no metric definition of its estimator reads",
                where + ("objective", "metric"),
                hint=f"its metrics: {', '.join(metrics)}" if metrics else "add estimator.metric_definitions: [{name: ..., regex: ...}]",
            )
        for name, declared in ranges.items():
            if not isinstance(declared, dict):
                continue
            if name in (step.get("hyperparameters") or {}):
                ctx.report(
                    "E4017",
                    f"hyperparameter '{name}' is both tuned and static in step '{step['name']}'",
                    where + ("ranges", name),
                    hint="remove it from hyperparameters (the tuning job sets it)",
                    key=True,
                )
            problem = _range_problem(declared)
            if problem:
                ctx.report("E4017", f"range '{name}': {problem[0]}", where + ("ranges", name, problem[1]))
        strategy = tuning.get("strategy", "Bayesian")
        if strategy == "Grid":
            others = [n for n, r in ranges.items() if isinstance(r, dict) and r.get("type") != "categorical"]
            if others:
                ctx.report(
                    "E4017",
                    f"a Grid search takes categorical ranges only; {', '.join(others)} {'is' if len(others) == 1 else 'are'} not",
                    where + ("ranges", others[0], "type"),
                    hint="list the values to try (type: categorical, values: [...]), or use Random or Bayesian",
                )
            elif isinstance(tuning.get("max_jobs"), int) and tuning["max_jobs"] != combinations(ranges):
                ctx.report(
                    "E4017",
                    f"a Grid search runs every combination ({combinations(ranges)}); max_jobs {tuning['max_jobs']} must equal that or be left out",
                    where + ("max_jobs",),
                )
        elif not isinstance(tuning.get("max_jobs"), int):
            ctx.report("E4017", f"a {strategy} search needs max_jobs (MaxNumberOfTrainingJobs)", where, hint="e.g. max_jobs: 10")
        if strategy == "Hyperband" and tuning.get("early_stopping", "Off") != "Off":
            message = "Hyperband stops jobs early by itself: early_stopping must be Off"
            ctx.report("E4017", message, where + ("early_stopping",))
        if strategy != "Hyperband" and tuning.get("hyperband"):
            ctx.report("E4017", f"hyperband settings apply to strategy Hyperband, not {strategy}", where + ("hyperband",), key=True)
        limit, parallel = tuning.get("max_jobs"), tuning.get("max_parallel_jobs")
        if isinstance(limit, int) and isinstance(parallel, int) and parallel > limit:
            ctx.report("E4017", f"max_parallel_jobs {parallel} is above max_jobs {limit}", where + ("max_parallel_jobs",))
        for j, parent in enumerate(((tuning.get("warm_start") or {}).get("parents")) or []):
            if parent in steps and steps[parent][1].get("kind") != "tuning":
                ctx.report(
                    "E3005",
                    f"warm_start of step '{step['name']}' names '{parent}', a {steps[parent][1].get('kind')} step",
                    where + ("warm_start", "parents", j),
                    hint="warm start from an earlier tuning step",
                )
            elif parent not in steps:
                ctx.report(
                    "E3001", f"warm_start of step '{step['name']}' names an unknown step '{parent}'", where + ("warm_start", "parents", j)
                )
