"""The reference pages, rendered from the code: a page's cog block calls a function here and the
function prints markdown (through session.out) that it read from the JSON Schemas, the click
application, the code's own tables and its limit constants. Nothing here is written by hand but
the headings' words and the order of the sections; what the code says, the page says.

    schemas/*.schema.json             -> reference/spec.md, template.md, accounts.md (Schema)
    sagespec.cli (click)              -> reference/cli.md (cli_reference)
    compiler, executor, SDK data      -> reference/support.md (step_kinds, frameworks, ...)
    sagespec.aws.limits and constants -> reference/limits.md (request_limits, code_limits, ...)

Anchors other pages link to: `spec.md#step-<kind>` (`_` written `-`: `#step-register-model`),
`spec.md#<object>` for the schema's objects in kebab case (`#processor`, `#retry-policy`,
`#model-source`), `spec.md#pipeline`, `#templated-spec`, `#references`, `#format-<name>` for a
value format (`#format-role-arn`); `cli.md#<command path>` without `sagespec` (`#models-approve`,
`#run`; the root is `#sagespec`); `accounts.md#account`; `template.md#template-file`.
"""

from __future__ import annotations

import ast
import json
import re
import textwrap
from collections.abc import Iterable, Iterator
from typing import Any

from session import ROOT, out

SCHEMAS = ROOT / "schemas"
FRAMEWORK = ROOT / "framework" / "sagespec"

# ---------------------------------------------------------------------------------------------
# Markdown


def escape(text: str) -> str:
    """Text for a markdown paragraph or table cell: code spans kept as written, and outside them
    the characters markdown would take as markup (`<`, `*`, `|`, `_` at word edges) escaped;
    `${...}` references are set as code."""
    text = re.sub(r"\s+", " ", str(text))
    parts = re.split(r"(`[^`]*`)", text)
    done = []
    for i, part in enumerate(parts):
        if i % 2:  # a code span
            done.append(part)
            continue
        part = re.sub(r"(\$\$?\{[^}\s]*\})", r"`\1`", part)
        pieces = re.split(r"(`[^`]*`)", part)
        for j, piece in enumerate(pieces):
            if j % 2 == 0:
                piece = piece.replace("\\", "\\\\").replace("<", "&lt;").replace(">", "&gt;")
                piece = piece.replace("*", "\\*").replace("|", "\\|").replace("[", "\\[")
                piece = re.sub(r"(?<![\w\\])_", r"\\_", piece)
            pieces[j] = piece
        done.append("".join(pieces))
    return "".join(done)


def code(value: object) -> str:
    """`value` as a code span (JSON for anything but a string)."""
    text = value if isinstance(value, str) else json.dumps(value)
    fence = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def table(header: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    head = list(header)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        lines.append("| " + " | ".join(cell.replace("\n", " ") or " " for cell in row) + " |")
    return "\n".join(lines)


def kebab(name: str) -> str:
    """processingInput -> processing-input; register_model -> register-model."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", name).replace("_", "-").lower()


def words(name: str) -> str:
    """processingInput -> Processing input."""
    text = kebab(name).replace("-", " ")
    return text[:1].upper() + text[1:]


# ---------------------------------------------------------------------------------------------
# JSON Schemas: every key, its type, bounds, default and description, by object

# What a reader calls a schema object, when its $defs name says less (or the wrong thing).
TITLES = {
    "pipelineSpec": "Pipeline",
    "templatedSpec": "A spec from a template",
    "parameter": "Parameter",
    "jsonGet": "Property-file value",
    "vpc": "VPC",
    "modelSource": "Model source",
    "modelSources": "Model",
    "expression": "References",
    "step": "Steps",
}
ANCHORS = {"pipelineSpec": "pipeline", "templatedSpec": "templated-spec", "expression": "references"}
# How a link to a value format reads where a key takes it.
LINK_WORDS = {"expression": "string with references", "parameterReference": "`${params.NAME}`"}
# Keys whose values the compiler resolves references in, though the schema says so only in
# their description (the compiler's `ctx.expr.value` over hyperparameters and arguments, and
# `ctx.expr.mapping` over a container's environment).
REFERENCES_IN_VALUES = {
    ("trainingStep", "hyperparameters"): "each value",
    ("tuningStep", "hyperparameters"): "each value",
    ("processingStep", "arguments"): "each item",
    ("processor", "environment"): "each value",
    ("estimator", "environment"): "each value",
    ("modelSource", "environment"): "each value",
    ("transformStep", "environment"): "each value",
}
STEP_SUFFIX = "Step"


class Schema:
    """One JSON Schema of schemas/, rendered object by object. A page keeps one instance across its
    cog blocks: `section` renders the objects it names, `rest` every object no section rendered."""

    def __init__(self, name: str):
        self.name = name
        self.path = SCHEMAS / f"{name}.schema.json"
        self.data: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
        self.defs: dict[str, Any] = self.data.get("$defs", {})
        self.kinds = self._step_kinds()
        self.rendered: set[str] = set()

    # --- names and links

    def _step_kinds(self) -> dict[str, str]:
        """$defs name -> step kind, from the `kind` dispatch of $defs/step."""
        found = {}
        for branch in self.defs.get("step", {}).get("allOf", []):
            kind = branch.get("if", {}).get("properties", {}).get("kind", {}).get("const")
            ref = branch.get("then", {}).get("$ref", "")
            if kind and ref:
                found[ref.rsplit("/", 1)[-1]] = kind
        return found

    def is_object(self, name: str) -> bool:
        """An object of the spec (a section of its own) rather than a value format: a mapping with
        keys, or a choice between such mappings (a condition, a model, the cache)."""
        node = self.defs[name]
        if name == "step" or "properties" in node:
            return True
        alternatives = node.get("anyOf") or node.get("oneOf") or []
        if any("properties" in a for a in alternatives):
            return True
        targets = [self.resolve(a["$ref"])[0] for a in alternatives if "$ref" in a]
        return bool(targets) and all(t is not None and "properties" in self.defs[t] for t in targets)

    def anchor(self, name: str) -> str:
        if name in self.kinds:
            return "step-" + kebab(self.kinds[name])
        if name in ANCHORS:
            return ANCHORS[name]
        return kebab(name) if self.is_object(name) else "format-" + kebab(name)

    def title(self, name: str) -> str:
        if name in self.kinds:
            return f"`{self.kinds[name]}` step"
        node = self.defs[name]
        if name in TITLES:
            return TITLES[name]
        if node.get("title") and not self.is_object(name):
            return node["title"][:1].upper() + node["title"][1:]
        return words(name)

    def link(self, name: str) -> str:
        text = LINK_WORDS.get(name) or self.title(name).replace("`", "")
        if name not in LINK_WORDS and not self.is_object(name):
            text = text[:1].lower() + text[1:] if not text[:2].isupper() else text
        return f"[{text}](#{self.anchor(name)})"

    def resolve(self, ref: str) -> tuple[str | None, dict[str, Any]]:
        """(the $defs name when `ref` is a whole definition, its node)."""
        parts = ref.removeprefix("#/").split("/")
        node: Any = self.data
        for part in parts:
            node = node[part]
        name = parts[1] if len(parts) == 2 and parts[0] == "$defs" else None
        return name, node

    # --- one value's type and bounds

    def type_of(self, node: dict[str, Any]) -> str:
        if "$ref" in node:
            name, target = self.resolve(node["$ref"])
            return self.link(name) if name else self.type_of(target)
        if "const" in node:
            return code(node["const"])
        if "enum" in node:
            kinds = sorted({type(v).__name__ for v in node["enum"]})
            return " or ".join({"str": "string", "int": "integer", "float": "number", "bool": "boolean"}.get(k, k) for k in kinds)
        alternatives = node.get("anyOf") or node.get("oneOf")
        if alternatives and "type" not in node and "properties" not in node:
            return " or ".join(self.type_of(a) for a in alternatives)
        kind = node.get("type")
        if isinstance(kind, list):
            return " or ".join(self.type_of({"type": k}) for k in kind)
        if kind == "array":
            items = node.get("items", {})
            inner = "mappings (keys below)" if "properties" in items and "$ref" not in items else self.type_of(items)
            return f"list of {inner}"
        if kind == "object" or "properties" in node:
            if "properties" in node:
                return "mapping (keys below)"
            extra = node.get("additionalProperties")
            if isinstance(extra, dict):
                inner = "mapping (keys below)" if "properties" in extra else self.type_of(extra)
                return f"map of name to {inner}"
            return "mapping"
        return {"string": "string", "integer": "integer", "number": "number", "boolean": "boolean", "null": "null"}.get(
            kind or "", "any value"
        )

    def bounds(self, node: dict[str, Any]) -> list[str]:
        """What the schema bounds a value by, in words."""
        said = []
        if "$ref" in node:
            name, target = self.resolve(node["$ref"])
            if name is None:
                said += self.bounds(target)
        if "enum" in node:
            said.append("One of " + ", ".join(code(v) for v in node["enum"]) + ".")
        said += _range(node, "minimum", "maximum", "")
        if "exclusiveMinimum" in node:
            said.append(f"Above {node['exclusiveMinimum']}.")
        said += _range(node, "minLength", "maxLength", " characters")
        said += _range(node, "minItems", "maxItems", " items")
        said += _range(node, "minProperties", "maxProperties", " entries")
        if node.get("uniqueItems"):
            said.append("No duplicates.")
        if "pattern" in node:
            said.append(f"Pattern {code(node['pattern'])}.")
        names = node.get("propertyNames")
        if isinstance(names, dict):
            inner = self.bounds(names) if "$ref" not in names else [f"a {self.link(self.resolve(names['$ref'])[0] or '')}."]
            said += [f"Names: {s[:1].lower()}{s[1:]}" for s in inner]
        items = node.get("items")
        if isinstance(items, dict) and "properties" not in items:
            said += [f"Each item: {s[:1].lower()}{s[1:]}" for s in self.bounds(items) if "$ref" not in items]
        extra = node.get("additionalProperties")
        if isinstance(extra, dict) and "properties" not in extra and "$ref" not in extra:
            said += [f"Each value: {s[:1].lower()}{s[1:]}" for s in self.bounds(extra)]
        for alternative in node.get("anyOf") or node.get("oneOf") or []:
            if "$ref" not in alternative and "properties" not in alternative:
                said += [f"As {self.type_of(alternative)}: {s[:1].lower()}{s[1:]}" for s in self.bounds(alternative)]
        if "default" in node:
            said.append(f"Default {code(node['default'])}.")
        return said

    def description(self, node: dict[str, Any]) -> str:
        """A key's description, or the value format's it takes (an object's is in its section)."""
        if "description" in node:
            return str(node["description"])
        if "$ref" in node:
            name, target = self.resolve(node["$ref"])
            if name is None or not self.is_object(name):
                return self.description(target)
        return ""

    # --- objects

    def rows(self, owner: str, node: dict[str, Any], prefix: str = "") -> Iterator[list[str]]:
        """One table row per key of `node`, and of the mappings written inline below it."""
        required = set(node.get("required", []))
        for key, prop in node.get("properties", {}).items():
            path = prefix + key
            said = [escape(self.description(prop))] if self.description(prop) else []
            if key in required:
                said.insert(0, "**Required.**")
            said += [escape_bound(b) for b in self.bounds(prop)]
            kind = self.type_of(prop)
            extra = REFERENCES_IN_VALUES.get((owner, key)) if not prefix else None
            if extra:
                kind += f"; {extra} may hold [references](#references)"
            yield [code(path), kind, " ".join(said)]
            for inner, more in self._inline(prop):
                yield from self.rows(owner, inner, path + more)

    def _inline(self, prop: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str]]:
        """Mappings written inside a key's schema (not through $ref), and how their keys are named."""
        if "$ref" in prop:
            return
        if "properties" in prop:
            yield prop, "."
        items = prop.get("items")
        if isinstance(items, dict) and "properties" in items and "$ref" not in items:
            yield items, "[]."
        extra = prop.get("additionalProperties")
        if isinstance(extra, dict) and "properties" in extra and "$ref" not in extra:
            yield extra, ".<name>."
        for alternative in prop.get("anyOf") or prop.get("oneOf") or []:
            if "properties" in alternative and "$ref" not in alternative:
                yield alternative, "."

    def key_bounds(self, node: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, list[str]]]:
        """(key path, its numeric bounds) for every key of `node` and the mappings inline below it."""
        for key, prop in node.get("properties", {}).items():
            path = prefix + key
            found = _numeric(prop)
            if found:
                yield path, found
            for inner, more in self._inline(prop):
                yield from self.key_bounds(inner, path + more)
        for alternative in node.get("anyOf") or node.get("oneOf") or []:
            if "properties" in alternative:
                yield from self.key_bounds(alternative, prefix)

    def rules(self, node: dict[str, Any]) -> list[str]:
        """What the schema requires of a mapping beyond its keys: one key of several, conditions."""
        said = []
        for word, choices in (("exactly one", node.get("oneOf")), ("at least one", node.get("anyOf"))):
            sets = [c["required"] for c in choices or [] if set(c) == {"required"}]
            if sets and len(sets) == len(choices or []):
                options = [" with ".join(code(k) for k in keys) for keys in sets]
                said.append(f"Give {word} of: {', '.join(options)}.")
        for branch in node.get("allOf", []):
            condition = branch.get("if", {}).get("properties", {})
            then = branch.get("then", {})
            if not condition or "$ref" in then:
                continue
            key, test = next(iter(condition.items()))
            values = test.get("enum") or [test.get("const")]
            when = f"With {code(key)} {' or '.join(code(v) for v in values)}"
            parts = []
            if then.get("required"):
                parts.append(" and ".join(code(k) for k in then["required"]) + " required")
            banned = then.get("not", {})
            names = banned.get("required") or [k for alt in banned.get("anyOf", []) for k in alt.get("required", [])]
            if names:
                parts.append(", ".join(code(k) for k in names) + " not allowed")
            said.append(f"{when}: {'; '.join(parts)}.")
        return said

    def section(self, *names: str, level: int = 2) -> None:
        """Print the sections of the named $defs."""
        for name in names:
            out(self.render(name, level))

    def root(self, title: str, anchor: str, level: int = 2) -> None:
        """Print the section of the schema's root object."""
        out(self.render("#", level, title, anchor))

    def render(self, name: str, level: int = 2, title: str = "", anchor: str = "") -> str:
        hashes = "#" * level
        if name == "#":
            node, owner = self.data, "#"
        else:
            self.rendered.add(name)
            node, title, anchor, owner = self.defs[name], self.title(name), self.anchor(name), name
        lines = [f"{hashes} {title} {{#{anchor}}}", ""]
        if name == "step":
            return "\n".join(lines + [escape(node.get("description", "")), "", self.kinds_table()]) + "\n"
        if name == "#":
            lines += [escape(node.get("description", "")), ""]
        elif node.get("description"):
            lines += [escape(node["description"]), ""]
        if "properties" in node and name != "step":
            lines += [table(["Key", "Type", "Description"], self.rows(owner, node)), ""]
            lines += [" ".join(self.rules(node))] if self.rules(node) else []
        else:
            lines.append(f"Type: {self.type_of({k: v for k, v in node.items() if k != 'description'})}.")
            said = self.bounds(node)
            lines += [" ".join(escape_bound(b) for b in said)] if said else []
            for inner, _ in self._inline(node):
                lines += ["", table(["Key", "Type", "Description"], self.rows(owner, inner)), ""]
        return "\n".join(lines).rstrip() + "\n"

    def rest(self, level: int = 2, objects: bool = True, later: Iterable[str] = ()) -> None:
        """Every object (or, with objects=False, every value format) no section has rendered yet,
        but those the page renders `later`."""
        for name in self.defs:
            if name not in self.rendered and name not in later and self.is_object(name) == objects and name != "step":
                out(self.render(name, level))

    # --- facts for other parts of the pages

    def property_names(self) -> set[str]:
        """Every key any object of the schema declares (what the tests look for on the page)."""
        found: set[str] = set()

        def walk(node: object) -> None:
            if isinstance(node, dict):
                for key, value in node.items():
                    if key == "properties" and isinstance(value, dict):
                        found.update(value)
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        walk(self.data)
        return found

    def kinds_table(self) -> str:
        """The step kinds, each linked to its section, with the keys every step takes."""
        enum = self.defs["step"]["properties"]["kind"]["enum"]
        by_kind = {kind: name for name, kind in self.kinds.items()}
        rows = [[f"[{code(k)}](#{self.anchor(by_kind[k])})", escape(self.defs[by_kind[k]].get("description", ""))] for k in enum]
        return table(["`kind`", "what the step does"], rows)

    def reference_keys(self) -> None:
        """Every key whose value may hold references, or a parameter only, by object."""
        rows = []
        for name, node in self.defs.items():
            if not self.is_object(name):
                continue
            for path, takes in self._reference_paths(name, node, ""):
                rows.append([self.link(name), code(path), takes])
        out(table(["object", "key", "takes"], rows))

    def _reference_paths(self, owner: str, node: dict[str, Any], prefix: str) -> Iterator[tuple[str, str]]:
        for key, prop in node.get("properties", {}).items():
            path = prefix + key
            refs = _refs(prop)
            if refs & {"expression", "operand"}:
                yield path, "references"
            elif refs & {"parameterReference", "instanceType", "instanceCount"}:
                yield path, "a parameter (`${params.NAME}`)"
            elif (owner, key) in REFERENCES_IN_VALUES and not prefix:
                yield path, f"references ({REFERENCES_IN_VALUES[(owner, key)]})"
            for inner, more in self._inline(prop):
                yield from self._reference_paths(owner, inner, path + more)


def _refs(node: object) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        if "$ref" in node:
            found.add(node["$ref"].rsplit("/", 1)[-1])
        for key, value in node.items():
            if key not in ("properties",):
                found |= _refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= _refs(value)
    return found


def _numeric(node: dict[str, Any]) -> list[str]:
    """A value's numeric bounds (its own, its items', its names' and values', its alternatives')."""
    said = _range(node, "minimum", "maximum", "") + _range(node, "minLength", "maxLength", " characters")
    said += _range(node, "minItems", "maxItems", " items") + _range(node, "minProperties", "maxProperties", " entries")
    for key, word in (("items", "Each item"), ("propertyNames", "Names"), ("additionalProperties", "Each value")):
        inner = node.get(key)
        if isinstance(inner, dict) and "properties" not in inner:
            said += [f"{word}: {s[:1].lower()}{s[1:]}" for s in _numeric(inner)]
    for alternative in node.get("anyOf") or node.get("oneOf") or []:
        if "properties" not in alternative and "$ref" not in alternative:
            said += _numeric(alternative)
    return said


SINGULAR = {" characters": " character", " items": " item", " entries": " entry"}


def _range(node: dict[str, Any], low: str, high: str, unit: str) -> list[str]:
    lo, hi = node.get(low), node.get(high)
    if lo is not None and hi is not None:
        return [f"{lo} to {hi}{unit}."]
    if lo is not None and lo != 0:
        return [f"At least {lo}{unit if lo != 1 else SINGULAR.get(unit, unit)}."]
    if hi is not None:
        return [f"At most {hi}{unit if hi != 1 else SINGULAR.get(unit, unit)}."]
    return []


def escape_bound(text: str) -> str:
    """A bound sentence: its code spans and links are already markdown; the rest is escaped."""
    parts = re.split(r"(`[^`]*`|\[[^\]]*\]\([^)]*\))", text)
    return "".join(p if i % 2 else escape(p) if p.strip() else p for i, p in enumerate(parts))


# ---------------------------------------------------------------------------------------------
# Spec examples: snippets of a spec that validates (spec.md runs `sagespec validate` on it)


# A spec with a step of every kind, written as a team would: the spec reference shows its parts and
# validates it, the support page compiles it (every snippet on those pages is a part of it).
EVERY_KIND = """\
# yaml-language-server: $schema=../schemas/pipeline.schema.json
name: every-kind
description: One step of every kind, as the spec reference shows them.
session:
  region: us-east-1
  role: arn:aws:iam::111111111111:role/sagespec-data-science-execution
  default_bucket: sagespec-shared-artifacts-222222222222
  default_bucket_prefix: every-kind
  kms_key: arn:aws:kms:us-east-1:222222222222:key/6f0c1d9e-3b7a-4e52-9c1f-2a8d4b6e7f10
parameters:
  InputData: {type: String, default: s3://sagespec-shared-artifacts-222222222222/california-housing/datasets/cal_housing.tgz}
  TrainingInstanceType: {type: String, default: ml.m5.xlarge}
  Region: {type: String, default: us-east-1}
  Tier: {type: String, default: premium, enum: [standard, premium]}
  FirstRun: {type: Boolean, default: true}
settings:
  max_parallel_steps: 2
  custom_job_prefix: true
schedule:
  cron: "0 3 ? * MON *"
  timezone: Europe/Berlin
  parameters: {FirstRun: false}
steps:
  - name: PreprocessData
    kind: processing
    processor: {framework: sklearn, framework_version: 1.2-1, instance_type: ml.m5.xlarge, base_job_name: every-kind-prep}
    code: training_code/preprocess.py
    arguments: ["--columns", longitude, latitude, housingMedianAge, totalRooms, totalBedrooms, population, households, medianIncome, medianHouseValue, "--target", "MedHouseVal=medianHouseValue/100000"]
    inputs:
      - {name: raw, source: "${params.InputData}", destination: /opt/ml/processing/input}
    outputs:
      - {name: train, source: /opt/ml/processing/train}
      - {name: validation, source: /opt/ml/processing/validation}
      - {name: test, source: /opt/ml/processing/test}
    cache: {expire_after: P30D}
    retry:
      - exceptions: [SageMaker.JOB_INTERNAL_ERROR, SageMaker.CAPACITY_ERROR]
        max_attempts: 2
        interval_seconds: 30
  - name: TuneModel
    kind: tuning
    estimator:
      framework: xgboost
      framework_version: 1.7-1
      instance_type: ${params.TrainingInstanceType}
      base_job_name: every-kind-tune
      metric_definitions:
        - {name: "validation:rmse", regex: "validation_rmse=([0-9.]+)"}
    source_dir: xgboost_code
    entry_point: train.py
    hyperparameters: {num_round: 2000, colsample_bytree: 0.8}
    tuning:
      objective: {metric: "validation:rmse", type: Minimize}
      strategy: Bayesian
      max_jobs: 4
      max_parallel_jobs: 2
      random_seed: 7
      ranges:
        eta: {type: continuous, min: 0.02, max: 0.3, scaling: Logarithmic}
        max_depth: {type: integer, min: 4, max: 10}
    inputs:
      - {name: train, source: "${steps.PreprocessData.outputs.train}", content_type: text/csv}
      - {name: validation, source: "${steps.PreprocessData.outputs.validation}", content_type: text/csv}
  - name: TrainModel
    kind: training
    estimator: {framework: tensorflow, framework_version: "2.13", py_version: py310, instance_type: ml.m5.xlarge, base_job_name: every-kind-train}
    source_dir: training_code
    entry_point: train.py
    hyperparameters: {epochs: 20, batch_size: 512}
    inputs:
      - {name: train, source: "${steps.PreprocessData.outputs.train}", content_type: text/csv}
      - {name: validation, source: "${steps.PreprocessData.outputs.validation}", content_type: text/csv}
  - name: CreateModel
    kind: create_model
    model: {training_step: TuneModel, source_dir: xgboost_code, entry_point: inference.py}
    instance_type: ml.m5.large
  - name: ScoreTestSet
    kind: transform
    model_step: CreateModel
    instance_type: ml.m5.large
    input: {source: "${steps.PreprocessData.outputs.test}", content_type: text/csv, split_type: Line}
    accept: text/csv
    assemble_with: Line
    strategy: MultiRecord
    input_filter: "$[1:]"
    join_source: Input
    output_filter: "$[0,-1]"
  - name: CheckDataQuality
    kind: quality_check
    check: data_quality
    dataset: ${steps.PreprocessData.outputs.train}
    dataset_format: {csv: {header: true}}
    instance_type: ml.m5.xlarge
    skip_check: ${params.FirstRun}
    register_new_baseline: ${params.FirstRun}
    model_package_group: california-housing-experiments
  - name: CheckDataBias
    kind: clarify_check
    check: data_bias
    dataset: ${steps.PreprocessData.outputs.train}
    label: 0
    bias: {label_values_or_threshold: [2.0], facet_name: [8], facet_values_or_threshold: [[0.5]]}
    instance_type: ml.m5.xlarge
    skip_check: ${params.FirstRun}
    register_new_baseline: ${params.FirstRun}
    model_package_group: california-housing-experiments
  - name: Review
    kind: callback
    queue_url: https://sqs.us-east-1.amazonaws.com/111111111111/model-review
    inputs: {model: "${steps.TuneModel.best_model_artifacts}"}
    outputs: [{name: verdict}, {name: reviewer}]
  - name: Route
    kind: condition
    conditions:
      - {operator: equals, left: "${steps.Review.outputs.verdict}", right: approve}
      - or:
          - {operator: in, value: "${params.Region}", values: [eu-west-1, eu-central-1]}
          - not: {operator: equals, left: "${params.Tier}", right: standard}
    if_steps: [RegisterModel]
    else_steps: [NotifyTeam, Rejected]
  - name: RegisterModel
    kind: register_model
    model: {training_step: TuneModel, source_dir: xgboost_code, entry_point: inference.py}
    model_package_group: california-housing-experiments
    content_types: [text/csv]
    response_types: [text/csv]
    inference_instances: [ml.m5.large]
    quality_checks: [CheckDataQuality, CheckDataBias]
  - name: NotifyTeam
    kind: lambda
    function_arn: arn:aws:lambda:us-east-1:111111111111:function:sagespec-notify-team
    inputs: {reviewer: "${steps.Review.outputs.reviewer}", pipeline: "${execution.PipelineName}"}
  - name: Rejected
    kind: fail
    error_message: rejected by ${steps.Review.outputs.reviewer}
  - name: ExportFeatures
    kind: emr
    depends_on: [ScoreTestSet]
    cluster_id: j-1K48XXXXXXHCB
    jar: command-runner.jar
    args: [spark-submit, s3://sagespec-shared-artifacts-222222222222/every-kind/code/export.py, "${steps.ScoreTestSet.properties.TransformOutput.S3OutputPath}"]
"""


def step_snippet(spec_text: str, *names: str, title: str | None = None) -> None:
    """Print the named steps of a spec's YAML text as a yaml block, as written there."""
    blocks = re.split(r"(?m)^(?=  - name: )", spec_text.split("\nsteps:\n", 1)[1])
    chosen = [b.rstrip("\n") for b in blocks if re.match(r"  - name: (\S+)", b) and re.match(r"  - name: (\S+)", b)[1] in names]  # type: ignore[index]
    if len(chosen) != len(names):
        raise ValueError(f"steps {names} are not all in the spec")
    header = f' title="{title}"' if title else ""
    out(f"```yaml{header}\n" + textwrap.dedent("\n".join(chosen)) + "\n```")


def spec_keys_snippet(spec_text: str, *keys: str) -> None:
    """Print the named top-level keys of a spec's YAML text (each with what is indented below it)."""
    lines = spec_text.splitlines()
    chosen: list[str] = []
    for key in keys:
        start = next(i for i, line in enumerate(lines) if line.startswith(f"{key}:"))
        end = next((i for i in range(start + 1, len(lines)) if lines[i] and not lines[i].startswith((" ", "#"))), len(lines))
        chosen += lines[start:end]
    out("```yaml\n" + "\n".join(chosen) + "\n```")


# ---------------------------------------------------------------------------------------------
# References: the ${...} forms, the execution variables and the properties a step offers


def reference_forms() -> None:
    """The forms of sagespec.spec.references' docstring, as its table says them."""
    from sagespec.spec import references

    rows = []
    for line in (references.__doc__ or "").splitlines():
        match = re.match(r"^    (\S+)\s{2,}(.+)$", line)
        if match:
            rows.append([code(match[1]), escape(match[2])])
    out(table(["write", "means"], rows))


def execution_variables() -> None:
    from sagespec.spec.references import EXECUTION_VARIABLES

    out(", ".join(code(f"${{execution.{v}}}") for v in EXECUTION_VARIABLES) + ".")


def step_properties() -> None:
    """The top-level properties `${steps.STEP.properties.PATH}` may start with, by step kind."""
    from sagespec.spec.checks.references import PROPERTIES

    rows = [[code(kind), ", ".join(code(p) for p in sorted(names)) or "none"] for kind, names in PROPERTIES.items()]
    out(table(["step kind", "properties"], rows))


# ---------------------------------------------------------------------------------------------
# The command line, from click


def _commands() -> Iterator[tuple[Any, Any, int]]:
    """(command, its click context, depth) for the root and every command below it, in order."""
    import click

    from sagespec.cli import cli

    def walk(command: click.Command, ctx: click.Context, depth: int) -> Iterator[tuple[Any, Any, int]]:
        yield command, ctx, depth
        if isinstance(command, click.Group):
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                if sub is not None and not sub.hidden:
                    yield from walk(sub, click.Context(sub, info_name=name, parent=ctx), depth + 1)

    yield from walk(cli, click.Context(cli, info_name="sagespec"), 0)


def command_anchor(path: str) -> str:
    parts = path.split()[1:]
    return "-".join(parts) if parts else "sagespec"


def _help(text: str | None) -> str:
    """click's help text as markdown paragraphs (a `\\b` paragraph keeps its lines)."""
    text = (text or "").split("\f")[0]
    paragraphs = []
    for block in re.split(r"\n\s*\n", text.strip()):
        block = textwrap.dedent(block.strip("\n"))
        if block.startswith("\b"):
            paragraphs.append("```text\n" + block[1:].strip("\n") + "\n```")
        else:
            paragraphs.append(escape(block))
    return "\n\n".join(p for p in paragraphs if p)


def option_names(param: Any) -> list[str]:
    """The spellings --help shows (retired aliases left out, as AliasedOption leaves them out)."""
    retired = getattr(param, "retired", set())
    return [o for o in [*param.opts, *param.secondary_opts] if o not in retired]


def _param_type(param: Any, ctx: Any) -> str:
    import click

    kind = param.type
    if getattr(param, "is_flag", False) and not getattr(param, "count", False):
        said = "flag"
    elif isinstance(kind, click.Choice):
        said = "one of " + ", ".join(code(c) for c in kind.choices)
    elif isinstance(kind, click.Path):
        said = "file" if not kind.dir_okay else "folder" if not kind.file_okay else "path"
        said += " (must exist)" if kind.exists else ""
    elif isinstance(kind, (click.IntRange, click.FloatRange)):
        base = "integer" if isinstance(kind, click.IntRange) else "number"
        said = f"{base}, {kind._describe_range()}"
    else:
        said = {"integer": "integer", "float": "number", "boolean": "flag"}.get(kind.name, "text")
    if getattr(param, "multiple", False):
        said += ", repeatable"
    if param.nargs == -1:
        said += ", one or more" if param.required else ", any number"
    return said


def cli_reference() -> None:
    """Every command and subcommand of `sagespec`: usage, help, arguments and options."""
    import click

    for command, ctx, depth in _commands():
        path = ctx.command_path
        level = "#" * min(2 + max(depth - 1, 0), 4)
        lines = [f"{level} `{path}` {{#{command_anchor(path)}}}", "", _help(command.help), ""]
        lines += ["```text", command.get_usage(ctx), "```", ""]
        arguments = [p for p in command.get_params(ctx) if isinstance(p, click.Argument)]
        options = [
            p for p in command.get_params(ctx) if isinstance(p, click.Option) and p is not command.get_help_option(ctx) and not p.hidden
        ]
        if arguments:
            rows = [[code(p.make_metavar(ctx)), _param_type(p, ctx), "yes" if p.required else "no"] for p in arguments]
            lines += [table(["Argument", "Type", "Required"], rows), ""]
        if options:
            rows = []
            for p in options:
                extra = p.get_help_extra(ctx)
                names = ", ".join(code(n) for n in option_names(p))
                metavar = " " + code(p.metavar) if p.metavar and not p.is_flag else ""
                said = escape(p.help or "")
                if extra.get("required"):
                    said = "**Required.** " + said
                rows.append([names + metavar, _param_type(p, ctx), code(extra["default"]) if extra.get("default") else "", said])
            lines += [table(["Option", "Type", "Default", "Description"], rows), ""]
        if isinstance(command, click.Group):
            subs = []
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                if sub is not None and not sub.hidden:
                    sub_path = f"{path} {name}"
                    subs.append([f"[`{sub_path}`](#{command_anchor(sub_path)})", escape(sub.get_short_help_str(limit=200))])
            if depth == 0:
                lines += ["Commands:", ""]
            lines += [table(["Command", "What it does"], subs), ""]
        out("\n".join(lines).rstrip() + "\n")


# ---------------------------------------------------------------------------------------------
# Support tables: the code's own tables, read as the code holds them


def module_literal(relative: str, name: str) -> Any:
    """The value of a module-level literal (a dict or tuple of literals) of a framework module, read
    from its source: the SDK-specific modules cannot all be imported in one environment."""
    tree = ast.parse((FRAMEWORK / relative).read_text(encoding="utf-8"))
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        if any(isinstance(t, ast.Name) and t.id == name for t in targets) and node.value is not None:  # type: ignore[union-attr]
            return ast.literal_eval(node.value)  # type: ignore[union-attr]
    raise KeyError(f"{relative} has no literal {name}")


def builders() -> dict[str, dict[str, str]]:
    """SDK -> step kind -> the function that builds it: every `@builder(kind, sdks)` of compiler/
    (read from the source, since v2's and v3's modules import their own SDK)."""
    found: dict[str, dict[str, str]] = {"v2": {}, "v3": {}}
    for path in sorted((FRAMEWORK / "compiler").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = {
            t.id: ast.literal_eval(n.value)
            for n in tree.body
            if isinstance(n, ast.Assign) and isinstance(n.value, ast.Tuple)
            for t in n.targets
            if isinstance(t, ast.Name)
        }
        module = ".".join(path.relative_to(FRAMEWORK.parent).with_suffix("").parts)
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef):
                continue
            for decorator in node.decorator_list:
                if isinstance(decorator, ast.Call) and getattr(decorator.func, "id", None) == "builder":
                    kind = ast.literal_eval(decorator.args[0])
                    sdks = ("v2",)
                    if len(decorator.args) > 1:
                        arg = decorator.args[1]
                        sdks = constants[arg.id] if isinstance(arg, ast.Name) else ast.literal_eval(arg)
                    for sdk in sdks:
                        found[sdk][kind] = f"{module}.{node.name}"
    return found


def definition_steps(definition: dict[str, Any], spec_steps: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Step kind -> a step of the compiled definition of that kind (spec step name -> kind given;
    SDK v2 names a model step `<name>-RegisterModel` or `<name>-CreateModel`)."""
    found: dict[str, dict[str, Any]] = {}

    def walk(steps: list[dict[str, Any]]) -> None:
        for step in steps:
            name = step["Name"]
            spec_name = name if name in spec_steps else name.rsplit("-", 1)[0]
            found[spec_steps[spec_name]] = step
            walk(step.get("Arguments", {}).get("IfSteps", []) if step["Type"] == "Condition" else [])
            walk(step.get("Arguments", {}).get("ElseSteps", []) if step["Type"] == "Condition" else [])

    walk(definition["Steps"])
    return found


def spec_step_kinds(spec_text: str) -> dict[str, str]:
    import yaml

    return {s["name"]: s["kind"] for s in yaml.safe_load(spec_text)["steps"]}


def local_run(step: dict[str, Any]) -> str:
    """How the local executor runs a definition step: its type's handler, the runner's condition
    evaluation, or the refusal that stops a run before it starts."""
    from sagespec.backends.local.executor import callback, images, lambda_function, quality, training, transform, tuning  # noqa: F401  (their handlers)
    from sagespec.backends.local.executor.handlers import HANDLERS

    step_type = step["Type"]
    if step_type in HANDLERS:
        fn = HANDLERS[step_type]
        return f"yes: {code(fn.__module__.removeprefix('sagespec.backends.local.executor.') + '.' + fn.__name__)}"
    refused = images.problems({step["Name"]: step})
    if refused:
        return "no, refused before the run starts: " + escape(refused[0][1])
    if step_type == "Condition":  # executor/execution.py evaluates conditions itself (no job runs)
        return "yes: evaluated by the runner (`execution.py`)"
    raise ValueError(f"the local executor has nothing for {step_type} steps: say so on the support page")


def step_kinds(definition: dict[str, Any], spec_text: str) -> None:
    """Each step kind: its definition step type, whether each SDK's backend builds it, how it runs locally."""
    from sagespec.compiler.v3.unsupported import KINDS as V3_MISSING

    kinds_in_schema = Schema("pipeline").defs["step"]["properties"]["kind"]["enum"]
    steps = definition_steps(definition, spec_step_kinds(spec_text))
    built = builders()
    rows = []
    for kind in kinds_in_schema:
        per_sdk = []
        for sdk in ("v2", "v3"):
            if kind in built[sdk]:
                per_sdk.append("yes")
            else:
                reason = V3_MISSING.get(kind, "no builder") if sdk == "v3" else "no builder"
                per_sdk.append(f"not yet (E5010): {escape(reason)}")
        anchor = f"spec.md#step-{kebab(kind)}"
        rows.append([f"[{code(kind)}]({anchor})", code(steps[kind]["Type"]), *per_sdk, local_run(steps[kind])])
    out(table(["kind", "definition step type", "SDK v2", "SDK v3", "runs locally"], rows))


# Steps of features that a kind's v3 builder does not build (sagespec.compiler.v3.unsupported.problems
# says which); each probe is one such feature, shown with the code's own message when it still applies.
V3_PROBES = (
    {"name": "Prep", "kind": "processing", "processor": {"framework": "pyspark"}},
    {"name": "Register", "kind": "register_model", "model": [{"training_step": "A"}, {"training_step": "B"}]},
    {"name": "Register", "kind": "register_model", "model": {"training_step": "Train", "entry_point": "inference.py"}},
)


def v3_gaps() -> None:
    from sagespec.compiler.v3.unsupported import KINDS, problems

    lines = []
    for probe in V3_PROBES:
        for _, message in problems({"steps": [probe]}):
            if probe["kind"] not in KINDS:
                lines.append(f"- {escape(message)}")
    out("\n".join(lines) if lines else "Every kind SDK v3 builds, it builds in full.")


def sdk_versions() -> None:
    """The SageMaker Python SDK versions sagespec takes, and the ones its test environments pin."""
    from sagespec.compiler.sdk import SDKS

    required = [r for r in requirements() if r.name == "sagemaker" and not r.marker]
    rows = []
    for sdk, constraints in zip(SDKS, ("constraints.txt", "constraints-v3.txt")):
        pins = [line for line in (ROOT / constraints).read_text(encoding="utf-8").splitlines() if line.startswith("sagemaker")]
        rows.append([sdk, code(str(required[0])), ", ".join(code(p) for p in pins), code(constraints)])
    out(table(["SDK", "sagespec requires", "pinned for the tests and the golden definitions", "in"], rows))


# The SDK's image_uri_config file of each spec framework (pyspark's images are "spark").
CONFIG_NAMES = {"pyspark": "spark"}


def _sdk_versions(framework: str, scope: str) -> list[str]:
    from sagespec.aws.images import _sdk_config

    config = (_sdk_config(CONFIG_NAMES.get(framework, framework)) or {}).get(scope) or {}
    return list(config.get("versions") or {})


def _sdk_aliases(framework: str, scope: str) -> dict[str, str]:
    from sagespec.aws.images import _sdk_config

    config = (_sdk_config(CONFIG_NAMES.get(framework, framework)) or {}).get(scope) or {}
    return dict(config.get("version_aliases") or {})


def _repositories(framework: str, scope: str) -> set[str]:
    from sagespec.aws.images import _sdk_config

    found: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "repository" and isinstance(value, str):
                    found.add(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(((_sdk_config(CONFIG_NAMES.get(framework, framework)) or {}).get(scope)) or {})
    return found


def _local_job(framework: str, scope: str) -> str:
    from sagespec.backends.local.executor.images import REPOSITORIES

    known = sorted(_repositories(framework, scope) & set(REPOSITORIES))
    if not known:
        return "no local equivalent"
    name, modules, extra = REPOSITORIES[known[0]]
    install = f"the `{extra}` extra" if extra else "sagespec itself"
    return f"yes, {name} ({', '.join(code(m) for m in modules)}, from {install})"


def _local_serving(framework: str) -> str:
    from sagespec.backends.local.serving import SERVERS

    known = sorted(_repositories(framework, "inference") & set(SERVERS))
    if not known:
        return "not yet"
    _, name, modules, extra = SERVERS[known[0]]
    install = f"the `{extra}` extra" if extra else "sagespec itself"
    return f"yes, {name} ({', '.join(code(m) for m in modules)}, from {install})"


def frameworks() -> None:
    """What each estimator framework compiles to, its images' Python, and what runs it here."""
    schema = Schema("pipeline")
    estimators = module_literal("compiler/v2/jobs.py", "FRAMEWORK_ESTIMATORS")
    models = module_literal("compiler/v2/models.py", "FRAMEWORK_MODELS")
    py_v2 = module_literal("compiler/v2/jobs.py", "DEFAULT_PY_VERSIONS")
    py_v3 = module_literal("compiler/v3/jobs.py", "TRAINING_PY_VERSIONS")
    rows = []
    for framework in schema.defs["estimator"]["properties"]["framework"]["enum"]:
        module, cls = estimators[framework]
        model = ".".join(models[framework]) if framework in models else "-"
        rows.append(
            [
                code(framework),
                code(f"{module}.{cls}"),
                code(model),
                code(py_v2.get(framework, "py3")) if framework in py_v2 else "the SDK's",
                code(py_v3[framework]) if framework in py_v3 else "-",
                _local_job(framework, "training"),
                _local_serving(framework),
            ]
        )
    out(
        table(
            [
                "`estimator.framework`",
                "SDK v2 estimator",
                "SDK v2 model (serving)",
                "`py_version` default, v2",
                "v3",
                "trains locally",
                "local endpoints",
            ],
            rows,
        )
    )


def processors() -> None:
    schema = Schema("pipeline")
    table_v2 = module_literal("compiler/v2/jobs.py", "FRAMEWORK_PROCESSORS")
    py_v3 = module_literal("compiler/v3/jobs.py", "PROCESSING_PY_VERSIONS")
    rows = []
    for framework in schema.defs["processor"]["properties"]["framework"]["enum"]:
        if framework in table_v2:
            module, cls, py = table_v2[framework]
            v2 = f"{code(module + '.' + cls)}, `py_version` {code(py)}"
        else:
            v2 = "its own processor (below)"
        scope = "processing" if framework in CONFIG_NAMES else "training"
        rows.append([code(framework), v2, code(py_v3[framework]) if framework in py_v3 else "-", _local_job(framework, scope)])
    out(table(["`processor.framework`", "SDK v2 framework processor", "`py_version` default, v3", "runs locally"], rows))


def framework_versions() -> None:
    """The framework versions the installed SDK has images for: what `framework_version` may say."""
    from importlib.metadata import version

    schema = Schema("pipeline")
    names = list(
        dict.fromkeys(
            schema.defs["estimator"]["properties"]["framework"]["enum"] + schema.defs["processor"]["properties"]["framework"]["enum"]
        )
    )
    rows = []
    for framework in names:
        for scope in ("training", "processing", "inference"):
            versions = _sdk_versions(framework, scope)
            if not versions:
                continue
            aliases = _sdk_aliases(framework, scope)
            said = ", ".join(code(v) for v in versions)
            if aliases:
                said += "; also written " + ", ".join(f"{code(a)}" for a in aliases)
            rows.append([code(framework), scope, said])
    out(f"From the image_uri_config data of `sagemaker` {version('sagemaker')}, the SDK this page was generated with:\n")
    out(table(["framework", "images", "versions"], rows))


def builtin_algorithms() -> None:
    from sagespec.aws import builtin_xgboost
    from sagespec.spec.checks.estimators import BUILTIN

    rows = []
    for algorithm in sorted(BUILTIN):
        versions = ", ".join(code(v) for v in _sdk_versions(algorithm, "training"))
        rows.append([code(algorithm), versions, _local_job(algorithm, "training").replace("yes, ", "yes, the built-in trainer on ")])
    out(table(["`estimator.framework` with `mode: builtin`", "versions", "trains locally"], rows))
    out("")
    out(
        "The hyperparameters the built-in XGBoost algorithm takes depend on its container version, as each "
        "version's container validates them (others are E4014; `num_round` is required). The newest's:"
    )
    out("")
    out(", ".join(code(h) for h in sorted(builtin_xgboost.hyperparameters(None))) + ".")
    out("")
    out("What each earlier version took differently:")
    out("")
    rows = []
    for (major, minor, revision), added, removed in builtin_xgboost.HYPERPARAMETER_CHANGES[1:]:
        rows.append(
            [
                code(f"{major}.{minor}-{revision}"),
                ", ".join(code(h) for h in added.split()) or "",
                ", ".join(code(h) for h in removed.split()) or "",
            ]
        )
    out(table(["from version", "added", "no longer taken"], rows))


def builtin_serving() -> None:
    """What the built-in XGBoost algorithm writes, reports and serves, by container version
    (sagespec.aws.builtin_xgboost, with its AWS sources), and what local endpoints do with it."""
    from sagespec.aws import builtin_xgboost
    from sagespec.aws.images import framework_image
    from sagespec.backends.local.serving import server_for

    versions = _sdk_versions("xgboost", "training")
    loads = {"pickle": '`pickle.load(open("xgboost-model", "rb"))`', "xgboost": '`xgb.Booster(); model.load_model("xgboost-model")`'}
    rows = []
    for fmt in dict.fromkeys(f for _, f in builtin_xgboost.ARTIFACT_FORMATS):
        having = [v for v in versions if builtin_xgboost.artifact_format(builtin_xgboost.tag_version(v)) == fmt]
        rows.append(
            [
                ", ".join(code(v) for v in having),
                "Python pickle of the Booster" if fmt == "pickle" else "XGBoost's own (`Booster.save_model`)",
                loads[fmt],
            ]
        )
    out(f"The model is `{builtin_xgboost.MODEL_FILE}` in `model.tar.gz`, in the format of the container version:")
    out("")
    out(table(["versions", "format", "read it with"], rows))
    out("")
    metrics = ", ".join(f"{code(m)} ({d.lower()})" for m, d in builtin_xgboost.OBJECTIVE_METRICS.items())
    out(f"Metrics reported without `metric_definitions`, as `train:<metric>` and `validation:<metric>`: {metrics}.")
    out("")
    image = framework_image("xgboost", "inference", "1.7-1", "us-east-1", "1.7-1")
    try:
        server_for({"Image": image, "Environment": {}})
    except ValueError as refused:
        out(f"Local endpoints: {escape(str(refused).replace(image or '', 'the image'))}.")
    else:
        kinds = " or ".join(code(t) for t in builtin_xgboost.INFERENCE_CONTENT_TYPES)
        out(
            f"Local endpoints and batch transforms serve the model as the algorithm's container does: requests in {kinds}, answers in `text/csv` (the default) or `application/json`."
        )


def requirements() -> list[Any]:
    """The requirements of the installed sagespec (its pyproject.toml, as the install recorded it)."""
    from importlib.metadata import requires

    from packaging.requirements import Requirement

    return [Requirement(r) for r in requires("sagespec") or []]


def extras() -> None:
    """The optional installs of sagespec that run frameworks here, and what each brings."""
    by_extra: dict[str, list[str]] = {}
    for requirement in requirements():
        for extra in re.findall(r"extra == \"([^\"]+)\"", str(requirement.marker or "")):
            if extra.startswith("local"):
                by_extra.setdefault(extra, []).append(f"{requirement.name}{requirement.specifier}")
    rows = [[code(f"sagespec[{name}]"), ", ".join(code(r) for r in sorted(found))] for name, found in sorted(by_extra.items())]
    out(table(["extra", "installs"], rows))


# ---------------------------------------------------------------------------------------------
# Limits


def request_limits() -> None:
    """sagespec.aws.limits.LIMITS: each row with the API member and shape it comes from."""
    from sagespec.aws.limits import API_REFERENCE, LIMITS

    rows = []
    for limit in LIMITS:
        head = ".".join(p for p in limit.path if not p.startswith("*"))
        if limit.path[-1] == "*key":
            place = f"{code(head)}, each key"
        elif limit.path[-1] == "*":
            place = code(head + "[]") if limit.path[-2] == "arguments" else f"{code(head)}, each value"
        else:
            place = code(head)
        what = "items" if limit.measure == "count" else "characters"
        if limit.measure == "count" and limit.path[-1] in ("environment", "hyperparameters"):
            what = "entries"
        rows.append(
            [
                f"[{code(limit.kind)}](spec.md#step-{kebab(limit.kind)})",
                place,
                f"{limit.minimum} to {limit.maximum} {what}",
                f"{code(limit.member)} ([{limit.shape}]({API_REFERENCE}))",
            ]
        )
    out(table(["step kind", "place", "SageMaker takes", "request member (API shape)"], rows))


def schema_bounds() -> None:
    """Every numeric bound the pipeline schema puts on a key: ranges, lengths, counts."""
    schema = Schema("pipeline")
    rows = []
    for name, node in schema.defs.items():
        link = schema.link(name).replace("](#", "](spec.md#")
        if name == "step":
            continue
        if not schema.is_object(name):
            found = _numeric(node)
            if found:
                rows.append([link, "(the value)", " ".join(escape_bound(b) for b in found)])
            continue
        for path, bounds in schema.key_bounds(node):
            rows.append([link, code(path), " ".join(escape_bound(b) for b in bounds)])
    out(table(["object or value format", "key", "bound"], rows))


# Limits of sagespec's own, as constants of the code: (module, constant, unit[, what it bounds]).
# The comment the code gives a constant is what the page says of it (its first sentence); the
# words here stand in only where the code has no comment.
CODE_LIMITS: tuple[tuple[str, ...], ...] = (
    ("spec/files.py", "MAX_SPEC_BYTES", "bytes"),
    ("spec/yaml_loader.py", "MAX_NODES", "YAML nodes"),
    ("spec/templates.py", "MAX_VALUE_CHARS", "characters"),
    ("spec/templates.py", "MAX_RANGE", "items"),
    ("spec/templates.py", "MAX_EXPONENT_BITS", "bits"),
    ("spec/templates.py", "RENDER_SECONDS", "seconds"),
    ("diagnostics/__init__.py", "QUOTE_LIMIT", "characters"),
    ("spec/references.py", "MAX_INFERENCE_CONTAINERS", "containers"),
    (
        "spec/checks/transform.py",
        "MAX_PAYLOAD_TIMES_CONCURRENCY_MB",
        "MB",
        "`max_concurrent_transforms` times `max_payload_mb` of a transform step (E4018)",
    ),
    ("spec/checks/schedule.py", "SCHEDULE_NAME_LENGTH", "characters"),
    ("spec/checks/estimators.py", "DEFAULT_MAX_RUNTIME", "seconds"),
    ("aws/limits.py", "MAX_PAYLOAD_BYTES", "bytes"),
    ("backends/local/executor/execution.py", "DEFAULT_PARALLEL_STEPS", "steps"),
    ("backends/local/executor/transform.py", "DEFAULT_MAX_PAYLOAD_MB", "MB"),
    ("backends/local/executor/tuning.py", "MAX_SUMMARIES", "jobs"),
    ("backends/local/executor/handlers.py", "STOP_GRACE_SECONDS", "seconds"),
    ("backends/local/hosting.py", "START_TIMEOUT", "seconds", "how long a local endpoint may take to answer its first ping"),
    ("backends/local/runtime/endpoint_server.py", "WORKER_THREADS", "threads", "threads a local endpoint answers requests with"),
    (
        "backends/local/runtime/endpoint_server.py",
        "LISTEN_BACKLOG",
        "connections",
        "connections a local endpoint queues before accepting them",
    ),
    ("backends/local/runtime/endpoint_server.py", "CHANNEL_TIMEOUT", "seconds"),
    ("backends/local/runtime/endpoint_server.py", "CONNECTION_LIMIT", "connections", "connections a local endpoint keeps open at once"),
)


def constant(relative: str, name: str) -> tuple[Any, str]:
    """(value, the comment the code gives it: on its line, else the comment lines just above)."""
    source = (FRAMEWORK / relative).read_text(encoding="utf-8")
    tree = ast.parse(source)
    lines = source.splitlines()
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            value = _evaluate(node.value)  # type: ignore[union-attr]
            line = lines[node.lineno - 1]
            comment = line.split("#", 1)[1].strip() if "  # " in line else ""
            if not comment:
                above = []
                i = node.lineno - 2
                while i >= 0 and lines[i].lstrip().startswith("#"):
                    above.insert(0, lines[i].strip().lstrip("#").strip())
                    i -= 1
                comment = " ".join(above)
            return value, comment
    raise KeyError(f"{relative} has no constant {name}")


def _evaluate(node: ast.expr | None) -> Any:
    """A constant's value: a literal, or arithmetic on literals (24 * 60 * 60)."""
    assert node is not None
    if isinstance(node, ast.BinOp):
        left, right = _evaluate(node.left), _evaluate(node.right)
        ops = {ast.Mult: lambda a, b: a * b, ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b}
        return ops[type(node.op)](left, right)
    return ast.literal_eval(node)


def _amount(value: Any, unit: str) -> str:
    if unit == "bytes" and value % (1024 * 1024) == 0:
        return f"{value // (1024 * 1024)} MiB ({value:,} bytes)"
    if unit == "seconds" and isinstance(value, int) and value >= 3600 and value % 3600 == 0:
        return f"{value:,} seconds ({value // 3600} h)"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:,} {unit}" if isinstance(value, int) else f"{value} {unit}"


def code_limits() -> None:
    rows = []
    for relative, name, unit, *words in CODE_LIMITS:
        value, comment = constant(relative, name)
        said = comment.split(". ")[0].rstrip(".") if comment and not words else words[0] if words else ""
        rows.append([_amount(value, unit), escape(said[:1].upper() + said[1:]), code(f"{relative}: {name}")])
    out(table(["limit", "what the code says of it", "where"], rows))


def hostile_count() -> int:
    return len(list((ROOT / "tests" / "spec" / "fixtures" / "hostile").glob("*.yaml")))


# ---------------------------------------------------------------------------------------------
# Templates and the accounts file


def template_param_types() -> None:
    from sagespec.spec.templates import _PARAM_TYPES

    names = {"str": "a string", "int": "an integer", "float": "a number", "bool": "true or false", "list": "a list", "dict": "a mapping"}
    rows = [[code(t), " or ".join(names[p.__name__] for p in types)] for t, types in _PARAM_TYPES.items()]
    out(table(["`type`", "the value must be"], rows))


def template_variables() -> None:
    """What spec params see as `accounts`, with the bundled accounts file's values."""
    from sagespec.spec.topology import load_topology

    view = load_topology(ROOT).template_view()
    rows = []

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict) and path != "accounts.model_package_groups":
            for key, inner in value.items():
                walk(inner, f"{path}.{key}")
        elif isinstance(value, dict):
            for key, inner in value.items():
                rows.append([code(f"{path}['{key}']"), code(inner)])
        else:
            rows.append([code(path), code(value) if value is not None else "none"])

    walk(view, "accounts")
    out(table(["variable", "value from pipelines/accounts.yaml"], rows))


def bundled_templates() -> None:
    """Each template of pipelines/templates/: its description and params, and the spec using it."""
    import yaml

    users: dict[str, list[str]] = {}
    for spec in sorted((ROOT / "pipelines").glob("*.yaml")):
        data = yaml.safe_load(spec.read_text(encoding="utf-8"))
        if isinstance(data, dict) and isinstance(data.get("template"), dict):
            users.setdefault(data["template"]["name"], []).append(f"`pipelines/{spec.name}`")
    for path in sorted((ROOT / "pipelines" / "templates").glob("*.yaml")):
        header = yaml.safe_load(path.read_text(encoding="utf-8"))["template"]
        lines = [f"### `{path.stem}`", "", escape(header["description"]), ""]
        lines.append(f"Used by {', '.join(users.get(path.stem, ['no bundled spec']))}.")
        lines.append("")
        rows = []
        for name, declared in header["params"].items():
            default = code(declared["default"]) if "default" in declared else "**required**"
            rows.append([code(name), declared["type"], default, escape(declared.get("description", ""))])
        lines.append(table(["param", "type", "default", "description"], rows))
        out("\n".join(lines) + "\n")


def step_sections(schema: Schema, spec_text: str, level: int = 3) -> None:
    """A section per step kind (in the order of the schema's `kind` enum), each followed by the
    steps of that kind in `spec_text`, a spec the page validates."""
    by_kind = {kind: name for name, kind in schema.kinds.items()}
    names_by_kind: dict[str, list[str]] = {}
    for name, kind in spec_step_kinds(spec_text).items():
        names_by_kind.setdefault(kind, []).append(name)
    for kind in schema.defs["step"]["properties"]["kind"]["enum"]:
        out(schema.render(by_kind[kind], level))
        if names_by_kind.get(kind):
            out("For example:\n")
            step_snippet(spec_text, *names_by_kind[kind])
            out("")


# ---------------------------------------------------------------------------------------------
# README's summary of the support tables


def support_summary() -> None:
    """What README says in brief: step kinds, SDKs, frameworks, built-in algorithms, from the same
    tables as the support page (no compile: README stays quick to check)."""
    from sagespec.compiler.v3.unsupported import KINDS as V3_MISSING
    from sagespec.spec.checks.estimators import BUILTIN

    schema = Schema("pipeline")
    kinds = schema.defs["step"]["properties"]["kind"]["enum"]
    built = builders()
    v3_missing = [k for k in kinds if k not in built["v3"]]
    estimators = [f for f in schema.defs["estimator"]["properties"]["framework"]["enum"] if f not in BUILTIN]
    processors = schema.defs["processor"]["properties"]["framework"]["enum"]
    sdk_range = next(str(r.specifier) for r in requirements() if r.name == "sagemaker")
    lines = [
        f"- **Step kinds** ({len(kinds)}): " + ", ".join(code(k) for k in kinds) + ".",
        f"- **SageMaker Python SDK** `{sdk_range}`: v2 builds every kind; v3 builds all but "
        + (", ".join(code(k) for k in v3_missing) if v3_missing else "none")
        + (" (" + "; ".join(escape(V3_MISSING[k]) for k in v3_missing if k in V3_MISSING) + ")" if v3_missing else "")
        + ".",
        "- **Estimators**: "
        + ", ".join(code(f) for f in estimators)
        + "; **built-in algorithms**: "
        + ", ".join(code(b) for b in sorted(BUILTIN))
        + ".",
        "- **Processors**: " + ", ".join(code(p) for p in processors) + ".",
        "- **Targets**: `aws` (boto3, your credentials) and `local` (this machine: no Docker, no AWS account).",
    ]
    out("\n".join(lines))
