"""Names must be unique where SageMaker looks them up: steps, and inputs/outputs/property files/channels within a step."""

from __future__ import annotations

from sagespec.spec.checks.base import CheckContext, rule


@rule
def duplicate_step_names(ctx: CheckContext) -> None:
    seen: dict[str, int] = {}
    for i, step in ctx.steps():
        name = step["name"]
        if name in seen:
            ctx.report(
                "E3006",
                f"step name '{name}' is already used by steps[{seen[name]}]",
                ("steps", i, "name"),
                hint="step names must be unique within a pipeline",
            )
        else:
            seen[name] = i


@rule
def duplicate_names_in_steps(ctx: CheckContext) -> None:
    for i, step in ctx.steps():
        for key in ("inputs", "outputs", "property_files"):
            seen: set[str] = set()
            for j, item in ctx.named_items(step, key):
                if item["name"] in seen:
                    ctx.report("E3008", f"step '{step['name']}' has two {key} named '{item['name']}'", ("steps", i, key, j, "name"))
                seen.add(item["name"])


@rule
def property_file_outputs_exist(ctx: CheckContext) -> None:
    for i, step in ctx.steps():
        outputs = [o["name"] for _, o in ctx.named_items(step, "outputs")]
        for j, prop in ctx.named_items(step, "property_files"):
            output = prop.get("output")
            if isinstance(output, str) and output not in outputs:
                ctx.report(
                    "E4002",
                    f"property file '{prop['name']}' of step '{step['name']}' names output '{output}', which the step does not have",
                    ("steps", i, "property_files", j, "output"),
                    hint=f"outputs of this step: {', '.join(outputs) or 'none'}",
                )
