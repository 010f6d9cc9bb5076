"""The IAM evaluator, table-driven: every row is (case, policy, caller, action, resource, identity policies, allowed)."""

import pytest

from sagespec.iam import Principal, Request, evaluate

GROUP = "arn:aws:sagemaker:us-east-1:222222222222:model-package-group/california-housing"
PACKAGE = "arn:aws:sagemaker:us-east-1:222222222222:model-package/california-housing/3"
DS = Principal.role("111111111111", "sagespec-data-science-execution")
DEPLOY = Principal.role("333333333333", "sagespec-deployment")
OWNER = Principal.role("222222222222", "admin")


def policy(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(principal, action, resource=GROUP, **extra):
    return {"Effect": "Allow", "Principal": principal, "Action": action, "Resource": resource, **extra}


def deny(principal, action, resource=GROUP, **extra):
    return {"Effect": "Deny", "Principal": principal, "Action": action, "Resource": resource, **extra}


CASES = [
    (
        "allow by account id",
        policy(allow({"AWS": "111111111111"}, "sagemaker:CreateModelPackage")),
        DS,
        "sagemaker:CreateModelPackage",
        GROUP,
        None,
        True,
    ),
    (
        "allow by root arn",
        policy(allow({"AWS": "arn:aws:iam::111111111111:root"}, "sagemaker:CreateModelPackage")),
        DS,
        "sagemaker:CreateModelPackage",
        GROUP,
        None,
        True,
    ),
    (
        "allow by role arn",
        policy(allow({"AWS": DS.arn}, "sagemaker:CreateModelPackage")),
        DS,
        "sagemaker:CreateModelPackage",
        GROUP,
        None,
        True,
    ),
    ("no policy across accounts", None, DS, "sagemaker:CreateModelPackage", GROUP, None, False),
    (
        "wrong principal",
        policy(allow({"AWS": "333333333333"}, "sagemaker:CreateModelPackage")),
        DS,
        "sagemaker:CreateModelPackage",
        GROUP,
        None,
        False,
    ),
    (
        "other role of the same account",
        policy(allow({"AWS": "arn:aws:iam::111111111111:role/other"}, "sagemaker:CreateModelPackage")),
        DS,
        "sagemaker:CreateModelPackage",
        GROUP,
        None,
        False,
    ),
    (
        "wrong action",
        policy(allow({"AWS": "111111111111"}, "sagemaker:DescribeModelPackage")),
        DS,
        "sagemaker:CreateModelPackage",
        GROUP,
        None,
        False,
    ),
    (
        "wrong resource",
        policy(allow({"AWS": "111111111111"}, "sagemaker:CreateModelPackage", GROUP.replace("housing", "churn"))),
        DS,
        "sagemaker:CreateModelPackage",
        GROUP,
        None,
        False,
    ),
    (
        "explicit deny over allow",
        policy(allow({"AWS": "111111111111"}, "sagemaker:*"), deny({"AWS": DS.arn}, "sagemaker:CreateModelPackage")),
        DS,
        "sagemaker:CreateModelPackage",
        GROUP,
        None,
        False,
    ),
    (
        "deny of another action leaves the allow",
        policy(allow({"AWS": "111111111111"}, "sagemaker:*"), deny({"AWS": DS.arn}, "sagemaker:DeleteModelPackage")),
        DS,
        "sagemaker:CreateModelPackage",
        GROUP,
        None,
        True,
    ),
    (
        "action wildcard",
        policy(
            allow(
                {"AWS": "333333333333"},
                "sagemaker:Describe*",
                "arn:aws:sagemaker:us-east-1:222222222222:model-package/california-housing/*",
            )
        ),
        DEPLOY,
        "sagemaker:DescribeModelPackage",
        PACKAGE,
        None,
        True,
    ),
    (
        "action is case-insensitive",
        policy(allow({"AWS": "333333333333"}, "SageMaker:describemodelpackage", PACKAGE)),
        DEPLOY,
        "sagemaker:DescribeModelPackage",
        PACKAGE,
        None,
        True,
    ),
    (
        "resource wildcard does not cross groups",
        policy(allow({"AWS": "333333333333"}, "sagemaker:*", "arn:aws:sagemaker:us-east-1:222222222222:model-package/churn/*")),
        DEPLOY,
        "sagemaker:UpdateModelPackage",
        PACKAGE,
        None,
        False,
    ),
    (
        "single-character wildcard",
        policy(
            allow(
                {"AWS": "333333333333"},
                "sagemaker:UpdateModelPackage",
                "arn:aws:sagemaker:us-east-1:222222222222:model-package/california-housing/?",
            )
        ),
        DEPLOY,
        "sagemaker:UpdateModelPackage",
        PACKAGE,
        None,
        True,
    ),
    (
        "principal star",
        policy(allow("*", "sagemaker:DescribeModelPackageGroup")),
        DEPLOY,
        "sagemaker:DescribeModelPackageGroup",
        GROUP,
        None,
        True,
    ),
    (
        "NotAction",
        policy({"Effect": "Allow", "Principal": {"AWS": "333333333333"}, "NotAction": "sagemaker:Delete*", "Resource": "*"}),
        DEPLOY,
        "sagemaker:DeleteModelPackage",
        PACKAGE,
        None,
        False,
    ),
    ("same account needs no resource policy", None, OWNER, "sagemaker:CreateModelPackage", GROUP, None, True),
    (
        "same account, identity policy denies",
        None,
        OWNER,
        "sagemaker:CreateModelPackage",
        GROUP,
        [{"Statement": [{"Effect": "Deny", "Action": "sagemaker:*", "Resource": "*"}]}],
        False,
    ),
    (
        "cross account needs the identity side too",
        policy(allow({"AWS": "111111111111"}, "sagemaker:CreateModelPackage")),
        DS,
        "sagemaker:CreateModelPackage",
        GROUP,
        [{"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}],
        False,
    ),
    (
        "cross account, both sides allow",
        policy(allow({"AWS": "111111111111"}, "sagemaker:CreateModelPackage")),
        DS,
        "sagemaker:CreateModelPackage",
        GROUP,
        [{"Statement": [{"Effect": "Allow", "Action": "sagemaker:CreateModelPackage", "Resource": GROUP}]}],
        True,
    ),
    (
        "condition holds",
        policy(allow("*", "sagemaker:CreateModelPackage", Condition={"StringEquals": {"aws:PrincipalAccount": "111111111111"}})),
        DS,
        "sagemaker:CreateModelPackage",
        GROUP,
        None,
        True,
    ),
    (
        "condition fails",
        policy(allow("*", "sagemaker:CreateModelPackage", Condition={"StringEquals": {"aws:PrincipalAccount": "999999999999"}})),
        DS,
        "sagemaker:CreateModelPackage",
        GROUP,
        None,
        False,
    ),
    (
        "unknown condition operator never grants",
        policy(allow("*", "sagemaker:CreateModelPackage", Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})),
        DS,
        "sagemaker:CreateModelPackage",
        GROUP,
        None,
        False,
    ),
    (
        "unknown condition operator still denies",
        policy(
            allow("*", "sagemaker:*"), deny("*", "sagemaker:CreateModelPackage", Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})
        ),
        DS,
        "sagemaker:CreateModelPackage",
        GROUP,
        None,
        False,
    ),
    (
        "a bare account ID means that account in the resource's partition, not aws-cn's",
        policy(allow({"AWS": "333333333333"}, "sagemaker:UpdateModelPackage", PACKAGE)),
        Principal.role("333333333333", "sagespec-deployment", partition="aws-cn"),
        "sagemaker:UpdateModelPackage",
        PACKAGE,
        None,
        False,
    ),
    (
        "the same account's root ARN in aws-us-gov is another principal",
        policy(allow({"AWS": "arn:aws:iam::333333333333:root"}, "sagemaker:UpdateModelPackage", PACKAGE)),
        Principal.role("333333333333", "sagespec-deployment", partition="aws-us-gov"),
        "sagemaker:UpdateModelPackage",
        PACKAGE,
        None,
        False,
    ),
    (
        "the account in its own partition still matches",
        policy(allow({"AWS": "333333333333"}, "sagemaker:UpdateModelPackage", PACKAGE)),
        DEPLOY,
        "sagemaker:UpdateModelPackage",
        PACKAGE,
        None,
        True,
    ),
    (
        "statement without principal grants nothing in a resource policy",
        policy({"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"}),
        DS,
        "sagemaker:CreateModelPackage",
        GROUP,
        None,
        False,
    ),
]


@pytest.mark.parametrize("case, resource_policy, caller, action, resource, identity, allowed", CASES, ids=[c[0] for c in CASES])
def test_policy_evaluation(case, resource_policy, caller, action, resource, identity, allowed):
    request = Request(caller, action, resource, resource_account="222222222222")
    decision = evaluate(request, resource_policy, identity)
    assert decision.allowed is allowed, decision.reason


def test_deciding_statement_is_named():
    decision = evaluate(
        Request(DS, "sagemaker:CreateModelPackage", GROUP, "222222222222"),
        policy(
            dict(allow({"AWS": "111111111111"}, "sagemaker:*"), Sid="DataScienceWrites"),
            dict(deny({"AWS": DS.arn}, "sagemaker:CreateModelPackage"), Sid="Freeze"),
        ),
    )
    assert (decision.allowed, decision.statement, decision.reason) == (False, "Freeze", "explicitly denied by the resource policy")
