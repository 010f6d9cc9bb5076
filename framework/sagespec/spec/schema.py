"""JSON Schema stage: validate a document against schemas/ and locate every error.

jsonschema reports JSON paths and generic messages; this module turns each error into one
`Diagnostic` with a rule ID, a message a person can act on, the line and column from the
document's source map, and a hint (allowed keys, "did you mean", the expected format).
"""

from __future__ import annotations

import functools
import importlib
import json
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sagespec.diagnostics import Diagnostic
from sagespec.diagnostics.suggest import did_you_mean
from sagespec.spec.source import Document
from sagespec.spec.source import Path as JsonPath

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

PIPELINE_SCHEMA = "pipeline.schema.json"

_CODE_BY_KEYWORD = {
    "additionalProperties": "E2001",
    "required": "E2002",
    "type": "E2003",
    "enum": "E2004",
    "const": "E2004",
    "pattern": "E2005",
    "format": "E2005",
    "propertyNames": "E2005",
    "anyOf": "E2007",
    "oneOf": "E2007",
    "not": "E2007",
}


def schema_path(name: str = PIPELINE_SCHEMA) -> Path:
    """Wheels carry schemas inside the package; a source checkout reads the top-level schemas/."""
    packaged = resources.files("sagespec") / "schemas" / name
    if packaged.is_file():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[3] / "schemas" / name


@functools.cache
def load_schema(name: str = PIPELINE_SCHEMA) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(schema_path(name).read_text(encoding="utf-8"))
    return loaded


def inline_references(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with every local `#/$defs/...` reference replaced by its target.

    Resolving `$ref` through `referencing` on every descent was a quarter of validation time. A
    reference back into a definition being expanded (nested conditions) is kept as it is; the
    validator resolves it against the `$defs` kept at the root. The file on disk stays the source of truth;
    this is an in-memory derivation of it. Keywords beside a `$ref` (descriptions) win.
    """

    def target_of(ref: str) -> Any:
        node: Any = schema
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def expand(node: Any, seen: tuple[str, ...] = ()) -> Any:
        if isinstance(node, list):
            return [expand(item, seen) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            if ref in seen:  # a recursive definition (a condition inside `or`/`not`) stays a reference
                return node
            target = expand(target_of(ref), seen + (ref,))
            return {**target, **{k: expand(v, seen) for k, v in node.items() if k != "$ref"}}
        return {k: (v if k == "$defs" else ecma_end(v) if k == "pattern" else expand(v, seen)) for k, v in node.items()}

    expanded: dict[str, Any] = expand(schema)
    return expanded


def ecma_end(pattern: object) -> object:
    """A JSON Schema pattern's final `$` means the end of the string (ECMA-262); in Python's `re` it
    also matches before a final newline, so "name\n" would pass `^[a-z]+$`. `\\Z` is the ECMA `$`."""
    if isinstance(pattern, str) and pattern.endswith("$") and not pattern.endswith("\\$"):
        return pattern[:-1] + "\\Z"
    return pattern


@functools.cache
def validator(name: str = PIPELINE_SCHEMA) -> Draft202012Validator:
    # start-up: jsonschema (~40 ms) only to explain a document jsonschema-rs found invalid
    from jsonschema import Draft202012Validator

    return Draft202012Validator(inline_references(load_schema(name)))


@functools.cache
def fast_validator(name: str = PIPELINE_SCHEMA) -> Any:
    """jsonschema-rs's validator of the schema as written (its regular expressions are ECMA-262's,
    as JSON Schema specifies), or None without jsonschema-rs. It only answers "valid or not", in
    microseconds; jsonschema explains the invalid ones (tests/test_schema.py holds the two to the
    same answer on every fixture)."""
    try:
        jsonschema_rs = importlib.import_module("jsonschema_rs")
    except ImportError:  # a platform without its wheel: every document takes the jsonschema path
        return None
    return jsonschema_rs.Draft202012Validator(load_schema(name), validate_formats=False)


def is_valid_fast(data: object, name: str = PIPELINE_SCHEMA) -> bool:
    """True when jsonschema-rs finds `data` valid; False when it does not, or cannot say (not
    installed, or a value JSON has no type for, such as a YAML date or NaN)."""
    checker = fast_validator(name)
    if checker is None:
        return False
    try:
        return bool(checker.is_valid(data))
    except (ValueError, TypeError, OverflowError):
        return False


def validate(document: Document, name: str = PIPELINE_SCHEMA) -> list[Diagnostic]:
    # Most documents are valid: jsonschema-rs says so 100x faster than jsonschema walks them.
    if is_valid_fast(document.data, name):
        return []
    found: list[Diagnostic] = []
    for error in validator(name).iter_errors(document.data):
        found.extend(_diagnose(error, document))
    unique = {(d.code, d.span, d.message): d for d in found}
    return sorted(unique.values(), key=lambda d: (d.span.file, d.span.line, d.span.col, d.code))


def _where(path: JsonPath, data: object) -> str:
    """A readable name for the place at `path`: "step 'Train' > estimator.instance_type" beats $.steps[1]...."""
    node, anchor, rest = data, "", ""
    for i, part in enumerate(path):
        node = _child(node, part)
        if i == 1 and path[0] == "steps" and isinstance(node, dict) and isinstance(node.get("name"), str):
            anchor, rest = f"step '{node['name']}'", ""
        elif isinstance(part, int):
            rest += f"[{part}]"
        else:
            rest += f".{part}" if rest else part
    if anchor and rest:
        return f"{anchor} > {rest}"
    return anchor or rest or "the spec"


def _child(node: object, part: str | int) -> object:
    """node[part] when `node` is a mapping or list that has it, else None."""
    if isinstance(node, dict):
        return node.get(part)
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return None


def _schema_label(schema: Mapping[str, Any]) -> str:
    # Error subschemas come from the $ref-inlined schema (see inline_references): no $ref to follow.
    if schema.get("title"):
        return str(schema["title"])
    kind = schema.get("type")
    if kind == "integer" and "minimum" in schema:
        return f"integer >= {schema['minimum']}"
    return " or ".join(kind) if isinstance(kind, list) else kind or "value"


def _pick_branch(error: ValidationError) -> ValidationError:
    """For anyOf/oneOf, the sub-error that best explains the failure (check-jsonschema's idea).

    A branch whose only complaint is the value's type is the wrong branch when another branch
    accepts that type: a mapping given for `cache` should hear about the mapping's keys, not
    that it is not a boolean.
    """
    context = list(error.context or [])
    if isinstance(error.instance, dict) and isinstance(error.validator_value, list):
        # A mapping that has every required key of a branch (`or:` of an or-condition) is about that branch.
        fitting = {
            i
            for i, branch in enumerate(error.validator_value)
            if isinstance(branch, dict) and branch.get("required") and set(branch["required"]) <= set(error.instance)
        }
        context = [sub for sub in context if sub.relative_schema_path and sub.relative_schema_path[0] in fitting] or context
    if isinstance(error.instance, str) and error.instance.startswith("${"):
        for sub in context:
            if "reference" in str(_subschema(sub).get("title", "")):
                return sub
    wrong_type = {
        sub.relative_schema_path[0] for sub in context if sub.validator == "type" and not sub.relative_path and sub.relative_schema_path
    }
    closer = [sub for sub in context if sub.relative_schema_path and sub.relative_schema_path[0] not in wrong_type]
    candidates = closer or context
    from jsonschema.exceptions import best_match  # (loaded with the validator above)

    return best_match(candidates) if candidates else error


def _diagnose(error: ValidationError, document: Document) -> list[Diagnostic]:
    path = tuple(error.absolute_path)
    keyword = str(error.validator)
    data = document.data
    source = document.source
    where = _where(path, data)

    branches = _keyword_value(error) if keyword == "oneOf" else None
    if (
        branches
        and not error.context
        and isinstance(error.instance, dict)
        and all(isinstance(b, dict) and set(b) == {"required"} for b in branches)
    ):  # more than one branch holds: the keys that exclude each other, all given
        given = [key for b in branches for key in b["required"] if key in error.instance]
        return [
            Diagnostic(
                "E2007",
                f"{where} takes one of: {', '.join(given)}, not {'both' if len(given) == 2 else 'several'}",
                source.span(path + (given[-1],), key=True),
                path + (given[-1],),
            )
        ]
    if keyword in ("anyOf", "oneOf") and error.context:
        if all(sub.validator == "required" and not sub.relative_path for sub in error.context):
            groups = [list(_keyword_value(sub)) for sub in error.context]
            if all(len(g) == 1 for g in groups):
                needed = "one of: " + ", ".join(g[0] for g in groups)
            else:  # e.g. training_step, or model_data and image_uri
                needed = ", or ".join(" and ".join(g) for g in groups)
            return [Diagnostic("E2007", f"{where} needs {needed}", source.span(path), path)]
        chosen = _pick_branch(error)
        alternatives = [_alternative(s) for s in _keyword_value(error) if isinstance(s, dict)]
        inner = _diagnose(chosen, document)
        if chosen.validator in ("required", "additionalProperties") or len(inner) != 1:
            return inner
        d = inner[0]
        hint = d.hint
        if len(alternatives) > 1 and not chosen.relative_path:  # the alternatives are about this value
            hint = "expected one of: " + "; ".join(dict.fromkeys(alternatives))
        return [Diagnostic(d.code, d.message, d.span, d.path, hint)]

    if keyword == "additionalProperties" and isinstance(error.instance, dict):
        allowed = sorted(_subschema(error).get("properties", {}))
        out = []
        for key in error.instance:
            if key in allowed:
                continue
            hint = did_you_mean(key, allowed) or (f"allowed keys: {', '.join(allowed)}" if allowed else None)
            out.append(Diagnostic("E2001", f"unknown key '{key}' in {where}", source.span(path + (key,), key=True), path + (key,), hint))
        return out

    if keyword == "required" and isinstance(error.instance, dict):
        missing = [k for k in _keyword_value(error) if k not in error.instance]
        span = source.span(path)
        return [Diagnostic("E2002", f"{where} is missing required key '{k}'", span, path) for k in missing]

    if keyword == "propertyNames":
        key = str(error.instance)  # the key that failed: a mapping's keys are strings
        label = _schema_label(error.validator_value) if isinstance(error.validator_value, dict) else "name"
        return [
            Diagnostic(
                "E2005",
                f"key '{key}' in {where} is not a valid {label}",
                source.span(path + (key,), key=True),
                path + (key,),
                hint=error.validator_value.get("description") if isinstance(error.validator_value, dict) else None,
            )
        ]

    span = source.span(path)
    value = error.instance
    if keyword == "type":
        expected = _keyword_value(error)
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        got = type(value).__name__.replace("dict", "mapping").replace("list", "list").replace("NoneType", "null")
        got = {"str": "string", "int": "integer", "float": "number", "bool": "boolean"}.get(got, got)
        shown = "(nothing is written after its colon)" if value is None else _short(value)
        return [Diagnostic("E2003", f"{where} must be {expected}, not {got} {shown}", span, path)]
    if keyword in ("enum", "const"):
        choices = _keyword_value(error) if keyword == "enum" else [_keyword_value(error)]
        hint = did_you_mean(value, choices) or "allowed: " + ", ".join(str(c) for c in choices)
        return [Diagnostic("E2004", f"{_short(value)} is not an allowed value for {where}", span, path, hint)]
    if keyword == "pattern":
        title = _subschema(error).get("title")
        message = (
            f"{_short(value)} is not a valid {title} ({where})" if title else f"{_short(value)} is not in the expected format for {where}"
        )
        return [Diagnostic("E2005", message, span, path, _subschema(error).get("description"))]
    code = _CODE_BY_KEYWORD.get(keyword, "E2006")
    if keyword in ("minItems", "maxItems") and isinstance(value, list):
        bound = "at least" if keyword == "minItems" else "at most"
        hint = _subschema(error).get("description")
        return [Diagnostic(code, f"{where} has {len(value)} item(s); it takes {bound} {error.validator_value}", span, path, hint)]
    return [Diagnostic(code, f"{where}: {error.message}", span, path)]


def _subschema(error: ValidationError) -> Mapping[str, Any]:
    """The schema that failed: a mapping (a boolean schema has no keys to read, and jsonschema types it as
    possibly unset for an error built by hand)."""
    return error.schema if isinstance(error.schema, Mapping) else {}


def _keyword_value(error: ValidationError) -> Any:
    """The failing keyword's value in the schema, e.g. the keys of `required` or the branches of `anyOf`
    (jsonschema's type adds an unset sentinel that only an error built by hand has)."""
    return error.validator_value


def _alternative(schema: Mapping[str, Any]) -> str:
    label = _schema_label(schema)
    example = schema.get("description", "")
    if "e.g." in example:
        return f"{label} ({example[example.index('e.g.') :].rstrip('.')})"
    if "${" in example:
        return f"{label} ({example[example.index('${') :].split()[0].rstrip('.')})"
    return label


def _short(value: object) -> str:
    """The value as written, cut to about 60 characters; a cut string keeps its closing quote."""
    if isinstance(value, str):
        text = repr(value)
        return text if len(text) <= 60 else repr(value[:54])[:-1] + "..." + text[-1]
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."
