"""definition.py, the one reader of the compiled definition, on the golden California housing definition."""

import json

import pytest

from helpers import ROOT
from sagespec import definition
from sagespec.diagnostics import UserError

GOLDEN = json.loads((ROOT / "tests/compiler/golden/california_housing.definition.json").read_text())


def test_the_step_walk_includes_both_branches_after_their_condition():
    placed = list(definition.walk_steps(GOLDEN))
    names = [p.name for p in placed]
    assert names.index("CheckMseThreshold") < names.index("RegisterModel-RegisterModel")
    where = {p.name: (p.where, p.condition) for p in placed}
    assert where["TrainModel"] == ("top level", None)
    assert where["RegisterModel-RegisterModel"] == ("if branch of CheckMseThreshold", "CheckMseThreshold")
    assert where["FailMseTooHigh"] == ("else branch of CheckMseThreshold", "CheckMseThreshold")
    assert set(definition.steps(GOLDEN)) == set(names) and len(names) == 8


def test_dependencies_come_from_property_references_and_depends_on():
    steps = definition.steps(GOLDEN)
    assert definition.data_dependencies(steps["TrainModel"]) == {"PreprocessData"}
    assert definition.data_dependencies(steps["EvaluateModel"]) == {"PreprocessData", "TrainModel"}
    # A condition waits for what it reads, not for its branches (they run after it).
    assert definition.data_dependencies(steps["CheckMseThreshold"]) == {"EvaluateModel"}
    register = steps["RegisterModel-RegisterModel"]
    assert definition.referenced_steps(register["Arguments"], "ModelArtifacts") == {"TrainModel"}
    assert "EvaluateModel" in definition.referenced_steps(register["Arguments"])
    assert definition.data_dependencies({"Name": "B", "DependsOn": ["A"], "Arguments": {}}) == {"A"}


def test_without_branches_names_the_branch_steps():
    condition = definition.steps(GOLDEN)["CheckMseThreshold"]
    own = definition.without_branches(condition)
    assert own["Arguments"]["IfSteps"] == ["RegisterModel-RegisterModel", "CreateModel-CreateModel"]
    assert definition.without_branches(definition.steps(GOLDEN)["TrainModel"]) is definition.steps(GOLDEN)["TrainModel"]


def test_overrides_are_checked_and_typed_like_start_pipeline_execution_wants():
    typed = definition.typed_overrides(GOLDEN, {"TrainingEpochs": "050", "AccuracyMseThreshold": "0.25"}, "p")
    assert typed == [{"Name": "TrainingEpochs", "Value": "50"}, {"Name": "AccuracyMseThreshold", "Value": "0.25"}]
    with pytest.raises(UserError) as unknown:
        definition.typed_overrides(GOLDEN, {"Epochs": "5"}, "p")
    assert unknown.value.code == "E6006" and "TrainingEpochs" in unknown.value.hint
    with pytest.raises(UserError) as wrong:
        definition.typed_overrides(GOLDEN, {"TrainingEpochs": "fifty"}, "p")
    assert wrong.value.code == "E6007" and wrong.value.exit_code == 2
    boolean = {"Parameters": [{"Name": "B", "Type": "Boolean", "DefaultValue": False}]}
    assert definition.typed_overrides(boolean, {"B": "TRUE"}, "p") == [{"Name": "B", "Value": "true"}]
    enum = {"Parameters": [{"Name": "E", "Type": "String", "EnumValues": ["a", "b"]}]}
    with pytest.raises(UserError):
        definition.typed_overrides(enum, {"E": "c"}, "p")


def test_execution_parameters_layer_defaults_base_and_overrides():
    values = definition.execution_parameters(GOLDEN, {"TrainingEpochs": "7"}, "p", base={"AccuracyMseThreshold": 0.5, "Nope": 1})
    assert values["TrainingEpochs"] == 7 and values["AccuracyMseThreshold"] == 0.5 and "Nope" not in values
    assert values["ProcessingInstanceType"] == "ml.m5.xlarge"


def test_canonical_and_compact_json_are_stable():
    assert json.loads(definition.compact_json(GOLDEN)) == GOLDEN
    assert definition.canonical_json(GOLDEN) == (ROOT / "tests/compiler/golden/california_housing.definition.json").read_text()
