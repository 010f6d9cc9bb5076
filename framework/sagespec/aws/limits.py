"""SageMaker's limits on what a spec compiles to, as data: the checks read this table.

Each row bounds a place in a spec (a step kind and a path below the step, `*` for every key or
item) by what the SageMaker API accepts for the request member it becomes. The numbers are the
`min`/`max` of the named shape in the SageMaker API Reference, which botocore's service model
carries; tests/spec/test_limits.py checks every row against botocore's model, so a row cannot
drift from its source. Limits the JSON Schema already states (instance counts, volume sizes,
run times) are not repeated here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

API_REFERENCE = "https://docs.aws.amazon.com/sagemaker/latest/APIReference/"
# InvokeEndpoint: "Maximum payload size is 6 MB" (API reference, and the SageMaker endpoint quotas).
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024


@dataclass(frozen=True)
class Limit:
    kind: str  # the step kind
    path: tuple[str, ...]  # below the step; "*" = every value of a mapping or list, "*key" = every key of a mapping
    measure: str  # count (items or keys) | length (characters)
    shape: str  # the SageMaker API shape (botocore's service model name)
    minimum: int
    maximum: int
    member: str  # the request member, as the API reference names it

    @property
    def source(self) -> str:
        return f"{self.member} ({self.shape}: {self.minimum}-{self.maximum}), {API_REFERENCE}"


LIMITS: tuple[Limit, ...] = (
    Limit("processing", ("inputs",), "count", "ProcessingInputs", 0, 10, "CreateProcessingJob.ProcessingInputs"),
    Limit("processing", ("outputs",), "count", "ProcessingOutputs", 0, 10, "CreateProcessingJob.ProcessingOutputConfig.Outputs"),
    Limit("processing", ("arguments",), "count", "ContainerArguments", 1, 100, "CreateProcessingJob.AppSpecification.ContainerArguments"),
    Limit(
        "processing", ("arguments", "*"), "length", "ContainerArgument", 0, 256, "CreateProcessingJob.AppSpecification.ContainerArguments[]"
    ),
    Limit("processing", ("processor", "environment"), "count", "ProcessingEnvironmentMap", 0, 100, "CreateProcessingJob.Environment"),
    Limit(
        "processing",
        ("processor", "environment", "*key"),
        "length",
        "ProcessingEnvironmentKey",
        0,
        256,
        "CreateProcessingJob.Environment keys",
    ),
    Limit(
        "processing",
        ("processor", "environment", "*"),
        "length",
        "ProcessingEnvironmentValue",
        0,
        256,
        "CreateProcessingJob.Environment values",
    ),
    Limit("training", ("inputs",), "count", "InputDataConfig", 1, 20, "CreateTrainingJob.InputDataConfig"),
    Limit("training", ("hyperparameters",), "count", "HyperParameters", 0, 100, "CreateTrainingJob.HyperParameters"),
    Limit("training", ("hyperparameters", "*key"), "length", "HyperParameterKey", 0, 256, "CreateTrainingJob.HyperParameters keys"),
    Limit("training", ("hyperparameters", "*"), "length", "HyperParameterValue", 0, 2500, "CreateTrainingJob.HyperParameters values"),
    Limit("training", ("estimator", "environment"), "count", "TrainingEnvironmentMap", 0, 100, "CreateTrainingJob.Environment"),
    # A tuning job's training jobs: the same channels, up to 100 static hyperparameters
    # (CreateHyperParameterTuningJob.TrainingJobDefinition; "Define Hyperparameter Ranges").
    Limit("tuning", ("inputs",), "count", "InputDataConfig", 1, 20, "HyperParameterTrainingJobDefinition.InputDataConfig"),
    Limit("tuning", ("hyperparameters",), "count", "HyperParameters", 0, 100, "HyperParameterTrainingJobDefinition.StaticHyperParameters"),
    Limit("tuning", ("hyperparameters", "*key"), "length", "HyperParameterKey", 0, 256, "StaticHyperParameters keys"),
    Limit("tuning", ("hyperparameters", "*"), "length", "HyperParameterValue", 0, 2500, "StaticHyperParameters values"),
)


def places(
    value: object, path: tuple[str, ...], prefix: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], object, bool]]:
    """(path, value, is_key) of every place `path` names below `value`."""
    if not path:
        yield prefix, value, False
        return
    head, rest = path[0], path[1:]
    if head == "*key" and isinstance(value, dict):
        for key in value:
            yield prefix + (key,), key, True
    elif head == "*":
        items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        for key, item in items:
            yield from places(item, rest, prefix + (key,))
    elif isinstance(value, dict) and head in value:
        yield from places(value[head], rest, prefix + (head,))
