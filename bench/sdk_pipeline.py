"""Baseline for bench/compile.py: the California housing pipeline written by hand with SDK v2.

This is what a data scientist would write without sagespec, made to run offline as cheaply as
the SDK allows: S3 calls answered by a botocore handler (as sagespec does), the telemetry sender
replaced by a no-op, and no sagemaker_config (so the SDK skips its per-lookup config validation).
Run from the project root; prints the definition JSON (sorted keys, like `sagespec compile`).
"""

import datetime
import json
import os
import sys

os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")

import logging  # noqa: E402

import boto3  # noqa: E402
from botocore.awsrequest import AWSResponse  # noqa: E402

logging.getLogger("sagemaker").setLevel(logging.ERROR)
logging.getLogger("sagemaker.config").setLevel(logging.ERROR)

REGION = "us-east-1"
ROLE = "arn:aws:iam::111111111111:role/sagespec-data-science-execution"
BUCKET = "sagespec-shared-artifacts-222222222222"
PREFIX = "california-housing"
KMS_KEY = "arn:aws:kms:us-east-1:222222222222:key/6f0c1d9e-3b7a-4e52-9c1f-2a8d4b6e7f10"
GROUP = "arn:aws:sagemaker:us-east-1:222222222222:model-package-group/california-housing"


# cal_housing.data's columns and the features preprocess.py derives (pipelines/california_housing.yaml).
COLUMNS = [
    "longitude",
    "latitude",
    "housingMedianAge",
    "totalRooms",
    "totalBedrooms",
    "population",
    "households",
    "medianIncome",
    "medianHouseValue",
]
FEATURES = [
    "MedInc=medianIncome",
    "HouseAge=housingMedianAge",
    "AveRooms=totalRooms/households",
    "AveBedrms=totalBedrooms/households",
    "Population=population",
    "AveOccup=population/households",
    "Latitude=latitude",
    "Longitude=longitude",
    "Rot15=latitude*0.96592583+longitude*0.25881905",
    "Rot30=latitude*0.8660254+longitude*0.5",
    "Rot45=latitude*0.70710678+longitude*0.70710678",
    "Rot60=latitude*0.5+longitude*0.8660254",
    "Rot75=latitude*0.25881905+longitude*0.96592583",
]


def offline_boto_session():
    def answer(model, **_):
        ok = AWSResponse("https://offline.invalid", 200, {}, None)
        if model.name == "ListBuckets":
            return ok, {"Buckets": [{"Name": BUCKET, "CreationDate": datetime.datetime(2020, 1, 1)}]}
        if model.name == "PutObject":
            return ok, {"ETag": '"offline"'}
        raise RuntimeError(f"unexpected AWS call {model.name}")

    session = boto3.Session(aws_access_key_id="offline", aws_secret_access_key="offline", region_name=REGION)
    session.events.register("before-call.*.*", answer)
    return session


def build():
    import sagemaker.telemetry.telemetry_logging as telemetry
    from sagemaker.inputs import TrainingInput
    from sagemaker.lambda_helper import Lambda
    from sagemaker.model_metrics import MetricsSource, ModelMetrics
    from sagemaker.processing import ProcessingInput, ProcessingOutput
    from sagemaker.sklearn.processing import SKLearnProcessor
    from sagemaker.tensorflow import TensorFlow, TensorFlowModel
    from sagemaker.tensorflow.processing import TensorFlowProcessor
    from sagemaker.workflow.condition_step import ConditionStep
    from sagemaker.workflow.conditions import ConditionLessThanOrEqualTo
    from sagemaker.workflow.execution_variables import ExecutionVariables
    from sagemaker.workflow.fail_step import FailStep
    from sagemaker.workflow.functions import Join, JsonGet
    from sagemaker.workflow.lambda_step import LambdaOutput, LambdaOutputTypeEnum, LambdaStep
    from sagemaker.workflow.model_step import ModelStep
    from sagemaker.workflow.parameters import ParameterFloat, ParameterInteger, ParameterString
    from sagemaker.workflow.pipeline import Pipeline
    from sagemaker.workflow.pipeline_context import PipelineSession
    from sagemaker.workflow.properties import PropertyFile
    from sagemaker.workflow.steps import CacheConfig, ProcessingStep, TrainingStep

    telemetry._send_telemetry_request = lambda *args, **kwargs: None  # offline: never phone home
    session = PipelineSession(boto_session=offline_boto_session(), default_bucket=BUCKET, default_bucket_prefix=PREFIX)

    processing_type = ParameterString("ProcessingInstanceType", default_value="ml.m5.xlarge")
    training_type = ParameterString("TrainingInstanceType", default_value="ml.m5.xlarge")
    endpoint_type = ParameterString("EndpointInstanceType", default_value="ml.m5.large")
    input_data = ParameterString("InputData", default_value=f"s3://{BUCKET}/{PREFIX}/datasets/cal_housing.tgz")
    epochs = ParameterInteger("TrainingEpochs", default_value=150)
    threshold = ParameterFloat("AccuracyMseThreshold", default_value=0.3)
    group = ParameterString("ModelPackageGroup", default_value=GROUP)  # sagemaker-python-sdk issue 4139
    cache = CacheConfig(enable_caching=True, expire_after="P30D")

    sklearn = SKLearnProcessor(
        framework_version="1.2-1",
        role=ROLE,
        instance_type=processing_type,
        instance_count=1,
        volume_size_in_gb=30,
        output_kms_key=KMS_KEY,
        sagemaker_session=session,
    )
    preprocess = ProcessingStep(
        "PreprocessData",
        step_args=sklearn.run(
            code="training_code/preprocess.py",
            inputs=[ProcessingInput(source=input_data, destination="/opt/ml/processing/input", input_name="raw")],
            outputs=[ProcessingOutput(output_name=n, source=f"/opt/ml/processing/{n}") for n in ("train", "validation", "test", "scaler")],
            # One argument per column and feature (SageMaker caps each ContainerArgument at 256 characters).
            arguments=[
                "--seed",
                "42",
                "--target",
                "MedHouseVal=medianHouseValue/100000",
                "--model-computes-features",
                "--columns",
                *COLUMNS,
                "--features",
                *FEATURES,
            ],
        ),
        cache_config=cache,
        description="Derive the target and features, split train/validation/test, fit the scaler on train.",
    )

    def output(name):
        return preprocess.properties.ProcessingOutputConfig.Outputs[name].S3Output.S3Uri

    estimator = TensorFlow(
        entry_point="train.py",
        source_dir="training_code",
        role=ROLE,
        instance_type=training_type,
        instance_count=1,
        framework_version="2.13",
        py_version="py310",
        hyperparameters={
            "epochs": epochs,
            "batch_size": 512,
            "learning_rate": 0.005,
            "hidden_units": "128,64,32",
            "ensemble": 3,
            "patience": 12,
        },
        output_kms_key=KMS_KEY,
        volume_size=30,
        max_run=86400,
        model_dir="/opt/ml/model",
        sagemaker_session=session,
    )
    train = TrainingStep(
        "TrainModel",
        step_args=estimator.fit(
            inputs={
                "train": TrainingInput(output("train"), content_type="text/csv"),
                "validation": TrainingInput(output("validation"), content_type="text/csv"),
                "scaler": TrainingInput(output("scaler"), content_type="application/json"),
            }
        ),
        cache_config=cache,
        description="Keras regression network(s) with the scaler inside the graph.",
    )
    evaluator = TensorFlowProcessor(
        framework_version="2.13",
        py_version="py310",
        role=ROLE,
        instance_type=processing_type,
        instance_count=1,
        volume_size_in_gb=30,
        output_kms_key=KMS_KEY,
        sagemaker_session=session,
    )
    report = PropertyFile(name="EvaluationReport", output_name="evaluation", path="evaluation.json")
    evaluate = ProcessingStep(
        "EvaluateModel",
        step_args=evaluator.run(
            code="training_code/evaluate.py",
            inputs=[
                ProcessingInput(
                    source=train.properties.ModelArtifacts.S3ModelArtifacts, destination="/opt/ml/processing/model", input_name="model"
                ),
                ProcessingInput(source=output("test"), destination="/opt/ml/processing/test", input_name="test"),
            ],
            outputs=[ProcessingOutput(output_name="evaluation", source="/opt/ml/processing/evaluation")],
        ),
        property_files=[report],
        cache_config=cache,
        description="Test-split metrics in SageMaker's model-quality format.",
    )
    mse = JsonGet(step_name=evaluate.name, property_file=report, json_path="regression_metrics.mse.value")

    def model():
        return TensorFlowModel(
            model_data=train.properties.ModelArtifacts.S3ModelArtifacts, framework_version="2.13", role=ROLE, sagemaker_session=session
        )

    metrics = ModelMetrics(
        model_statistics=MetricsSource(
            s3_uri=Join(
                on="", values=[evaluate.properties.ProcessingOutputConfig.Outputs["evaluation"].S3Output.S3Uri, "/evaluation.json"]
            ),
            content_type="application/json",
        )
    )
    register = ModelStep(
        "RegisterModel",
        step_args=model().register(
            content_types=["text/csv", "application/json"],
            response_types=["application/json"],
            inference_instances=[endpoint_type, "ml.m5.xlarge"],
            transform_instances=["ml.m5.xlarge"],
            model_package_group_name=group,
            approval_status="PendingManualApproval",
            model_metrics=metrics,
            customer_metadata_properties={
                "pipeline": "california-housing",
                "target": "MedHouseVal=medianHouseValue/100000",
            },
            description="california-housing model, gated on test MSE",
        ),
    )
    create = ModelStep("CreateModel", step_args=model().create(instance_type=endpoint_type))
    notify = LambdaStep(
        "NotifyMseTooHigh",
        lambda_func=Lambda(function_arn="arn:aws:lambda:us-east-1:111111111111:function:sagespec-notify-team", session=session),
        inputs={
            "pipeline": "california-housing",
            "execution": ExecutionVariables.PIPELINE_EXECUTION_ID,
            "mse": mse,
            "threshold": threshold,
        },
        outputs=[LambdaOutput(output_name="status", output_type=LambdaOutputTypeEnum.String)],
    )
    fail = FailStep(
        "FailMseTooHigh", error_message=Join(on="", values=["Test MSE is above the threshold ", threshold, "; nothing was registered."])
    )
    gate = ConditionStep(
        "CheckMseThreshold",
        conditions=[ConditionLessThanOrEqualTo(left=mse, right=threshold)],
        if_steps=[register, create],
        else_steps=[notify, fail],
    )
    return Pipeline(
        name="california-housing",
        parameters=[processing_type, training_type, endpoint_type, input_data, epochs, group, threshold],
        steps=[preprocess, train, evaluate, gate],
        sagemaker_session=session,
    )


if __name__ == "__main__":
    definition = json.loads(build().definition())
    sys.stdout.write(json.dumps(definition, sort_keys=True, indent=2, ensure_ascii=False) + "\n")
