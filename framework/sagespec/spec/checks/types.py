"""Parameter types: defaults match their declared type, and a whole-value ${params.X} sits only where
SageMaker accepts that type (an Integer where an instance count goes, a String for an instance type)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import yaml

from sagespec.spec.checks.base import CheckContext, rule
from sagespec.spec.references import is_single_reference, references_in

if TYPE_CHECKING:
    from sagespec.spec.source import Path as JsonPath

_PYTHON_TYPES = {
    "String": (str,),
    "Integer": (int,),
    "Float": (int, float),
    "Boolean": (bool,),
}

# (key suffix of the path, expected parameter type). Integer indexes in paths are skipped.
_FIELD_TYPES = {
    ("processor", "instance_type"): "String",
    ("estimator", "instance_type"): "String",
    ("processor", "instance_count"): "Integer",
    ("estimator", "instance_count"): "Integer",
    ("processor", "volume_size_gb"): "Integer",
    ("estimator", "volume_size_gb"): "Integer",
    ("processor", "max_runtime_seconds"): "Integer",
    ("estimator", "max_runtime_seconds"): "Integer",
    ("inputs", "content_type"): "String",
    ("input", "content_type"): "String",
    ("inference_instances",): "String",
    ("transform_instances",): "String",
    ("instance_type",): "String",
    ("inputs", "source"): "String",
    ("outputs", "destination"): "String",
    ("model_metrics", "model_statistics"): "String",
}


def _value_matches(kind: str, value: object) -> bool:
    expected = _PYTHON_TYPES[kind]
    if kind != "Boolean" and isinstance(value, bool):
        return False
    return isinstance(value, expected)


@rule
def parameter_defaults(ctx: CheckContext) -> None:
    for name, decl in ctx.parameters.items():
        if not isinstance(decl, dict) or decl.get("type") not in _PYTHON_TYPES:
            continue
        kind = decl["type"]
        if "default" in decl and not _value_matches(kind, decl["default"]):
            ctx.report(
                "E4008",
                f"default {decl['default']!r} of parameter '{name}' is not a {kind}",
                ("parameters", name, "default"),
                hint=_default_hint(kind, decl["default"]),
            )
        if "enum" in decl:
            if kind != "String":
                ctx.report("E4008", f"parameter '{name}' is a {kind}; only String parameters take enum", ("parameters", name, "enum"))
            elif "default" in decl and decl["default"] not in decl["enum"]:
                ctx.report(
                    "E4008",
                    f"default {decl['default']!r} of parameter '{name}' is not in its enum",
                    ("parameters", name, "default"),
                    hint="allowed: " + ", ".join(map(str, decl["enum"])),
                )


def _default_hint(kind: str, value: object) -> str | None:
    if kind == "String":
        return 'quote values meant as strings, e.g. "1.0"'
    if isinstance(value, str):
        try:
            unquoted = yaml.safe_load(value) if value.strip() else None
        except yaml.YAMLError:  # not YAML on its own (control characters, a lone "{"): no unquoting hint
            unquoted = None
        if _value_matches(kind, unquoted):
            return f"remove the quotes: default: {value}"
    return {"Integer": "write a whole number, e.g. 10", "Float": "write a number, e.g. 0.5", "Boolean": "write true or false"}.get(kind)


def _expected(path: JsonPath) -> str | None:
    keys = tuple(p for p in path if isinstance(p, str))
    for suffix, kind in _FIELD_TYPES.items():
        if keys[-len(suffix) :] == suffix:
            return kind
    return None


@rule
def parameter_uses(ctx: CheckContext) -> None:
    for i, step in ctx.steps():
        for path, text in ctx.step_strings(i):
            if "${params." not in text or not is_single_reference(text):
                continue
            ref = references_in(text)[0]
            decl = ctx.parameters.get(ref.name)
            expected = _expected(path)
            if not isinstance(decl, dict) or expected is None or decl.get("type") == expected:
                continue
            field = ".".join(p for p in path[2:] if isinstance(p, str))
            ctx.report(
                "E4008",
                f"{ref.text} is a {decl.get('type')} parameter, but {field} of step '{step['name']}' needs {'an' if str(expected)[:1] in 'AEIOU' else 'a'} {expected}",
                path,
                hint=f"declare '{ref.name}' with type: {expected}, or use another parameter",
            )
