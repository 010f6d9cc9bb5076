"""Training containers: a framework image runs a script; your own image brings its own program.

A framework estimator (tensorflow, pytorch, sklearn, xgboost) needs its framework_version and the
script it runs (entry_point in source_dir), as the SDK's framework estimators do; an `image_uri`
estimator needs neither. Registering a model (register_model, create_model) is built with
TensorFlow's serving container only so far: the other frameworks' serving containers need an
inference script sagespec does not take yet, so such a step is refused here, not at compile.
"""

from __future__ import annotations

from sagespec.spec.checks import CheckContext, rule

SERVABLE = {"tensorflow"}


@rule
def estimators_name_one_container(ctx: CheckContext) -> None:
    for i, step in ctx.steps():
        estimator = step.get("estimator") if step.get("kind") == "training" else None
        if not isinstance(estimator, dict):
            continue
        framework, image = estimator.get("framework"), estimator.get("image_uri")
        where = ("steps", i, "estimator")
        if framework and image:
            ctx.report("E4014", f"step '{step['name']}' names both a framework ({framework}) and an image_uri", where + ("image_uri",))
        elif not framework and not image:
            ctx.report(
                "E4014",
                f"the estimator of step '{step['name']}' names no container",
                where,
                hint="framework: tensorflow|pytorch|sklearn|xgboost with framework_version, or image_uri: your own image",
            )
        elif framework:
            if not estimator.get("framework_version"):
                ctx.report(
                    "E4014",
                    f"a {framework} estimator needs framework_version",
                    where + ("framework",),
                    hint="e.g. framework_version: 1.2-1",
                )
            missing = [k for k in ("entry_point", "source_dir") if not step.get(k)]
            if missing:
                ctx.report(
                    "E4014",
                    f"step '{step['name']}' runs a {framework} script: it needs {' and '.join(missing)}",
                    ("steps", i),
                    hint="the framework image runs entry_point from source_dir (script mode)",
                )


@rule
def registered_models_can_be_served(ctx: CheckContext) -> None:
    steps = ctx.steps_by_name
    for i, step in ctx.steps():
        source = step.get("model") if step.get("kind") in ("register_model", "create_model") else None
        training = steps.get(source.get("training_step")) if isinstance(source, dict) else None
        estimator = training[1].get("estimator") if training else None
        if not isinstance(estimator, dict):
            continue
        container = estimator.get("framework") or "your own image"
        if container not in SERVABLE:
            ctx.report(
                "E4014",
                f"step '{step['name']}' serves the model of '{source['training_step']}' ({container}); sagespec builds TensorFlow serving models only so far",
                ("steps", i, "model", "training_step"),
                hint="train with framework: tensorflow to register, or register by hand with `sagespec models register --image`",
            )
