"""One CloudFormation template per account from the symbolic rendering.

Strings with `${Parameter}` placeholders become `Fn::Sub`; every placeholder that is not an AWS
pseudo parameter becomes a template parameter whose default is the topology's value, so a
template deploys as is and another environment overrides only what differs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sagespec.accounts.grants import cfn_parameter
from sagespec.accounts.render import AccountPolicies, render
from sagespec.spec.topology import Topology

if TYPE_CHECKING:
    from sagespec.accounts.needs import Need

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9]+)\}")


def _sub(value: Any, used: set[str]) -> Any:
    if isinstance(value, dict):
        return {k: _sub(v, used) for k, v in value.items()}
    if isinstance(value, list):
        return [_sub(v, used) for v in value]
    if isinstance(value, str) and "${" in value:
        used.update(_PLACEHOLDER.findall(value))
        return {"Fn::Sub": value}
    return value


def _logical_id(*parts: str) -> str:
    return "".join(re.sub(r"[^A-Za-z0-9]", " ", p).title().replace(" ", "") for p in parts)


def _defaults(topology: Topology) -> dict[str, tuple[str, str]]:
    defaults = {cfn_parameter(n): (a.id, f"Account ID of {n.replace('_', ' ')}") for n, a in topology.accounts.items()}
    defaults["ArtifactBucket"] = (topology.artifacts["bucket"], "Artifact bucket (in the account that owns the artifacts)")
    defaults["ArtifactBucketName"] = (topology.artifacts["bucket"], "Name of the artifact bucket this template creates")
    defaults["ArtifactPrefix"] = (topology.artifacts["prefix"], "Key prefix every artifact grant is scoped to")
    defaults["ArtifactKeyArn"] = (topology.artifacts["kms_key"], "ARN of the KMS key that encrypts model artifacts")
    return defaults


def template(account: AccountPolicies, topology: Topology) -> dict[str, Any]:
    used: set[str] = set()
    resources: dict[str, Any] = {}
    outputs: dict[str, Any] = {}
    for policy in account.resource_policies:
        if policy.kind == "s3-bucket":
            # The bucket itself: objects owned by the bucket owner whoever writes them (ACLs off,
            # "Controlling ownership of objects"), no public access, SSE-KMS with the artifact key.
            resources["ArtifactBucket"] = {
                "Type": "AWS::S3::Bucket",
                "DeletionPolicy": "Retain",
                "UpdateReplacePolicy": "Retain",
                "Properties": {
                    "BucketName": {"Ref": "ArtifactBucketName"},
                    "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
                    "PublicAccessBlockConfiguration": {
                        "BlockPublicAcls": True,
                        "BlockPublicPolicy": True,
                        "IgnorePublicAcls": True,
                        "RestrictPublicBuckets": True,
                    },
                    "BucketEncryption": {
                        "ServerSideEncryptionConfiguration": [
                            {
                                "ServerSideEncryptionByDefault": {
                                    "SSEAlgorithm": "aws:kms",
                                    "KMSMasterKeyID": {"Fn::GetAtt": ["ArtifactKey", "Arn"]},
                                },
                                "BucketKeyEnabled": True,
                            }
                        ]
                    },
                },
            }
            resources["ArtifactBucketPolicy"] = {
                "Type": "AWS::S3::BucketPolicy",
                "Properties": {"Bucket": {"Ref": "ArtifactBucket"}, "PolicyDocument": _sub(policy.document, used)},
            }
            used.add("ArtifactBucketName")
        elif policy.kind == "kms-key":
            resources["ArtifactKey"] = {
                "Type": "AWS::KMS::Key",
                "Properties": {
                    "Description": "Encrypts model artifacts shared across the ML accounts",
                    "EnableKeyRotation": True,
                    "KeyPolicy": _sub(policy.document, used),
                },
            }
            outputs["ArtifactKeyArn"] = {
                "Description": "Use as ArtifactKeyArn in the other accounts' stacks",
                "Value": {"Fn::GetAtt": ["ArtifactKey", "Arn"]},
            }
        elif policy.kind == "model-package-group":
            name = policy.resource.rsplit("/", 1)[1]
            resources[_logical_id(name, "group")] = {
                "Type": "AWS::SageMaker::ModelPackageGroup",
                "Properties": {"ModelPackageGroupName": name, "ModelPackageGroupPolicy": _sub(policy.document, used)},
            }
        elif policy.kind == "ecr-repository":
            name = policy.resource.split("repository/", 1)[1]
            resources[_logical_id(name, "repository")] = {
                "Type": "AWS::ECR::Repository",
                "Properties": {"RepositoryName": name, "RepositoryPolicyText": _sub(policy.document, used)},
            }
    for role in account.roles:
        logical = _logical_id(role.name)
        resources[logical] = {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "RoleName": role.name,
                "AssumeRolePolicyDocument": _sub(role.trust, used),
                "Policies": [{"PolicyName": name, "PolicyDocument": _sub(doc, used)} for name, doc in role.inline.items()],
                **({"ManagedPolicyArns": [_sub(arn, used) for arn in role.managed]} if role.managed else {}),
            },
        }
        outputs[f"{logical}Arn"] = {"Value": {"Fn::GetAtt": [logical, "Arn"]}}
    defaults = _defaults(topology)
    parameters = {
        name: {"Type": "String", "Default": defaults[name][0], "Description": defaults[name][1]}
        for name in sorted(used)
        if name in defaults and name not in resources  # ${ArtifactBucket} is the bucket itself where this template creates it
    }
    for name in parameters:
        if name.endswith("AccountId"):
            parameters[name]["AllowedPattern"] = "^[0-9]{12}$"
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"sagespec: cross-account ML workflow, {account.name.replace('_', ' ')} account",
        "Parameters": parameters,
        "Resources": resources,
        "Outputs": outputs,
    }


def templates(topology: Topology, needs: Sequence[Need] = ()) -> dict[str, dict[str, Any]]:
    return {account.name: template(account, topology) for account in render(topology, symbolic=True, needs=needs)}
