"""A SageMaker execution in the keys of a local one (sagespec.backends.pipelines.EXECUTION_KEYS, STEP_KEYS).

ListPipelineExecutionSteps says what ran; what a person looks for in the summary comes from the
step's own Describe call, as on the console: a training job's model and final metrics
(DescribeTrainingJob), a registered version and its approval status (DescribeModelPackage), and a
condition's compared values, evaluated again from the execution's definition
(DescribePipelineDefinitionForExecution) and the property file its processing job wrote to S3.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sagespec.aws.sessions import aws_errors
from sagespec.backends.records import TERMINAL
from sagespec.definition import steps as definition_steps
from sagespec.definition.expressions import Context, EvaluationError, explain, walk
from sagespec.diagnostics import UserError

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_sagemaker.type_defs import ModelArtifactsTypeDef, ProcessingOutputTypeDef

# ListPipelineExecutionSteps' Metadata keys of the jobs a step runs, and the step type each means
# (older responses carry no StepType).
METADATA_TYPES = {
    "TrainingJob": "Training",
    "ProcessingJob": "Processing",
    "TransformJob": "Transform",
    "TuningJob": "Tuning",
    "RegisterModel": "RegisterModel",
    "Model": "Model",
    "Condition": "Condition",
    "Fail": "Fail",
    "Lambda": "Lambda",
    "Callback": "Callback",
    "EMR": "EMR",
    "QualityCheck": "QualityCheck",
    "ClarifyCheck": "ClarifyCheck",
}
_JOB_ARN = re.compile(r"arn:[\w-]+:sagemaker:[\w-]+:\d{12}:(training-job|processing-job|transform-job|hyper-parameter-tuning-job)/(.+)")


def when(value: datetime | str | None) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else value


def job_of(summary: Mapping[str, Any]) -> tuple[str, str] | None:
    """(kind, name) of the SageMaker job a step ran, from its Metadata: training-job, processing-job, ..."""
    for value in (summary.get("Metadata") or {}).values():
        if isinstance(value, dict):
            m = _JOB_ARN.fullmatch(value.get("Arn") or value.get("CheckJobArn") or "")
            if m:
                return m.group(1), m.group(2)
    return None


def step_of(summary: Mapping[str, Any], execution: str) -> dict[str, Any]:
    """A ListPipelineExecutionSteps entry in the keys of a local step."""
    metadata = summary.get("Metadata") or {}
    condition = metadata.get("Condition") or {}
    properties: dict[str, Any] = {"Metadata": metadata}
    if "Outcome" in condition:
        properties["Outcome"] = condition["Outcome"] == "True"
    if "RegisterModel" in metadata:
        properties["ModelPackageArn"] = metadata["RegisterModel"]["Arn"]
    if "Model" in metadata:
        properties["ModelName"] = metadata["Model"]["Arn"].rsplit("/", 1)[-1]
    outputs = (metadata.get("Callback") or metadata.get("Lambda") or {}).get("OutputParameters")
    if outputs:
        properties["OutputParameters"] = {p["Name"]: p["Value"] for p in outputs}
    reused = (summary.get("CacheHitResult") or summary.get("SelectiveExecutionResult") or {}).get("SourcePipelineExecutionArn")
    step = {
        "execution": execution,
        "name": summary["StepName"],
        "type": summary.get("StepType") or METADATA_TYPES.get(next(iter(metadata), ""), ""),
        "status": summary.get("StepStatus"),
        "properties": properties,
        "cache_key": None,  # SageMaker keeps its cache keys to itself
        "cached_from": reused,
        "failure_reason": summary.get("FailureReason"),
        "log_path": None,  # the log is in CloudWatch Logs: `sagespec executions logs`
        "started_at": when(summary.get("StartTime")),
        "ended_at": when(summary.get("EndTime")),
        "attempt_count": summary.get("AttemptCount"),
    }
    return step


def execution_of(described: Mapping[str, Any], summaries: Sequence[Mapping[str, Any]], parameters: dict[str, Any]) -> dict[str, Any]:
    """DescribePipelineExecution (+ its steps and parameters) in the keys of a local execution."""
    status = described["PipelineExecutionStatus"]
    arn = described["PipelineExecutionArn"]
    selective = described.get("SelectiveExecutionConfig") or {}
    execution = {
        "arn": arn,
        "pipeline": described.get("PipelineArn", "").rsplit("/", 1)[-1],
        "definition_version": described.get("PipelineVersionId"),
        "status": status,
        "parameters": parameters,
        "failure_reason": (described.get("FailureReason") or None) if status in ("Failed", "Stopped") else None,
        "retry_of": None,  # a retry on SageMaker is the same execution, started again
        "started_at": when(described.get("CreationTime")),
        "ended_at": when(described.get("LastModifiedTime")) if status in TERMINAL else None,
        "runner_pid": None,
        "max_parallel_steps": (described.get("ParallelismConfiguration") or {}).get("MaxParallelExecutionSteps"),
        "selective_source": selective.get("SourcePipelineExecutionArn"),
        "selected_steps": [s["StepName"] for s in selective.get("SelectedSteps", [])] or None,
        "steps": [step_of(s, arn) for s in summaries],
        "outbox": [],  # a Lambda step's messages went to Lambda itself
        "callbacks": [],
    }
    return execution


def add_details(session: boto3.Session, execution: dict[str, Any]) -> dict[str, Any]:
    """What the final summary shows, read from each finished step's own Describe call."""
    sm = session.client("sagemaker")
    steps = {s["name"]: s for s in execution["steps"]}
    for step in execution["steps"]:
        if step["status"] != "Succeeded":
            continue
        properties = step["properties"]
        if step["type"] == "Training" and "TrainingJob" in properties["Metadata"]:
            name = properties["Metadata"]["TrainingJob"]["Arn"].rsplit("/", 1)[-1]
            with aws_errors(f"describing training job {name}"):
                job = sm.describe_training_job(TrainingJobName=name)
            artifacts: ModelArtifactsTypeDef | None = job.get("ModelArtifacts")  # required in the API; not every answer has it
            properties["ModelArtifacts"] = artifacts or {"S3ModelArtifacts": ""}
            properties["FinalMetricDataList"] = [
                {"MetricName": m["MetricName"], "Value": m["Value"]} for m in job.get("FinalMetricDataList") or []
            ]
        if step["type"] == "RegisterModel" and "ModelPackageArn" in properties:
            with aws_errors(f"describing model package {properties['ModelPackageArn']}"):
                package = sm.describe_model_package(ModelPackageName=properties["ModelPackageArn"])
            properties["ModelApprovalStatus"] = package.get("ModelApprovalStatus")
    conditions = [s for s in execution["steps"] if s["type"] == "Condition" and "Outcome" in s["properties"]]
    if conditions:
        _explain_conditions(session, execution, conditions, steps)
    return execution


def _explain_conditions(
    session: boto3.Session, execution: dict[str, Any], conditions: list[dict[str, Any]], steps: dict[str, dict[str, Any]]
) -> None:
    sm = session.client("sagemaker")
    with aws_errors(f"reading the definition of execution {execution['arn']}"):
        described = sm.describe_pipeline_definition_for_execution(PipelineExecutionArn=execution["arn"])
    definition = json.loads(described["PipelineDefinition"])
    declared = definition_steps(definition)
    types: dict[str, str] = {p["Name"]: p.get("Type", "String") for p in definition.get("Parameters", [])}
    # ListPipelineParametersForExecution gives strings; the conditions compare typed values.
    cast: dict[str, Callable[[str], object]] = {"Float": float, "Integer": int, "Boolean": lambda v: v.lower() == "true"}
    outputs: dict[str, dict[str, ProcessingOutputTypeDef]] = {}

    def processing_outputs(step: str) -> dict[str, ProcessingOutputTypeDef]:
        if step not in outputs:
            arn = steps[step]["properties"]["Metadata"]["ProcessingJob"]["Arn"]
            with aws_errors(f"describing processing job {arn}"):
                job = sm.describe_processing_job(ProcessingJobName=arn.rsplit("/", 1)[-1])
            outputs[step] = {o["OutputName"]: o for o in job.get("ProcessingOutputConfig", {}).get("Outputs", [])}
        return outputs[step]

    def read_property_file(step: str, file_name: str) -> Any:
        if steps.get(step, {}).get("status") != "Succeeded" or "ProcessingJob" not in steps[step]["properties"]["Metadata"]:
            raise EvaluationError(f"step {step} ran no processing job here")
        found = next(f for f in declared[step].get("PropertyFiles", []) if f["PropertyFileName"] == file_name)
        uri = walk(processing_outputs(step), [found["OutputName"], "S3Output", "S3Uri"], step)
        bucket, _, prefix = uri.removeprefix("s3://").partition("/")
        key = "/".join(p for p in (prefix.rstrip("/"), found["FilePath"]) if p)
        with aws_errors(f"reading property file s3://{bucket}/{key}"):
            return json.loads(session.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())

    parameters: dict[str, object] = {}
    for name, value in execution["parameters"].items():
        try:
            parameters[name] = cast.get(types.get(name, "String"), str)(value)
        except ValueError:
            parameters[name] = value
    context = Context(
        parameters,
        {"PipelineExecutionArn": execution["arn"], "PipelineName": execution["pipeline"]},
        steps={name: step["properties"] for name, step in steps.items() if step["status"] == "Succeeded"},
        read_property_file=read_property_file,
    )
    for step in conditions:
        try:
            step["properties"]["Evaluated"] = explain(declared[step["name"]]["Arguments"]["Conditions"], context)
        except (EvaluationError, UserError, KeyError, ValueError):
            pass  # the outcome stands on its own; the values it compared are not readable here
