"""CI/CD for the deployment account, rendered from the topology: approval -> QA -> gate -> prod.

shared-services.promotion-events.template.json
    An EventBridge rule on "SageMaker Model Package State Change" to Approved for the
    topology's groups, forwarding the event to the deployment account's default bus
    (model package events are emitted in the account that owns the group).
deployment.promotion.template.json
    The bus policy that accepts those events; a rule that starts a CodePipeline: source
    (the project bundle in S3) -> PromoteQA (CodeBuild: `sagespec promote --stage qa` and
    `sagespec endpoints test`) -> ApproveProd (manual approval: the gate) -> PromoteProd
    (CodeBuild: `sagespec promote --stage prod --version <the version QA tested> --yes`).
workload.deployer.template.json
    Deployed in each workload account: the role the pipeline assumes there to create models
    from the shared registry, endpoint configs and endpoints, least privilege.
buildspec.yml
    The CodeBuild buildspec both promotion actions run (STAGE selects qa or prod).
github-promote.yml
    The same flow as a GitHub Actions workflow; the prod job's environment carries the
    required reviewers, which is GitHub's manual gate.
pipeline.<name>.template.json (`cicd render --with-pipelines`)
    Each of the project's pipelines as a stack (`compile --output cloudformation`: the pipeline
    and its schedule), for a CloudFormation deploy action of the account that runs them, after
    `sagespec upsert SPEC --upload-only` has put the code and the definition in place.
"""

from __future__ import annotations

import json
from typing import Any

from sagespec.accounts.ci_jobs import DEPLOYER_ROLE, buildspec, github_workflow
from sagespec.accounts.deployer import policy_document as _doc
from sagespec.accounts.deployer import workload_template
from sagespec.accounts.grants import SYMBOLIC_PARTITION
from sagespec.spec.topology import Topology

PIPELINE_NAME = "sagespec-promotion"
STATE_CHANGE = "SageMaker Model Package State Change"


def _approved_pattern(groups: list[str]) -> dict[str, Any]:
    return {
        "source": ["aws.sagemaker"],
        "detail-type": [STATE_CHANGE],
        "detail": {"ModelApprovalStatus": ["Approved"], "ModelPackageGroupName": groups},
    }


def _json(value: object) -> str:
    """Compact JSON, as CodePipeline's EnvironmentVariables configuration takes it."""
    return json.dumps(value, separators=(",", ":"))


def shared_services_template(topology: Topology) -> dict[str, Any]:
    deployment = topology.accounts["deployment"].id
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "sagespec: forward model approvals of the shared registry to the deployment account",
        "Parameters": {"DeploymentAccountId": {"Type": "String", "Default": deployment, "AllowedPattern": "\\d{12}"}},
        "Resources": {
            "ForwardRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": _doc(
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": SYMBOLIC_PARTITION.service_principal("events")},
                            "Action": "sts:AssumeRole",
                        }
                    ),
                    "Policies": [
                        {
                            "PolicyName": "PutEventsOnTheDeploymentBus",
                            "PolicyDocument": _doc(
                                {
                                    "Effect": "Allow",
                                    "Action": "events:PutEvents",
                                    "Resource": {
                                        "Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${DeploymentAccountId}:event-bus/default"
                                    },
                                }
                            ),
                        }
                    ],
                },
            },
            "ApprovedVersions": {
                "Type": "AWS::Events::Rule",
                "Properties": {
                    "Description": "Approved model package versions go to the deployment account",
                    "EventPattern": _approved_pattern(topology.model_package_groups),
                    "State": "ENABLED",
                    "Targets": [
                        {
                            "Id": "deployment-bus",
                            "RoleArn": {"Fn::GetAtt": ["ForwardRole", "Arn"]},
                            "Arn": {"Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${DeploymentAccountId}:event-bus/default"},
                        }
                    ],
                },
            },
        },
    }


def deployment_template(topology: Topology) -> dict[str, Any]:
    shared = topology.accounts["shared_services"].id
    workloads = topology.workloads
    group = topology.model_package_groups[0] if topology.model_package_groups else "model-group"
    packages = {"Fn::Sub": f"arn:${{AWS::Partition}}:sagemaker:${{AWS::Region}}:${{SharedServicesAccountId}}:model-package/{group}/*"}
    group_arn = {"Fn::Sub": f"arn:${{AWS::Partition}}:sagemaker:${{AWS::Region}}:${{SharedServicesAccountId}}:model-package-group/{group}"}
    bucket, prefix = topology.artifacts.get("bucket", ""), topology.artifacts.get("prefix", "")
    deployer_roles = [{"Fn::Sub": f"arn:${{AWS::Partition}}:iam::{a.id}:role/${{DeployerRoleName}}"} for a in workloads]

    def build_action(
        name: str, stage: str, order: int, extra_env: list[dict[str, str]] | None = None, namespace: str | None = None
    ) -> dict[str, Any]:
        env = [{"name": "STAGE", "value": stage, "type": "PLAINTEXT"}, *(extra_env or [])]
        action: dict[str, Any] = {
            "Name": name,
            "RunOrder": order,
            "ActionTypeId": {"Category": "Build", "Owner": "AWS", "Provider": "CodeBuild", "Version": "1"},
            "InputArtifacts": [{"Name": "project"}],
            "Configuration": {"ProjectName": {"Ref": "PromoteProject"}, "EnvironmentVariables": _json(env)},
        }
        if namespace:
            action["Namespace"] = namespace
        return action

    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "sagespec: promotion pipeline of the deployment account (approval -> QA -> manual gate -> prod)",
        "Parameters": {
            "SharedServicesAccountId": {"Type": "String", "Default": shared, "AllowedPattern": "\\d{12}"},
            "SourceBucket": {
                "Type": "String",
                "Description": "Bucket (versioned) holding the project bundle: pipelines/, pyproject.toml, ...",
            },
            "SourceKey": {"Type": "String", "Default": "sagespec/project.zip"},
            "DeployerRoleName": {"Type": "String", "Default": DEPLOYER_ROLE},
            "ModelPackageGroup": {"Type": "String", "Default": group},
            "ApprovalTopicArn": {"Type": "String", "Default": "", "Description": "SNS topic told about the prod gate (optional)"},
            "ArtifactObjectsArn": {
                "Type": "String",
                "Default": topology.aws.bucket(bucket, f"{prefix}/*"),
                "Description": "Registered metrics and test data the QA test reads",
            },
            "ArtifactKeyArn": {"Type": "String", "Default": topology.artifacts.get("kms_key", "")},
            "TestDataUri": {"Type": "String", "Description": "test.csv the QA test sends through the endpoint (header, target first)"},
        },
        "Conditions": {"NotifyApprovers": {"Fn::Not": [{"Fn::Equals": [{"Ref": "ApprovalTopicArn"}, ""]}]}},
        "Resources": {
            "AcceptApprovalsFromSharedServices": {
                "Type": "AWS::Events::EventBusPolicy",
                "Properties": {
                    "EventBusName": "default",
                    "StatementId": "sagespec-shared-services-approvals",
                    "Statement": {
                        "Effect": "Allow",
                        "Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${SharedServicesAccountId}:root"}},
                        "Action": "events:PutEvents",
                        "Resource": {"Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default"},
                    },
                },
            },
            "ArtifactStore": {
                "Type": "AWS::S3::Bucket",
                "Properties": {
                    "BucketEncryption": {
                        "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]
                    },
                    "PublicAccessBlockConfiguration": {
                        "BlockPublicAcls": True,
                        "BlockPublicPolicy": True,
                        "IgnorePublicAcls": True,
                        "RestrictPublicBuckets": True,
                    },
                },
            },
            "PromoteRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": _doc(
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": SYMBOLIC_PARTITION.service_principal("codebuild")},
                            "Action": "sts:AssumeRole",
                        }
                    ),
                    "Policies": [
                        {
                            "PolicyName": "PromoteFromTheRegistry",
                            "PolicyDocument": _doc(
                                {
                                    "Sid": "ReadTheGroup",
                                    "Effect": "Allow",
                                    "Action": "sagemaker:DescribeModelPackageGroup",
                                    "Resource": group_arn,
                                },
                                {
                                    "Sid": "ReadListAndStageVersions",
                                    "Effect": "Allow",
                                    "Action": [
                                        "sagemaker:DescribeModelPackage",
                                        "sagemaker:ListModelPackages",
                                        "sagemaker:UpdateModelPackage",
                                    ],
                                    "Resource": packages,
                                },
                                {
                                    "Sid": "DeployInWorkloadAccounts",
                                    "Effect": "Allow",
                                    "Action": "sts:AssumeRole",
                                    "Resource": deployer_roles,
                                },
                                {
                                    "Sid": "ReadMetricsAndTestData",
                                    "Effect": "Allow",
                                    "Action": "s3:GetObject",
                                    "Resource": {"Ref": "ArtifactObjectsArn"},
                                },
                                {
                                    "Sid": "DecryptArtifacts",
                                    "Effect": "Allow",
                                    "Action": "kms:Decrypt",
                                    "Resource": {"Ref": "ArtifactKeyArn"},
                                },
                                {
                                    "Sid": "ReadTheProjectAndArtifacts",
                                    "Effect": "Allow",
                                    "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"],
                                    "Resource": [{"Fn::Sub": "${ArtifactStore.Arn}/*"}],
                                },
                                {
                                    "Sid": "Logs",
                                    "Effect": "Allow",
                                    "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                                    "Resource": {
                                        "Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/codebuild/*"
                                    },
                                },
                            ),
                        }
                    ],
                },
            },
            "PromoteProject": {
                "Type": "AWS::CodeBuild::Project",
                "Properties": {
                    "Description": "sagespec promote (STAGE=qa|prod)",
                    "ServiceRole": {"Fn::GetAtt": ["PromoteRole", "Arn"]},
                    "Source": {"Type": "CODEPIPELINE", "BuildSpec": "cicd/buildspec.yml"},
                    "Artifacts": {"Type": "CODEPIPELINE"},
                    "TimeoutInMinutes": 90,
                    "Environment": {
                        "Type": "LINUX_CONTAINER",
                        "ComputeType": "BUILD_GENERAL1_SMALL",
                        "Image": "aws/codebuild/standard:7.0",
                        "EnvironmentVariables": [
                            {"Name": "GROUP", "Value": {"Ref": "ModelPackageGroup"}},
                            {"Name": "DEPLOYER_ROLE_NAME", "Value": {"Ref": "DeployerRoleName"}},
                            {"Name": "TEST_DATA", "Value": {"Ref": "TestDataUri"}},
                        ],
                    },
                },
            },
            "PipelineRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": _doc(
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": SYMBOLIC_PARTITION.service_principal("codepipeline")},
                            "Action": "sts:AssumeRole",
                        }
                    ),
                    "Policies": [
                        {
                            "PolicyName": "RunThePromotion",
                            "PolicyDocument": _doc(
                                {
                                    "Effect": "Allow",
                                    "Action": ["codebuild:StartBuild", "codebuild:BatchGetBuilds"],
                                    "Resource": {"Fn::GetAtt": ["PromoteProject", "Arn"]},
                                },
                                {
                                    "Effect": "Allow",
                                    "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:GetBucketVersioning", "s3:PutObject"],
                                    "Resource": [
                                        {"Fn::Sub": "arn:${AWS::Partition}:s3:::${SourceBucket}"},
                                        {"Fn::Sub": "arn:${AWS::Partition}:s3:::${SourceBucket}/*"},
                                        {"Fn::GetAtt": ["ArtifactStore", "Arn"]},
                                        {"Fn::Sub": "${ArtifactStore.Arn}/*"},
                                    ],
                                },
                                {
                                    "Fn::If": [
                                        "NotifyApprovers",
                                        {"Effect": "Allow", "Action": "sns:Publish", "Resource": {"Ref": "ApprovalTopicArn"}},
                                        {"Ref": "AWS::NoValue"},
                                    ]
                                },
                            ),
                        }
                    ],
                },
            },
            "PromotionPipeline": {
                "Type": "AWS::CodePipeline::Pipeline",
                "Properties": {
                    "Name": PIPELINE_NAME,
                    "PipelineType": "V2",
                    "RoleArn": {"Fn::GetAtt": ["PipelineRole", "Arn"]},
                    "ArtifactStore": {"Type": "S3", "Location": {"Ref": "ArtifactStore"}},
                    "Stages": [
                        {
                            "Name": "Source",
                            "Actions": [
                                {
                                    "Name": "Project",
                                    "ActionTypeId": {"Category": "Source", "Owner": "AWS", "Provider": "S3", "Version": "1"},
                                    "OutputArtifacts": [{"Name": "project"}],
                                    "Configuration": {
                                        "S3Bucket": {"Ref": "SourceBucket"},
                                        "S3ObjectKey": {"Ref": "SourceKey"},
                                        "PollForSourceChanges": "false",
                                    },
                                }
                            ],
                        },
                        {"Name": "QA", "Actions": [build_action("PromoteAndTestQA", "qa", 1, namespace="QA")]},
                        {
                            "Name": "ApproveProd",
                            "Actions": [
                                {
                                    "Name": "ManualGate",
                                    "RunOrder": 1,
                                    "ActionTypeId": {"Category": "Approval", "Owner": "AWS", "Provider": "Manual", "Version": "1"},
                                    "Configuration": {
                                        "CustomData": "Version #{QA.MODEL_VERSION} passed QA. Approve to promote it to prod.",
                                        "NotificationArn": {
                                            "Fn::If": ["NotifyApprovers", {"Ref": "ApprovalTopicArn"}, {"Ref": "AWS::NoValue"}]
                                        },
                                    },
                                }
                            ],
                        },
                        {
                            "Name": "Prod",
                            "Actions": [
                                build_action(
                                    "PromoteProd", "prod", 1, [{"name": "VERSION", "value": "#{QA.MODEL_VERSION}", "type": "PLAINTEXT"}]
                                )
                            ],
                        },
                    ],
                },
            },
            "StartOnApprovalRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": _doc(
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": SYMBOLIC_PARTITION.service_principal("events")},
                            "Action": "sts:AssumeRole",
                        }
                    ),
                    "Policies": [
                        {
                            "PolicyName": "StartThePromotion",
                            "PolicyDocument": _doc(
                                {
                                    "Effect": "Allow",
                                    "Action": "codepipeline:StartPipelineExecution",
                                    "Resource": {
                                        "Fn::Sub": f"arn:${{AWS::Partition}}:codepipeline:${{AWS::Region}}:${{AWS::AccountId}}:{PIPELINE_NAME}"
                                    },
                                }
                            ),
                        }
                    ],
                },
            },
            "StartOnApproval": {
                "Type": "AWS::Events::Rule",
                "Properties": {
                    "Description": "An Approved model package version starts the promotion pipeline",
                    "EventPattern": {**_approved_pattern(topology.model_package_groups), "account": [{"Ref": "SharedServicesAccountId"}]},
                    "State": "ENABLED",
                    "Targets": [
                        {
                            "Id": "promotion",
                            "RoleArn": {"Fn::GetAtt": ["StartOnApprovalRole", "Arn"]},
                            "Arn": {
                                "Fn::Sub": f"arn:${{AWS::Partition}}:codepipeline:${{AWS::Region}}:${{AWS::AccountId}}:{PIPELINE_NAME}"
                            },
                        }
                    ],
                },
            },
        },
        "Outputs": {
            "PromoteRoleArn": {
                "Value": {"Fn::GetAtt": ["PromoteRole", "Arn"]},
                "Description": "Trusted by the sagespec-deployer role of each workload account",
            }
        },
    }


def render(topology: Topology) -> dict[str, str | dict[str, Any]]:
    """File name -> content (dicts are CloudFormation templates, written as JSON)."""
    return {
        "shared-services.promotion-events.template.json": shared_services_template(topology),
        "deployment.promotion.template.json": deployment_template(topology),
        "workload.deployer.template.json": workload_template(topology),
        "buildspec.yml": buildspec(topology),
        "github-promote.yml": github_workflow(topology),
    }
