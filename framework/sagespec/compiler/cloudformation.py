"""A compiled pipeline as a CloudFormation template: AWS::SageMaker::Pipeline, and its
AWS::Scheduler::Schedule when the spec has a schedule (sagemaker-python-sdk issue 2033 asks for
pipelines as stacks).

The template does not inline the definition: it names the object `sagespec upsert` (or
`upsert --upload-only`) puts at a content-hash key beside the code (PipelineDefinitionS3Location),
so the stack changes exactly when the definition does, and definitions past the 51,200-byte
template body limit still deploy. The roles are parameters whose defaults are the spec's
execution role and the accounts file's scheduler role.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sagespec.accounts.render import scheduler_role_arn

if TYPE_CHECKING:
    from sagespec.compiler.compiled import CompiledPipeline

TEMPLATE_VERSION = "2010-09-09"


def template(compiled: CompiledPipeline) -> dict[str, Any]:
    definition = compiled.definition_upload
    properties: dict[str, Any] = {
        "PipelineName": compiled.name,
        "PipelineDefinition": {"PipelineDefinitionS3Location": {"Bucket": definition.bucket, "Key": definition.key}},
        "RoleArn": {"Ref": "PipelineRoleArn"},
    }
    if compiled.description:
        properties["PipelineDescription"] = compiled.description
    if compiled.tags:
        properties["Tags"] = [{"Key": k, "Value": v} for k, v in sorted(compiled.tags.items())]
    if compiled.max_parallel_steps:
        properties["ParallelismConfiguration"] = {"MaxParallelExecutionSteps": compiled.max_parallel_steps}
    parameters = {
        "PipelineRoleArn": {"Type": "String", "Default": compiled.role, "Description": "The role the pipeline's steps run as"},
    }
    resources = {"Pipeline": {"Type": "AWS::SageMaker::Pipeline", "Properties": properties}}
    outputs = {
        "PipelineArn": {
            "Description": "The pipeline",
            "Value": {"Fn::Sub": f"arn:${{AWS::Partition}}:sagemaker:${{AWS::Region}}:${{AWS::AccountId}}:pipeline/{compiled.name}"},
        }
    }
    schedule = compiled.schedule
    if schedule:
        parameters["SchedulerRoleArn"] = {
            "Type": "String",
            "Default": scheduler_role_arn(compiled.role),
            "Description": "The role EventBridge Scheduler assumes to start the pipeline (`sagespec accounts render`)",
        }
        target = {
            "Arn": outputs["PipelineArn"]["Value"],
            "RoleArn": {"Ref": "SchedulerRoleArn"},
            "SageMakerPipelineParameters": {"PipelineParameterList": schedule["PipelineParameterList"]},
        }
        resources["Schedule"] = {
            "Type": "AWS::Scheduler::Schedule",
            "DependsOn": "Pipeline",
            "Properties": {
                "Name": schedule["Name"],
                "ScheduleExpression": schedule["ScheduleExpression"],
                "ScheduleExpressionTimezone": schedule["ScheduleExpressionTimezone"],
                "State": schedule["State"],
                "FlexibleTimeWindow": {"Mode": "OFF"},
                "Target": target,
                **({"Description": schedule["Description"]} if schedule.get("Description") else {}),
            },
        }
        outputs["ScheduleArn"] = {"Description": "The schedule", "Value": {"Fn::GetAtt": ["Schedule", "Arn"]}}
    return {
        "AWSTemplateFormatVersion": TEMPLATE_VERSION,
        "Description": f"SageMaker pipeline {compiled.name} (sagespec compile --output cloudformation)",
        "Parameters": parameters,
        "Resources": resources,
        "Outputs": outputs,
    }
