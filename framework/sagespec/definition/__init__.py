"""The compiled pipeline definition: the contract every backend consumes, read in one place.

A definition is the JSON the SageMaker SDK's `Pipeline.definition()` returns (schema version
2020-12-01, see "Pipeline definition JSON schema" in the SageMaker Developer Guide):
`Parameters` (Name, Type, DefaultValue, EnumValues), `Steps` (Name, Type, Arguments, DependsOn,
PropertyFiles, CacheConfig; a Condition step holds further steps in Arguments.IfSteps and
Arguments.ElseSteps) and expressions (`{"Get": "Steps.S.<property path>"}`). The compiler writes
it, `upsert` sends it, `diff` compares two, the local executor runs it. Nothing else parses it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sagespec.diagnostics import UserError

if TYPE_CHECKING:
    from mypy_boto3_sagemaker.type_defs import ParameterTypeDef

BRANCHES = ("IfSteps", "ElseSteps")
# HyperParameterTuningJobName: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31} (API reference): what the
# compiler names a tuning job after and what a local run names it, both held to it.
TUNING_JOB_NAME_LENGTH = 32
_STEP_REFERENCE = re.compile(r'"Steps\.([A-Za-z0-9_-]+)([.\[][^"]*)"')


def canonical_json(definition: dict[str, Any]) -> str:
    """Sorted keys and fixed indentation: stable bytes for golden files, caches and diffs."""
    return json.dumps(definition, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def compact_json(definition: dict[str, Any]) -> str:
    """What upsert sends: SageMaker limits PipelineDefinition to 100 KB, so no indentation (still sorted)."""
    return json.dumps(definition, sort_keys=True, separators=(",", ":"))


# ---- parameters ----------------------------------------------------------------------------


def parameters(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Declared parameters by name, in declaration order."""
    return {p["Name"]: p for p in definition.get("Parameters", [])}


def defaults(definition: dict[str, Any]) -> dict[str, Any]:
    """Each parameter's default, typed as the definition stores it (None where there is none)."""
    return {name: p.get("DefaultValue") for name, p in parameters(definition).items()}


def typed_value(kind: str, text: str) -> int | float | bool | str:
    """A parameter value as an execution sees it (SageMaker passes strings; the type says how to read them)."""
    readers: dict[str, Callable[[str], int | float | bool | str]] = {"Integer": int, "Float": float, "Boolean": lambda v: v == "true"}
    return readers.get(kind, str)(text)


def typed_overrides(definition: dict[str, Any], overrides: dict[str, str], pipeline: str) -> list[ParameterTypeDef]:
    """`--param NAME=VALUE` checked against the declared parameters, as StartPipelineExecution's
    PipelineParameters ([{"Name", "Value"}], values as canonical strings)."""
    declared = parameters(definition)
    out: list[ParameterTypeDef] = []
    for name, value in overrides.items():
        if name not in declared:
            raise UserError(
                "E6006",
                f"pipeline '{pipeline}' has no parameter '{name}'",
                hint=f"its parameters: {', '.join(declared) or 'none'}",
                exit_code=2,
            )
        kind = declared[name]["Type"]
        try:
            if kind == "Integer":
                value = str(int(value))
            elif kind == "Float":
                value = repr(float(value))
            elif kind == "Boolean":
                if value.lower() not in ("true", "false"):
                    raise ValueError
                value = value.lower()
        except ValueError:
            raise UserError("E6007", f"parameter '{name}' of pipeline '{pipeline}' is {kind}; '{value}' is not", exit_code=2) from None
        enum = declared[name].get("EnumValues")
        if enum and value not in enum:
            raise UserError("E6007", f"parameter '{name}' must be one of {', '.join(enum)}; got '{value}'", exit_code=2)
        out.append({"Name": name, "Value": value})
    return out


def execution_parameters(
    definition: dict[str, Any], overrides: dict[str, str], pipeline: str, base: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The typed parameter values of an execution: defaults, then `base` (a retried execution's), then overrides."""
    values = defaults(definition)
    values.update({k: v for k, v in (base or {}).items() if k in values})
    kinds = {name: p["Type"] for name, p in parameters(definition).items()}
    for item in typed_overrides(definition, overrides, pipeline):
        values[item["Name"]] = typed_value(kinds[item["Name"]], item["Value"])
    return values


# ---- steps ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlacedStep:
    step: dict[str, Any]
    where: str  # "top level", "if branch of C", "else branch of C"
    condition: str | None  # the condition step whose branch holds it

    @property
    def name(self) -> str:
        name: str = self.step["Name"]
        return name

    @property
    def type(self) -> str:
        kind: str = self.step["Type"]
        return kind


def walk_steps(definition: dict[str, Any]) -> Iterator[PlacedStep]:
    """Every step, condition branches included, parents before their branch steps."""

    def walk(steps: list[dict[str, Any]], where: str, condition: str | None) -> Iterator[PlacedStep]:
        for step in steps:
            yield PlacedStep(step, where, condition)
            if step.get("Type") == "Condition":
                arguments = step.get("Arguments", {})
                yield from walk(arguments.get("IfSteps", []), f"if branch of {step['Name']}", step["Name"])
                yield from walk(arguments.get("ElseSteps", []), f"else branch of {step['Name']}", step["Name"])

    yield from walk(definition.get("Steps", []), "top level", None)


def steps(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """name -> step for every step, branches included."""
    return {placed.name: placed.step for placed in walk_steps(definition)}


def step_needs(definition: dict[str, Any]) -> dict[str, set[str]]:
    """step -> what it waits for: its data dependencies and DependsOn, and the condition whose
    branch holds it (the scheduler's and the selective execution's graph)."""
    return {p.name: data_dependencies(p.step) | ({p.condition} if p.condition else set()) for p in walk_steps(definition)}


def without_branches(step: dict[str, Any]) -> dict[str, Any]:
    """A condition step with its branches named, not nested (what belongs to the step itself)."""
    if step.get("Type") != "Condition":
        return step
    arguments = dict(step["Arguments"])
    for branch in BRANCHES:
        arguments[branch] = [s["Name"] for s in arguments.get(branch, [])]
    return {**step, "Arguments": arguments}


def top_level_count(definition: dict[str, Any]) -> int:
    return len(definition.get("Steps", []))


# ---- property references -------------------------------------------------------------------


def referenced_steps(value: object, prefix: str | None = None) -> set[str]:
    """Names of the steps `value` reads properties of (`{"Get": "Steps.S...."}`), optionally only
    those whose property path starts with `prefix` (e.g. "ModelArtifacts")."""
    found: set[str] = set()
    for name, path in _STEP_REFERENCE.findall(json.dumps(value)):
        if prefix is None or path.lstrip(".").startswith(prefix):
            found.add(name)
    return found


def data_dependencies(step: dict[str, Any]) -> set[str]:
    """What must finish before `step` runs: the steps it reads properties of, and its DependsOn.

    A condition's branch steps are not its dependencies (they run after it)."""
    own = without_branches(step)
    own = {**own, "Arguments": {k: v for k, v in own.get("Arguments", {}).items() if k not in BRANCHES}}
    return (referenced_steps(own) | set(step.get("DependsOn", []))) - {step["Name"]}
