"""Step by step, the compiled California housing pipeline has the structure of the seed workflow."""

import pytest

KMS = "arn:aws:kms:us-east-1:222222222222:key/6f0c1d9e-3b7a-4e52-9c1f-2a8d4b6e7f10"
GROUP = "arn:aws:sagemaker:us-east-1:222222222222:model-package-group/california-housing"


@pytest.fixture(scope="module")
def steps(housing):
    top = {s["Name"]: s for s in housing.definition["Steps"]}
    condition = top["CheckMseThreshold"]["Arguments"]
    nested = {s["Name"]: s for s in condition["IfSteps"] + condition["ElseSteps"]}
    return {**top, **nested}


def test_parameters_of_the_seed_workflow(housing):
    params = {p["Name"]: (p["Type"], p["DefaultValue"]) for p in housing.definition["Parameters"]}
    assert params == {
        "ProcessingInstanceType": ("String", "ml.m5.xlarge"),
        "TrainingInstanceType": ("String", "ml.m5.xlarge"),
        "EndpointInstanceType": ("String", "ml.m5.large"),
        "InputData": ("String", "s3://sagespec-shared-artifacts-222222222222/california-housing/datasets/cal_housing.tgz"),
        "TrainingEpochs": ("Integer", 150),
        "AccuracyMseThreshold": ("Float", 0.3),
        "ModelPackageGroup": ("String", GROUP),  # the group is a parameter (sagemaker-python-sdk issue 4139)
    }


def test_top_level_steps_and_types(housing):
    assert [(s["Name"], s["Type"]) for s in housing.definition["Steps"]] == [
        ("PreprocessData", "Processing"),
        ("TrainModel", "Training"),
        ("EvaluateModel", "Processing"),
        ("CheckMseThreshold", "Condition"),
    ]


def test_preprocess_runs_sklearn_with_the_input_parameter(steps):
    args = steps["PreprocessData"]["Arguments"]
    assert "sagemaker-scikit-learn:1.2-1-cpu-py3" in args["AppSpecification"]["ImageUri"]
    assert args["ProcessingResources"]["ClusterConfig"]["InstanceType"] == {"Get": "Parameters.ProcessingInstanceType"}
    raw = next(i for i in args["ProcessingInputs"] if i["InputName"] == "raw")
    assert raw["S3Input"]["S3Uri"] == {"Get": "Parameters.InputData"}
    assert {o["OutputName"] for o in args["ProcessingOutputConfig"]["Outputs"]} == {"train", "validation", "test", "scaler"}
    assert steps["PreprocessData"]["CacheConfig"] == {"Enabled": True, "ExpireAfter": "P30D"}


def test_training_is_tensorflow_with_kms_output_and_parameter_hyperparameters(steps):
    args = steps["TrainModel"]["Arguments"]
    assert "tensorflow-training:2.13-cpu-py310" in args["AlgorithmSpecification"]["TrainingImage"]
    assert args["OutputDataConfig"]["KmsKeyId"] == KMS
    assert args["HyperParameters"]["epochs"] == {"Std:Join": {"On": "", "Values": [{"Get": "Parameters.TrainingEpochs"}]}}
    assert args["HyperParameters"]["model_dir"] == '"/opt/ml/model"'  # fixed, not a timestamped default
    channels = {c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"] for c in args["InputDataConfig"]}
    assert channels["train"] == {"Get": "Steps.PreprocessData.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri"}
    assert set(channels) == {"train", "validation", "scaler"}


def test_evaluation_runs_in_a_tensorflow_container_with_a_property_file(steps):
    step = steps["EvaluateModel"]
    assert "tensorflow-training:2.13-cpu-py310" in step["Arguments"]["AppSpecification"]["ImageUri"]
    # TensorFlowProcessor (a FrameworkProcessor): runproc.sh unpacks the code and runs `python evaluate.py`.
    assert step["Arguments"]["AppSpecification"]["ContainerEntrypoint"] == ["/bin/bash", "/opt/ml/processing/input/entrypoint/runproc.sh"]
    code = {i["InputName"]: i["S3Input"]["S3Uri"] for i in step["Arguments"]["ProcessingInputs"]}
    assert code["code"].endswith("/sourcedir.tar.gz") and code["entrypoint"].endswith("/runproc.sh")
    assert step["PropertyFiles"] == [{"FilePath": "evaluation.json", "OutputName": "evaluation", "PropertyFileName": "EvaluationReport"}]
    model = next(i for i in step["Arguments"]["ProcessingInputs"] if i["InputName"] == "model")
    assert model["S3Input"]["S3Uri"] == {"Get": "Steps.TrainModel.ModelArtifacts.S3ModelArtifacts"}


def test_condition_compares_jsonget_mse_with_the_threshold(steps):
    (condition,) = steps["CheckMseThreshold"]["Arguments"]["Conditions"]
    assert condition == {
        "Type": "LessThanOrEqualTo",
        "LeftValue": {
            "Std:JsonGet": {
                "Path": "regression_metrics.mse.value",
                "PropertyFile": {"Get": "Steps.EvaluateModel.PropertyFiles.EvaluationReport"},
            }
        },
        "RightValue": {"Get": "Parameters.AccuracyMseThreshold"},
    }


def test_branches(steps):
    args = steps["CheckMseThreshold"]["Arguments"]
    assert [(s["Name"], s["Type"]) for s in args["IfSteps"]] == [
        ("RegisterModel-RegisterModel", "RegisterModel"),
        ("CreateModel-CreateModel", "Model"),
    ]
    assert [(s["Name"], s["Type"]) for s in args["ElseSteps"]] == [("NotifyMseTooHigh", "Lambda"), ("FailMseTooHigh", "Fail")]


def test_register_model_passes_the_cross_account_group_arn_and_pending_approval(steps):
    args = steps["RegisterModel-RegisterModel"]["Arguments"]
    assert args["ModelPackageGroupName"] == {"Get": "Parameters.ModelPackageGroup"}  # its default is GROUP
    assert args["ModelApprovalStatus"] == "PendingManualApproval"
    container = args["InferenceSpecification"]["Containers"][0]
    assert container["ModelDataUrl"] == {"Get": "Steps.TrainModel.ModelArtifacts.S3ModelArtifacts"}
    assert "tensorflow-inference:2.13-cpu" in container["Image"]
    # Metrics point at the evaluation step's real output through a property reference.
    assert args["ModelMetrics"]["ModelQuality"]["Statistics"] == {
        "ContentType": "application/json",
        "S3Uri": {
            "Std:Join": {
                "On": "",
                "Values": [{"Get": "Steps.EvaluateModel.ProcessingOutputConfig.Outputs['evaluation'].S3Output.S3Uri"}, "/evaluation.json"],
            }
        },
    }
    assert args["InferenceSpecification"]["SupportedRealtimeInferenceInstanceTypes"] == [
        {"Get": "Parameters.EndpointInstanceType"},
        "ml.m5.xlarge",
    ]


def test_create_model_uses_the_endpoint_instance_type_parameter(steps):
    args = steps["CreateModel-CreateModel"]["Arguments"]
    assert args["PrimaryContainer"]["ModelDataUrl"] == {"Get": "Steps.TrainModel.ModelArtifacts.S3ModelArtifacts"}


def test_else_branch_notifies_and_fails(steps):
    notify = steps["NotifyMseTooHigh"]
    assert notify["FunctionArn"] == "arn:aws:lambda:us-east-1:111111111111:function:sagespec-notify-team"
    assert notify["Arguments"]["mse"]["Std:JsonGet"]["Path"] == "regression_metrics.mse.value"
    message = steps["FailMseTooHigh"]["Arguments"]["ErrorMessage"]["Std:Join"]["Values"]
    assert message[1] == {"Get": "Parameters.AccuracyMseThreshold"}
