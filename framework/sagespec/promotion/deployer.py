"""The role promotion assumes in each workload account (workload.deployer.template.json):
create models from the shared registry's versions, endpoint configs and endpoints, least privilege."""

from __future__ import annotations

from sagespec.promotion.ci_jobs import DEPLOYER_ROLE
from sagespec.spec.topology import Topology


def policy_document(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def workload_template(topology: Topology) -> dict:
    shared = topology.accounts["shared_services"].id
    deployment = topology.accounts["deployment"].id
    groups = topology.model_package_groups
    endpoints = [
        {"Fn::Sub": f"arn:${{AWS::Partition}}:sagemaker:${{AWS::Region}}:${{AWS::AccountId}}:{kind}/{g}-*"}
        for g in groups
        for kind in ("model", "endpoint-config", "endpoint")
    ]
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "sagespec: the role the deployment account's promotion assumes in this workload account",
        "Parameters": {
            "DeploymentAccountId": {"Type": "String", "Default": deployment, "AllowedPattern": "\\d{12}"},
            "SharedServicesAccountId": {"Type": "String", "Default": shared, "AllowedPattern": "\\d{12}"},
            "PromoteRoleArn": {"Type": "String", "Description": "PromoteRoleArn output of the deployment account's stack"},
            "EndpointRoleName": {
                "Type": "String",
                "Description": "The SageMaker role endpoints run as (accounts.yaml: workloads.<stage>.role)",
            },
        },
        "Resources": {
            "DeployerRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": DEPLOYER_ROLE,
                    "AssumeRolePolicyDocument": policy_document(
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${DeploymentAccountId}:root"}},
                            "Action": "sts:AssumeRole",
                            "Condition": {"ArnEquals": {"aws:PrincipalArn": {"Ref": "PromoteRoleArn"}}},
                        }
                    ),
                    "Policies": [
                        {
                            "PolicyName": "HostModelsFromTheRegistry",
                            "PolicyDocument": policy_document(
                                {
                                    "Sid": "ReadVersions",
                                    "Effect": "Allow",
                                    "Action": "sagemaker:DescribeModelPackage",
                                    "Resource": [
                                        {
                                            "Fn::Sub": f"arn:${{AWS::Partition}}:sagemaker:${{AWS::Region}}:${{SharedServicesAccountId}}:model-package/{g}/*"
                                        }
                                        for g in groups
                                    ],
                                },
                                {
                                    "Sid": "ModelsConfigsEndpoints",
                                    "Effect": "Allow",
                                    "Action": [
                                        "sagemaker:CreateModel",
                                        "sagemaker:DescribeModel",
                                        "sagemaker:CreateEndpointConfig",
                                        "sagemaker:DescribeEndpointConfig",
                                        "sagemaker:CreateEndpoint",
                                        "sagemaker:UpdateEndpoint",
                                        "sagemaker:UpdateEndpointWeightsAndCapacities",
                                        "sagemaker:DescribeEndpoint",
                                        "sagemaker:InvokeEndpoint",
                                    ],
                                    "Resource": endpoints,
                                },
                                {"Sid": "ListEndpoints", "Effect": "Allow", "Action": "sagemaker:ListEndpoints", "Resource": "*"},
                                {
                                    "Sid": "PassTheEndpointRole",
                                    "Effect": "Allow",
                                    "Action": "iam:PassRole",
                                    "Resource": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${EndpointRoleName}"},
                                    "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
                                },
                            ),
                        }
                    ],
                },
            }
        },
    }
