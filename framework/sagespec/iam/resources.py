"""Where AWS attaches a resource's own policy, and the policy AWS assumes where none is stored.

A request on an S3 object is decided with its bucket's policy, a model package with its group's,
an AssumeRole with the role's trust policy ("Resource-based policies", IAM User Guide). A KMS key
without a stored policy has the default key policy ("Default key policy", AWS KMS Developer
Guide); AWS's own image repositories let every account pull.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sagespec.aws import arns, partitions
from sagespec.iam import Principal


def role_arn_of(principal: Principal) -> str:
    """The role an assumed-role session belongs to (identity policies are attached to the role)."""
    session = arns.parse(principal.arn)
    if session is None or not session.resource.startswith("assumed-role/"):
        return principal.arn
    return str(replace(session, service="iam", resource="role/" + session.resource.split("/")[1]))


def policy_holder(resource: str, action: str) -> str | None:
    """The ARN under which the resource's own policy is stored, or None for resources without one."""
    arn = arns.parse(resource)
    if arn is None:
        return None
    service, rest = arn.service, arn.resource
    if service == "s3":
        return str(replace(arn, resource=rest.split("/", 1)[0]))
    if service == "sagemaker" and rest.startswith("model-package/") and rest.count("/") == 2:
        return str(replace(arn, resource="model-package-group/" + rest.split("/")[1]))
    if service == "sagemaker" and rest.startswith("model-package-group/"):
        return resource
    if service in ("kms", "ecr"):
        return resource
    if service == "iam" and rest.startswith("role/") and action.lower().startswith("sts:assumerole"):
        return resource
    return None


def default_key_policy(key_arn: str) -> dict[str, Any]:
    """The key policy AWS gives a key created without one ("Default key policy", AWS KMS guide):
    the account's root, so IAM policies of the account decide. Keys sagespec does not manage
    (a team's own key) are taken to have it."""
    key = arns.parse(key_arn)
    if key is None:
        raise ValueError(f"{key_arn} is not a key ARN")
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Enable IAM User Permissions",
                "Effect": "Allow",
                "Principal": {"AWS": str(replace(key, service="iam", region="", resource="root"))},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }


# AWS's own image repositories (Deep Learning Containers, built-in algorithms) let every account
# pull ("Docker Registry Paths and Example Code"); a repository without a stored policy is taken as one.
PUBLIC_IMAGES: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "AwsImagesArePullable",
            "Effect": "Allow",
            "Principal": "*",
            "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
        }
    ],
}


def sagemaker_trust(role_arn: str) -> dict[str, Any]:
    """The trust policy of a SageMaker execution role: SageMaker may assume it."""
    role = arns.parse(role_arn)
    if role is None:
        raise ValueError(f"{role_arn} is not a role ARN")
    principal = partitions.service_principal("sagemaker", role.partition)
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": principal}, "Action": "sts:AssumeRole"}]}


def assumed_policy(holder: str, governed: bool) -> dict[str, Any] | None:
    """The policy AWS would have on a resource sagespec stored none for. An ungoverned control
    plane stores no roles: every role is taken as a SageMaker execution role."""
    if ":kms:" in holder:
        return default_key_policy(holder)
    if ":ecr:" in holder:
        return PUBLIC_IMAGES
    if ":iam::" in holder and not governed:
        return sagemaker_trust(holder)
    return None
