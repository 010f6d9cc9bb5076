"""Quality and Clarify checks SageMaker would refuse or could not use, found before the upsert.

Sources: the SDK's ModelQualityCheckConfig and Model Monitor's model quality job (a problem type,
the ground truth, and the prediction or its probability), QualityCheckStep (supplied baselines
go in pairs: statistics and constraints), ClarifyCheckStep's three check configs (which keys each
takes) and ModelMetrics (one ModelDataQuality, one ModelQuality, one Bias, one Explainability).
"""

from __future__ import annotations

from typing import Any

from sagespec.spec.checks.base import CheckContext, rule

MODEL_ONLY = ("problem_type", "inference_attribute", "probability_attribute", "probability_threshold_attribute", "ground_truth_attribute")


@rule
def quality_checks_are_complete(ctx: CheckContext) -> None:
    for i, step in ctx.steps():
        if step.get("kind") != "quality_check":
            continue
        where = ("steps", i)
        if step.get("check") == "model_quality":
            for key in ("problem_type", "ground_truth_attribute"):
                if not step.get(key):
                    ctx.report("E4020", f"model quality check '{step['name']}' needs {key}", where + ("check",))
            if not step.get("inference_attribute") and not step.get("probability_attribute"):
                ctx.report(
                    "E4020",
                    f"model quality check '{step['name']}' needs inference_attribute or probability_attribute",
                    where + ("check",),
                    hint="the column of the prediction (headerless CSV columns are _c0, _c1, ...)",
                )
        elif step.get("check") == "data_quality":
            for key in MODEL_ONLY:
                if key in step:
                    ctx.report(
                        "E4020", f"{key} belongs to a model quality check; '{step['name']}' checks data quality", where + (key,), key=True
                    )
        supplied = [key for key in ("supplied_baseline_statistics", "supplied_baseline_constraints") if step.get(key)]
        if len(supplied) == 1:
            other = "supplied_baseline_constraints" if supplied[0] == "supplied_baseline_statistics" else "supplied_baseline_statistics"
            ctx.report(
                "E4020", f"{supplied[0]} of '{step['name']}' needs {other} too: a baseline is both", where + (supplied[0],), key=True
            )


# What each check kind fills of a registered version: (ModelMetrics slots, DriftCheckBaselines
# slots), as the SDK's examples register them. A *_statistics slot takes the check's statistics,
# a *_config_file slot Clarify's monitoring analysis config, every other slot its constraints.
CHECK_SLOTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "data_quality": (("model_data_statistics", "model_data_constraints"), ("model_data_statistics", "model_data_constraints")),
    "model_quality": (("model_statistics", "model_constraints"), ("model_statistics", "model_constraints")),
    "data_bias": (("bias_pre_training",), ("bias_pre_training_constraints", "bias_config_file")),
    "model_bias": (("bias_post_training",), ("bias_post_training_constraints", "bias_config_file")),
    "model_explainability": (("explainability",), ("explainability_constraints", "explainability_config_file")),
}
CLARIFY_ONLY = {
    "bias": ("data_bias", "model_bias"),
    "methods": ("data_bias", "model_bias"),
    "model": ("model_bias", "model_explainability"),
    "predicted_label": ("model_bias",),
    "shap": ("model_explainability",),
    "model_scores": ("model_explainability",),
}


def filled_slots(checks: dict[str | None, str]) -> tuple[dict[str, str], dict[str, str]]:
    """(ModelMetrics slot -> the check step that fills it, DriftCheckBaselines slot -> step), from
    {check kind: step name}. One bias config file serves both bias checks: the model bias check's
    when there is one, as the SDK's example registers it (both are built from the bias config,
    headers and label alone, so with the same settings they are the same file)."""
    metrics: dict[str, str] = {}
    drift: dict[str, str] = {}
    for check in CHECK_SLOTS:  # data_bias before model_bias: the model bias config wins
        if check in checks:
            metrics.update(dict.fromkeys(CHECK_SLOTS[check][0], checks[check]))
            drift.update(dict.fromkeys(CHECK_SLOTS[check][1], checks[check]))
    return metrics, drift


@rule
def clarify_checks_are_complete(ctx: CheckContext) -> None:
    for i, step in ctx.steps():
        if step.get("kind") != "clarify_check":
            continue
        check = step.get("check")
        if check not in ("data_bias", "model_bias", "model_explainability"):
            continue  # the schema names a missing or unknown check
        for key, checks in CLARIFY_ONLY.items():
            if key in step and check not in checks:
                ctx.report(
                    "E4020",
                    f"{key} belongs to a {' or '.join(checks)} check; '{step['name']}' is a {check} check",
                    ("steps", i, key),
                    key=True,
                )
        _clarify_configs(ctx, i, step)


def _mapping(step: dict[str, Any], key: str) -> dict[str, Any]:
    found = step.get(key)
    return found if isinstance(found, dict) else {}


def _clarify_configs(ctx: CheckContext, i: int, step: dict[str, Any]) -> None:
    """What the SDK's DataConfig, BiasConfig, ModelConfig and SHAPConfig refuse, at the key."""
    where = ("steps", i)
    if step.get("dataset_type") in ("application/json", "application/jsonlines") and not step.get("features"):
        ctx.report(
            "E4020",
            f"'{step['name']}' reads {step['dataset_type']}: it needs features, the JMESPath of the features",
            where + ("dataset_type",),
        )
    bias = _mapping(step, "bias")
    facets, values = bias.get("facet_name"), bias.get("facet_values_or_threshold")
    if isinstance(facets, list) and isinstance(values, list) and len(facets) != len(values):
        ctx.report(
            "E4020",
            f"'{step['name']}' names {len(facets)} facets and {len(values)} facet_values_or_threshold: one list per facet",
            where + ("bias", "facet_values_or_threshold"),
        )
    model = _mapping(step, "model")
    content, template = model.get("content_type"), model.get("content_template")
    if content == "application/jsonlines" and "$features" not in str(template or ""):
        ctx.report(
            "E4020", f"'{step['name']}' sends application/jsonlines: content_template needs $features", where + ("model", "content_type")
        )
    if content == "application/json" and ("$record" not in str(template or "") or not model.get("record_template")):
        ctx.report(
            "E4020",
            f"'{step['name']}' sends application/json: it needs content_template with $record and record_template",
            where + ("model", "content_type"),
        )
    shap = _mapping(step, "shap")
    if "baseline" in shap and "num_clusters" in shap:
        ctx.report(
            "E4020",
            f"'{step['name']}' gives a SHAP baseline and num_clusters: num_clusters makes a baseline when none is given",
            where + ("shap", "num_clusters"),
            key=True,
        )


@rule
def registered_checks_are_quality_checks(ctx: CheckContext) -> None:
    steps = ctx.steps_by_name
    for i, step in ctx.steps():
        named = step.get("quality_checks")
        if step.get("kind") != "register_model" or not isinstance(named, list):
            continue
        kinds: dict[str | None, str] = {}  # check kind (None: not given) -> the step that checks it
        for j, name in enumerate(named):
            where = ("steps", i, "quality_checks", j)
            found = steps.get(name)
            if found is None:
                ctx.report("E3001", f"quality_checks of '{step['name']}' names an unknown step '{name}'", where)
                continue
            if found[1].get("kind") not in ("quality_check", "clarify_check"):
                ctx.report(
                    "E3005",
                    f"quality_checks of '{step['name']}': '{name}' is a {found[1].get('kind')} step, not a quality_check or clarify_check",
                    where,
                )
                continue
            check = found[1].get("check")
            if check in kinds:
                ctx.report("E4020", f"'{kinds[check]}' and '{name}' are both {check} checks; a version records one of each", where)
            kinds[check] = name
        for key, filled in zip(("model_metrics", "drift_check_baselines"), filled_slots(kinds)):
            declared = step.get(key)
            for slot in declared if isinstance(declared, dict) else ():
                if slot in filled:
                    ctx.report(
                        "E4020",
                        f"'{step['name']}' takes {key}.{slot} both from here and from the check '{filled[slot]}'",
                        ("steps", i, key, slot),
                        key=True,
                        hint="keep one: the check's baseline, or your own report",
                    )
