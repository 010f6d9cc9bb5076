"""The role promotion assumes in each workload account (workload.deployer.template.json):
create models from the shared registry's versions, endpoint configs and endpoints, least privilege.

One set of statements, written twice: with CloudFormation placeholders for the template, and
literal for the local control plane (`accounts apply --target local` stores them, and local
hosting decides every call as this role, as promotion makes it on AWS).
"""

from __future__ import annotations

from typing import Any

from sagespec.accounts.ci_jobs import DEPLOYER_ROLE
from sagespec.accounts.grants import SYMBOLIC_PARTITION
from sagespec.aws.partitions import Partition
from sagespec.spec.topology import Account, Topology

HOST_POLICY = "HostModelsFromTheRegistry"
HOSTING_ACTIONS = [
    "sagemaker:CreateModel",
    "sagemaker:DescribeModel",
    "sagemaker:CreateEndpointConfig",
    "sagemaker:DescribeEndpointConfig",
    "sagemaker:CreateEndpoint",
    "sagemaker:UpdateEndpoint",
    "sagemaker:UpdateEndpointWeightsAndCapacities",
    "sagemaker:DescribeEndpoint",
    "sagemaker:DeleteEndpoint",
    "sagemaker:InvokeEndpoint",
]


def policy_document(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def host_policy(aws: Partition, region: str, account: str, shared: str, groups: list[str], endpoint_role: str) -> dict[str, Any]:
    endpoints = [aws.sagemaker(region, account, f"{kind}/{g}-*") for g in groups for kind in ("model", "endpoint-config", "endpoint")]
    return policy_document(
        {
            "Sid": "ReadVersions",
            "Effect": "Allow",
            "Action": "sagemaker:DescribeModelPackage",
            "Resource": [aws.sagemaker(region, shared, f"model-package/{g}/*") for g in groups],
        },
        {"Sid": "ModelsConfigsEndpoints", "Effect": "Allow", "Action": HOSTING_ACTIONS, "Resource": endpoints},
        {"Sid": "ListEndpoints", "Effect": "Allow", "Action": "sagemaker:ListEndpoints", "Resource": "*"},
        {
            "Sid": "PassTheEndpointRole",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": aws.role(account, endpoint_role),
            "Condition": {"StringEquals": {"iam:PassedToService": aws.service_principal("sagemaker")}},
        },
    )


def deployer_arn(topology: Topology, account: Account) -> str:
    return topology.aws.role(account.id, DEPLOYER_ROLE)


def local_deployer(topology: Topology, account: Account) -> tuple[str, dict[str, Any], dict[str, dict[str, Any]]]:
    """(role ARN, trust policy, inline policies) of the deployer role in workload `account`, literal."""
    trust = policy_document(
        {
            "Effect": "Allow",
            "Principal": {"AWS": topology.aws.root(topology.accounts["deployment"].id)},
            "Action": "sts:AssumeRole",
        }
    )
    shared = topology.accounts["shared_services"].id
    policy = host_policy(topology.aws, topology.region or "", account.id, shared, topology.model_package_groups, account.role)
    return deployer_arn(topology, account), trust, {HOST_POLICY: policy}


def _sub(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_sub(v) for v in value]
    return {"Fn::Sub": value} if isinstance(value, str) and "${" in value else value


def workload_template(topology: Topology) -> dict[str, Any]:
    shared = topology.accounts["shared_services"].id
    deployment = topology.accounts["deployment"].id
    policy = host_policy(
        SYMBOLIC_PARTITION,
        "${AWS::Region}",
        "${AWS::AccountId}",
        "${SharedServicesAccountId}",
        topology.model_package_groups,
        "${EndpointRoleName}",
    )
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
                            "Principal": {"AWS": {"Fn::Sub": SYMBOLIC_PARTITION.root("${DeploymentAccountId}")}},
                            "Action": "sts:AssumeRole",
                            "Condition": {"ArnEquals": {"aws:PrincipalArn": {"Ref": "PromoteRoleArn"}}},
                        }
                    ),
                    "Policies": [{"PolicyName": HOST_POLICY, "PolicyDocument": _sub(policy)}],
                },
            }
        },
    }
