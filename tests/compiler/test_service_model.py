"""Every compiled step's Arguments are a valid request of the SageMaker API call the pipeline makes
for it, checked with botocore's own validator against botocore's SageMaker service model.

The pipeline service fills in the job name and resolves expressions ({"Get": ...}) at run time;
here each expression becomes a sample value of the shape it stands in for, so the validator checks
every member, type, required field and minimum the service model declares.
"""

import json

import botocore.session
import pytest
from botocore.validate import ParamValidator

from helpers import ROOT
from sagespec.definition import walk_steps

OPERATIONS = {  # step type -> (API operation, the name member the pipeline service sets)
    "Processing": ("CreateProcessingJob", "ProcessingJobName"),
    "Training": ("CreateTrainingJob", "TrainingJobName"),
    "RegisterModel": ("CreateModelPackage", None),
    "Model": ("CreateModel", "ModelName"),
    "Tuning": ("CreateHyperParameterTuningJob", "HyperParameterTuningJobName"),
    "Transform": ("CreateTransformJob", "TransformJobName"),
    "QualityCheck": ("CreateProcessingJob", "ProcessingJobName"),  # Model Monitor's analyzer job
    "ClarifyCheck": ("CreateProcessingJob", "ProcessingJobName"),  # Clarify's analyzer job
}
# Step types no bundled pipeline has, checked by their own tests: Clarify's in tests/compiler/test_clarify.py.
CHECKED_ELSEWHERE = {"ClarifyCheck"}
EXPRESSIONS = ("Get", "Std:Join", "Std:JsonGet")
SERVICE = botocore.session.get_session().get_service_model("sagemaker")


def sample(shape):
    if getattr(shape, "enum", None):  # only string shapes have one
        return shape.enum[0]
    kind = shape.type_name
    if kind == "string":
        text = "s3://bucket/key" if "Uri" in shape.name or "S3" in shape.name or "Url" in shape.name else "sample"
        return text.ljust(shape.metadata.get("min", 0), "x")
    if kind in ("integer", "long"):
        return max(int(shape.metadata.get("min", 1)), 1)
    if kind in ("float", "double"):
        return float(shape.metadata.get("min", 0.5))
    if kind == "boolean":
        return True
    raise AssertionError(f"no sample for {shape.name} ({kind})")


def concrete(value, shape):
    """`value` with each expression replaced by a sample of the shape it stands in for."""
    if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in EXPRESSIONS:
        return sample(shape)
    if shape.type_name == "structure" and isinstance(value, dict):
        return {k: concrete(v, shape.members[k]) if k in shape.members else v for k, v in value.items()}
    if shape.type_name == "list" and isinstance(value, list):
        return [concrete(v, shape.member) for v in value]
    if shape.type_name == "map" and isinstance(value, dict):
        return {k: concrete(v, shape.value) for k, v in value.items()}
    return value


def requests(definition: dict):
    for placed in walk_steps(definition):
        if placed.type in OPERATIONS:
            operation, name_member = OPERATIONS[placed.type]
            shape = SERVICE.operation_model(operation).input_shape
            params = concrete(placed.step["Arguments"], shape)
            if name_member:
                longest = shape.members[name_member].metadata.get("max", 63)
                params[name_member] = f"pipelines-abc123-{placed.name}"[:longest].rstrip("-")
            yield placed.name, operation, shape, params


# The bundled pipelines' golden definitions, SDK v2's and SDK v3's (tests/compiler/test_golden.py
# and tests/sdk_v3/ keep them current).
GOLDENS = {
    path.name.split(".")[0]: json.loads(path.read_text()) for path in sorted((ROOT / "tests/compiler/golden").glob("*.definition.json"))
} | {
    f"v3-{path.name.split('.')[0]}": json.loads(path.read_text())
    for path in sorted((ROOT / "tests/compiler/golden/sdk_v3").glob("*.definition.json"))
}
GOLDEN = GOLDENS["california_housing"]
CHECKED = [(pipeline, *request) for pipeline, definition in GOLDENS.items() for request in requests(definition)]


@pytest.mark.parametrize("pipeline, name, operation, shape, params", CHECKED, ids=[f"{c[0]}-{c[1]}" for c in CHECKED])
def test_each_step_is_a_valid_request_of_its_api_call(pipeline, name, operation, shape, params):
    report = ParamValidator().validate(params, shape)
    assert not report.has_errors(), f"{pipeline} {name} is not a valid {operation} request:\n{report.generate_report()}"


def test_every_step_type_that_calls_an_api_is_covered():
    covered = {p.type for definition in GOLDENS.values() for p in walk_steps(definition)}
    assert covered & set(OPERATIONS) == set(OPERATIONS) - CHECKED_ELSEWHERE


def test_the_check_catches_a_request_sagemaker_would_refuse():
    step = next(p.step for p in walk_steps(GOLDEN) if p.type == "Training")
    broken = json.loads(json.dumps(step["Arguments"]))
    broken["ResourceConfig"]["InstanceCount"] = "one"
    del broken["RoleArn"]
    shape = SERVICE.operation_model("CreateTrainingJob").input_shape
    report = ParamValidator().validate({**concrete(broken, shape), "TrainingJobName": "j"}, shape)
    text = report.generate_report()
    assert "Missing required parameter" in text and "RoleArn" in text and "InstanceCount" in text
