"""Condition operands: property-file reads must name a file the step declares, with a valid JSON path,
and ordering comparisons need numbers on both sides."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from sagespec.spec.checks.base import CheckContext, rule
from sagespec.spec.references import Reference, is_single_reference, references_in

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sagespec.spec.source import Path as JsonPath

# The JsonGet path language SageMaker evaluates: dotted keys with optional [n] indexes.
JSON_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*(\[\d+\])*(\.[A-Za-z_][A-Za-z0-9_-]*(\[\d+\])*)*")
ORDERING = {"greater_than", "greater_than_or_equal_to", "less_than", "less_than_or_equal_to"}


def check_json_get(ctx: CheckContext, get: dict[str, Any], path: JsonPath) -> None:
    steps = ctx.steps_by_name
    step_name, file_name, json_path = get.get("step"), get.get("property_file"), get.get("json_path")
    if step_name in steps:
        step = steps[step_name][1]
        declared = [p["name"] for _, p in ctx.named_items(step, "property_files")]
        if step.get("kind") != "processing":
            ctx.report(
                "E4001", f"step '{step_name}' is a {step.get('kind')} step; property files come from processing steps", path + ("step",)
            )
        elif file_name not in declared:
            ctx.report(
                "E4001",
                f"step '{step_name}' declares no property file '{file_name}'",
                path + ("property_file",),
                hint=f"its property files: {', '.join(declared) or 'none'} (declare one under property_files)",
            )
    elif isinstance(step_name, str):
        ctx.report("E3001", f"property-file read names an unknown step '{step_name}'", path + ("step",), hint=f"steps: {', '.join(steps)}")
    if isinstance(json_path, str) and not JSON_PATH.fullmatch(json_path):
        ctx.report(
            "E4003",
            f"'{json_path}' is not a JSON path SageMaker's JsonGet can read",
            path + ("json_path",),
            hint="dotted keys with optional [n] indexes, e.g. regression_metrics.mse.value",
        )


def operand_kind(ctx: CheckContext, operand: object) -> tuple[str, str]:
    """(kind, description) of an operand: kind is number | string | boolean | unknown."""
    if isinstance(operand, bool):
        return "boolean", f"the literal {str(operand).lower()}"
    if isinstance(operand, (int, float)):
        return "number", f"the literal {operand}"
    if isinstance(operand, dict):
        return "unknown", "a property-file value"
    if isinstance(operand, str) and is_single_reference(operand):
        ref: Reference = references_in(operand)[0]
        if ref.form == "params" and ref.name in ctx.parameters:
            declared = ctx.parameters[ref.name].get("type") if isinstance(ctx.parameters[ref.name], dict) else None
            kinds = {"Integer": "number", "Float": "number", "String": "string", "Boolean": "boolean"}
            kind = kinds.get(declared, "unknown") if isinstance(declared, str) else "unknown"
            return kind, f"{ref.text} ({declared} parameter)"
        return "unknown", ref.text
    return "string", f"the string {operand!r}"


def leaves(condition: object, path: JsonPath) -> Iterator[tuple[dict[str, Any], JsonPath]]:
    """(condition, path) of each comparison and `in` inside a condition, through or/not."""
    if not isinstance(condition, dict):
        return
    if isinstance(condition.get("or"), list):
        for k, member in enumerate(condition["or"]):
            yield from leaves(member, path + ("or", k))
    elif "not" in condition:
        yield from leaves(condition["not"], path + ("not",))
    else:
        yield condition, path


@rule
def condition_operands(ctx: CheckContext) -> None:
    for i, step in ctx.steps():
        for j, top in enumerate(step.get("conditions") or []):
            for condition, base in leaves(top, ("steps", i, "conditions", j)):
                _check_leaf(ctx, condition, base)
        inputs = step.get("inputs") if step.get("kind") in ("lambda", "callback") else None
        for key, value in (inputs or {}).items() if isinstance(inputs, dict) else []:
            if isinstance(value, dict):
                check_json_get(ctx, value, ("steps", i, "inputs", key))


def _check_leaf(ctx: CheckContext, condition: dict[str, Any], base: JsonPath) -> None:
    operator = condition.get("operator")
    if operator == "in":
        operands = [("value", condition.get("value"))] + [(("values", k), v) for k, v in enumerate(condition.get("values") or [])]
        for where, operand in operands:
            if isinstance(operand, dict):
                check_json_get(ctx, operand, base + (where if isinstance(where, tuple) else (where,)))
        return
    for side in ("left", "right"):
        if isinstance(condition.get(side), dict):
            check_json_get(ctx, condition[side], base + (side,))
    kinds = {side: operand_kind(ctx, condition.get(side)) for side in ("left", "right")}
    if operator in ORDERING:
        for side, (kind, shown) in kinds.items():
            if kind in ("string", "boolean"):
                ctx.report(
                    "E4008",
                    f"{operator} compares numbers, but the {side} side is {shown}",
                    base + (side,),
                    hint="use an Integer or Float parameter, a number, or a property-file value",
                )
    else:
        (lk, ls), (rk, rs) = kinds["left"], kinds["right"]
        if "unknown" not in (lk, rk) and lk != rk:
            ctx.report("W4001", f"{operator} compares {ls} with {rs}; they can never be equal", base)
