"""The reference syntax of spec strings.

    ${params.NAME}                      a pipeline parameter
    ${steps.STEP.outputs.NAME}          a processing output's S3 URI, or a Lambda step's output
    ${steps.STEP.model_artifacts}       a training step's model.tar.gz URI
    ${steps.STEP.best_model_artifacts}  a tuning step's best training job's model.tar.gz URI
    ${steps.STEP.properties.PATH}       any SageMaker step property, e.g. TrainingJobName
    ${steps.STEP.monitoring_analysis_config_uri}  a clarify_check step's monitoring analysis
                                        config (the SDK's check config attribute; known when the
                                        pipeline compiles, so it compiles to its S3 URI)
    ${execution.VARIABLE}               an execution variable, e.g. PipelineExecutionId
    $${                                 a literal "${"

A string that is exactly one reference compiles to that reference; text around references
compiles to Std:Join. Parsing never raises: problems come back with their offset in the string.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

EXECUTION_VARIABLES = (
    "CurrentDateTime",
    "StartDateTime",
    "PipelineExecutionId",
    "PipelineExecutionArn",
    "PipelineName",
    "PipelineArn",
    "TrainingJobName",
    "ProcessingJobName",
)

_NAME = r"[A-Za-z][A-Za-z0-9_-]*"
_PROPERTY_PATH = r"[A-Za-z][A-Za-z0-9_]*(?:\[\d+\])*(?:\.[A-Za-z][A-Za-z0-9_]*(?:\[\d+\])*)*"
_FORMS = (
    ("params", re.compile(r"params\.(?P<name>[A-Za-z][A-Za-z0-9_]*)")),
    ("outputs", re.compile(rf"steps\.(?P<name>{_NAME})\.outputs\.(?P<attr>{_NAME})")),
    ("model_artifacts", re.compile(rf"steps\.(?P<name>{_NAME})\.model_artifacts")),
    ("best_model_artifacts", re.compile(rf"steps\.(?P<name>{_NAME})\.best_model_artifacts")),
    ("monitoring_analysis_config_uri", re.compile(rf"steps\.(?P<name>{_NAME})\.monitoring_analysis_config_uri")),
    ("properties", re.compile(rf"steps\.(?P<name>{_NAME})\.properties\.(?P<attr>{_PROPERTY_PATH})")),
    ("execution", re.compile(r"execution\.(?P<name>[A-Za-z]+)")),
)


@dataclass(frozen=True)
class Reference:
    form: str  # params | outputs | model_artifacts | best_model_artifacts | monitoring_analysis_config_uri | properties | execution
    name: str  # parameter, step or execution-variable name
    attribute: str | None  # output name or property path
    text: str  # as written, e.g. "${steps.Train.model_artifacts}"
    offset: int

    @property
    def step(self) -> str | None:
        return self.name if self.form not in ("params", "execution") else None


@dataclass(frozen=True)
class ReferenceProblem:
    offset: int
    message: str
    hint: str | None = None


def parse(text: str) -> tuple[list[str | Reference], list[ReferenceProblem]]:
    """Split `text` into literal strings and references."""
    if "${" not in text:  # most strings: nothing to parse
        return ([text] if text else []), []
    parts: list[str | Reference] = []
    problems: list[ReferenceProblem] = []
    literal: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith("$${", i):
            literal.append("${")
            i += 3
            continue
        if not text.startswith("${", i):
            literal.append(text[i])
            i += 1
            continue
        end = text.find("}", i)
        if end < 0:
            problems.append(ReferenceProblem(i, f"unterminated reference {text[i : i + 30]!r}", "close it with }"))
            break
        inner = text[i + 2 : end].strip()
        reference = _match(inner, text[i : end + 1], i)
        if isinstance(reference, ReferenceProblem):
            problems.append(reference)
        else:
            if literal:
                parts.append("".join(literal))
                literal = []
            parts.append(reference)
        i = end + 1
    if literal:
        parts.append("".join(literal))
    return parts, problems


def references_in(text: str) -> list[Reference]:
    return [p for p in parse(text)[0] if isinstance(p, Reference)]


def is_single_reference(text: str) -> bool:
    parts, problems = parse(text)
    return not problems and len(parts) == 1 and isinstance(parts[0], Reference)


def parameter_named(value: object) -> str | None:
    """NAME when `value` is exactly ${params.NAME}, else None."""
    if not isinstance(value, str) or not is_single_reference(value):
        return None
    reference = references_in(value)[0]
    return reference.name if reference.form == "params" else None


def _match(inner: str, written: str, offset: int) -> Reference | ReferenceProblem:
    for form, pattern in _FORMS:
        m = pattern.fullmatch(inner)
        if m:
            name = m.group("name")
            if form == "execution" and name not in EXECUTION_VARIABLES:
                return ReferenceProblem(
                    offset, f"unknown execution variable '{name}' in {written}", "known: " + ", ".join(EXECUTION_VARIABLES)
                )
            attr = m.groupdict().get("attr")
            return Reference(form, name, attr, written, offset)
    return ReferenceProblem(
        offset,
        f"malformed reference {written}",
        "write ${params.NAME}, ${steps.STEP.outputs.NAME}, ${steps.STEP.model_artifacts}, ${steps.STEP.best_model_artifacts}, "
        "${steps.STEP.properties.PATH}, ${steps.STEP.monitoring_analysis_config_uri} or ${execution.VARIABLE}; $${ for a literal ${",
    )


# Step kinds that run training jobs: their estimator, code and model are read the same way (a
# model's training_step may name either; a tuning step's model is its best training job's).
TRAINING_KINDS = ("training", "tuning")


# An inference pipeline serves 2-15 containers in order ("Host models along with pre-processing
# logic as serial inference pipeline", SageMaker developer guide; CreateModel.Containers).
MAX_INFERENCE_CONTAINERS = 15


def model_sources(step: object) -> list[tuple[tuple[str | int, ...], dict[str, Any]]]:
    """(path below the step, source) of each model a register or create step serves: one
    `model:` mapping, or each entry of a `model:` list (an inference pipeline)."""
    model = step.get("model") if isinstance(step, dict) else None
    if isinstance(model, dict):
        return [(("model",), model)]
    if isinstance(model, list):
        return [(("model", j), m) for j, m in enumerate(model) if isinstance(m, dict)]
    return []


# image_uris.retrieve's keyword arguments a spec's image_uri may give (the SDK's names).
RETRIEVE_ARGUMENTS = ("version", "py_version", "instance_type", "image_scope", "accelerator_type", "container_version")


def image_places(data: dict[str, Any]) -> list[tuple[tuple[str | int, ...], dict[str, Any]]]:
    """(spec path, holder) of every image_uri the spec may write as retrieve's arguments: each
    processor and estimator, and each model a register or create step serves."""
    places: list[tuple[tuple[str | int, ...], dict[str, Any]]] = []
    for i, step in enumerate(data.get("steps", [])):
        for key in ("processor", "estimator"):
            if isinstance(step.get(key), dict):
                places.append((("steps", i, key), step[key]))
        places += [(("steps", i, *below), source) for below, source in model_sources(step)]
    return places


def processing_code(step: dict[str, Any]) -> str | None:
    """A processing step's script, relative to the project: `code` as written, or, for a bare name
    beside a source_dir (the SDK's FrameworkProcessor.run(code="prepare.py", source_dir="code"):
    "code must point to a file located at the root of source_dir"), that file in source_dir."""
    code, source = step.get("code"), step.get("source_dir")
    if isinstance(code, str) and isinstance(source, str) and "/" not in code:
        return f"{source.rstrip('/')}/{code}"
    return code if isinstance(code, str) else None
