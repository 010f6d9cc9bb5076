"""Get / Std:Join / Std:JsonGet / conditions, evaluated on definitions the compiler produced."""

import json
from pathlib import Path

import pytest

from sagespec.definition.expressions import Context, EvaluationError, condition_holds, path_tokens

GOLDEN = json.loads((Path(__file__).resolve().parents[1] / "compiler/golden/california_housing.definition.json").read_text())
STEPS = {s["Name"]: s for s in GOLDEN["Steps"]}
CONDITION = STEPS["CheckMseThreshold"]
NESTED = {s["Name"]: s for s in CONDITION["Arguments"]["IfSteps"] + CONDITION["Arguments"]["ElseSteps"]}


def context(mse=0.25, threshold=0.3):
    ctx = Context(
        parameters={"AccuracyMseThreshold": threshold, "TrainingEpochs": 7, "InputData": "s3://b/d.tgz"},
        execution={"PipelineExecutionId": "abc123", "PipelineName": "california-housing"},
        read_property_file=lambda step, name: {"regression_metrics": {"mse": {"value": mse}}},
    )
    ctx.steps["EvaluateModel"] = {"ProcessingOutputConfig": {"Outputs": {"evaluation": {"S3Output": {"S3Uri": "s3://b/eval"}}}}}
    ctx.steps["TrainModel"] = {"ModelArtifacts": {"S3ModelArtifacts": "s3://b/job/output/model.tar.gz"}}
    return ctx


def test_path_tokens_read_sagemaker_property_paths():
    assert path_tokens("EvaluateModel.ProcessingOutputConfig.Outputs['evaluation'].S3Output.S3Uri") == [
        "EvaluateModel",
        "ProcessingOutputConfig",
        "Outputs",
        "evaluation",
        "S3Output",
        "S3Uri",
    ]
    assert path_tokens("FinalMetricDataList[0].Value") == ["FinalMetricDataList", 0, "Value"]


def test_join_of_a_step_property_from_the_compiled_register_step():
    statistics = NESTED["RegisterModel-RegisterModel"]["Arguments"]["ModelMetrics"]["ModelQuality"]["Statistics"]
    assert context().resolve(statistics["S3Uri"]) == "s3://b/eval/evaluation.json"


def test_join_with_a_parameter_from_the_compiled_fail_step():
    message = NESTED["FailMseTooHigh"]["Arguments"]["ErrorMessage"]
    assert context().resolve(message) == "Test MSE is above the threshold 0.3; nothing was registered."


def test_processing_output_join_uses_the_execution_id():
    uri = STEPS["PreprocessData"]["Arguments"]["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"]
    assert (
        context().resolve(uri)
        == "s3://sagespec-shared-artifacts-222222222222/california-housing/california-housing/abc123/PreprocessData/output/train"
    )


def test_hyperparameter_join_of_an_integer_parameter():
    assert context().resolve(STEPS["TrainModel"]["Arguments"]["HyperParameters"]["epochs"]) == "7"


def test_jsonget_condition_both_ways():
    (condition,) = CONDITION["Arguments"]["Conditions"]
    assert condition_holds(condition, context(mse=0.25)) is True
    assert condition_holds(condition, context(mse=0.31)) is False
    assert condition_holds({"Type": "Not", "Condition": condition}, context(mse=0.31)) is True


def test_lambda_arguments_resolve_jsonget_and_execution_variables():
    args = context(mse=0.4).resolve(NESTED["NotifyMseTooHigh"]["Arguments"])
    assert args == {"execution": "abc123", "mse": 0.4, "pipeline": "california-housing", "threshold": 0.3}


def test_unknown_references_are_errors():
    with pytest.raises(EvaluationError):
        context().resolve({"Get": "Steps.Nope.ModelArtifacts.S3ModelArtifacts"})
    with pytest.raises(EvaluationError):
        context().resolve({"Get": "Parameters.Nope"})
