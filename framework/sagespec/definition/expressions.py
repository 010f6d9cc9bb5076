"""Evaluating the expressions of a pipeline definition: Get, Std:Join, Std:JsonGet, conditions.

{"Get": "Parameters.X"}                      the execution's parameter value
{"Get": "Execution.PipelineExecutionId"}     an execution variable
{"Get": "Steps.S.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri"}   a step property
{"Std:Join": {"On": "/", "Values": [...]}}   values joined as strings
{"Std:JsonGet": {"PropertyFile": {"Get": "Steps.S.PropertyFiles.F"}, "Path": "a.b[0].c"}}
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

_TOKEN = re.compile(r"\.?([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")


class EvaluationError(Exception):
    pass


def path_tokens(path: str) -> list[str | int]:
    tokens: list[str | int] = []
    pos = 0
    while pos < len(path):
        m = _TOKEN.match(path, pos)
        if not m:
            raise EvaluationError(f"cannot read property path {path!r} at {path[pos:]!r}")
        name, index, key1, key2 = m.groups()
        tokens.append(int(index) if index is not None else (name if name is not None else (key1 if key1 is not None else key2)))
        pos = m.end()
    return tokens


def walk(value: Any, tokens: Sequence[str | int], where: str) -> Any:
    for token in tokens:
        try:
            value = value[token]
        except (KeyError, IndexError, TypeError):
            raise EvaluationError(f"{where} has no {token!r}") from None
    return value


@dataclass
class Context:
    parameters: dict[str, Any]
    execution: dict[str, Any]  # PipelineExecutionId, PipelineName, ...
    steps: dict[str, Any] = field(default_factory=dict)  # step name -> properties (DescribeX-shaped, Outputs keyed by name)
    read_property_file: Callable[[str, str], Any] | None = None  # (step, file name) -> parsed JSON

    def get(self, reference: str) -> Any:
        head, _, rest = reference.partition(".")
        if head == "Parameters":
            if rest not in self.parameters:
                raise EvaluationError(f"unknown parameter {rest}")
            return self.parameters[rest]
        if head == "Execution":
            if rest not in self.execution:
                raise EvaluationError(f"unknown execution variable {rest}")
            return self.execution[rest]
        if head == "Steps":
            # A step name may hold hyphens (a ModelStep's "Create-CreateModel"); the path after it may not.
            named = re.match(r"[A-Za-z0-9_-]*", rest)  # always matches, maybe empty
            step = named.group(0) if named else ""
            tokens = [step, *path_tokens(rest[len(step) :])]
            if step not in self.steps:
                raise EvaluationError(f"step {step} has not run")
            if len(tokens) >= 3 and tokens[1] == "PropertyFiles":
                return {"step": step, "property_file": tokens[2]}
            return walk(self.steps[step], tokens[1:], f"step {step}")
        raise EvaluationError(f"cannot resolve {reference!r}")

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if set(value) == {"Get"}:
            return self.get(value["Get"])
        if set(value) == {"Std:Join"}:
            join = value["Std:Join"]
            return str(join.get("On", "")).join(_text(self.resolve(v)) for v in join["Values"])
        if set(value) == {"Std:JsonGet"}:
            spec = value["Std:JsonGet"]
            target = self.resolve(spec["PropertyFile"])
            if self.read_property_file is None:
                raise EvaluationError(f"cannot read property file {target['property_file']} here")
            document = self.read_property_file(target["step"], target["property_file"])
            return walk(document, path_tokens(spec["Path"]), f"property file {target['property_file']}")
        return {k: self.resolve(v) for k, v in value.items()}


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "Equals": lambda a, b: a == b,
    "GreaterThan": lambda a, b: a > b,
    "GreaterThanOrEqualTo": lambda a, b: a >= b,
    "LessThan": lambda a, b: a < b,
    "LessThanOrEqualTo": lambda a, b: a <= b,
}


def condition_holds(condition: dict[str, Any], ctx: Context) -> bool:
    kind = condition["Type"]
    if kind in _COMPARE:
        left, right = ctx.resolve(condition["LeftValue"]), ctx.resolve(condition["RightValue"])
        if kind != "Equals":
            left, right = float(left), float(right)
        return _COMPARE[kind](left, right)
    if kind == "Not":
        # The service reads a Not's operand from "Condition" and refuses "Expression"
        # (sagemaker-python-sdk issue 2746; the SDK's ConditionNot.to_request writes "Condition").
        return not condition_holds(condition["Condition"], ctx)
    if kind == "Or":
        return any(condition_holds(c, ctx) for c in condition["Conditions"])
    if kind == "In":
        value = ctx.resolve(condition["QueryValue"])
        return value in [ctx.resolve(v) for v in condition["Values"]]
    raise EvaluationError(f"unsupported condition type {kind}")


def _operand_label(value: object) -> str:
    if isinstance(value, dict) and "Get" in value:
        return str(value["Get"])
    if isinstance(value, dict) and "Std:JsonGet" in value:
        return str(value["Std:JsonGet"]["Path"])
    return json.dumps(value)


def describe(condition: dict[str, Any], ctx: Context) -> str:
    """A nested condition as a person reads it, each part with its values and outcome."""
    kind = condition["Type"]
    if kind == "Or":
        return "or(" + ", ".join(describe(c, ctx) for c in condition["Conditions"]) + f"): {str(condition_holds(condition, ctx)).lower()}"
    if kind == "Not":
        return f"not({describe(condition['Condition'], ctx)})"
    if kind == "In":
        value, values = ctx.resolve(condition["QueryValue"]), [ctx.resolve(v) for v in condition["Values"]]
        return f"{_operand_label(condition['QueryValue'])} {json.dumps(value)} in {json.dumps(values)}: {str(value in values).lower()}"
    left, right = ctx.resolve(condition["LeftValue"]), ctx.resolve(condition["RightValue"])
    return f"{_operand_label(condition['LeftValue'])} {json.dumps(left)} {kind} {json.dumps(right)}: {str(condition_holds(condition, ctx)).lower()}"


def explain(conditions: list[dict[str, Any]], ctx: Context) -> list[dict[str, Any]]:
    """What a condition step compared, for its summary: each comparison's property-file path
    and values; an or, not or in described whole (`describe`)."""
    evaluated = []
    for c in conditions:
        if "LeftValue" not in c:
            evaluated.append({"Type": c["Type"], "Left": describe(c, ctx), "LeftValue": None, "RightValue": None})
            continue
        left = c["LeftValue"]
        label = left["Std:JsonGet"]["Path"] if isinstance(left, dict) and "Std:JsonGet" in left else "left"
        evaluated.append({"Type": c["Type"], "Left": label, "LeftValue": ctx.resolve(left), "RightValue": ctx.resolve(c["RightValue"])})
    return evaluated
