"""Quality checks SageMaker would refuse or could not use, found before the upsert.

Sources: the SDK's ModelQualityCheckConfig and Model Monitor's model quality job (a problem type,
the ground truth, and the prediction or its probability), QualityCheckStep (supplied baselines
go in pairs: statistics and constraints) and ModelMetrics (one ModelDataQuality, one ModelQuality).
"""

from __future__ import annotations

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


def filled_slots(checks: dict[str | None, str]) -> dict[str, str]:
    """ModelMetrics / DriftCheckBaselines slot -> the quality_check step that fills it, from
    {check kind: step name}: a check fills its kind's statistics and constraints in both."""
    return {
        f"{'model_data' if check == 'data_quality' else 'model'}_{part}": name
        for check, name in checks.items()
        for part in ("statistics", "constraints")
    }


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
            if found[1].get("kind") != "quality_check":
                ctx.report(
                    "E3005", f"quality_checks of '{step['name']}': '{name}' is a {found[1].get('kind')} step, not a quality_check", where
                )
                continue
            check = found[1].get("check")
            if check in kinds:
                ctx.report("E4020", f"'{kinds[check]}' and '{name}' are both {check} checks; a version records one of each", where)
            kinds[check] = name
        filled = filled_slots(kinds)
        for key in ("model_metrics", "drift_check_baselines"):
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
