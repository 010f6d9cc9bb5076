"""The IAM evaluator, table-driven from the IAM User Guide's rules and examples.

Every row names the document it follows. Rows are (id, caller, action, resource, resource policy,
identity policies, request context, allowed). The resource's account is read from its ARN
(S3 object ARNs carry none: they are in BUCKET_ACCOUNT).
"""

import pytest

from sagespec.iam import Principal, Request, evaluate
from sagespec.iam.conditions import arn_like, conditions_hold, glob_matches, substitute

DS_ID, SHARED_ID, DEPLOY_ID, OUTSIDER_ID = "111111111111", "222222222222", "333333333333", "999999999999"
BUCKET_ACCOUNT = SHARED_ID
GROUP = f"arn:aws:sagemaker:us-east-1:{SHARED_ID}:model-package-group/california-housing"
PACKAGE = f"arn:aws:sagemaker:us-east-1:{SHARED_ID}:model-package/california-housing/3"
PACKAGES = f"arn:aws:sagemaker:us-east-1:{SHARED_ID}:model-package/california-housing/*"
KEY = f"arn:aws:kms:us-east-1:{SHARED_ID}:key/6f0c1d9e-3b7a-4e52-9c1f-2a8d4b6e7f10"
OBJECT = "arn:aws:s3:::artifacts/california-housing/model.tar.gz"
BUCKET = "arn:aws:s3:::artifacts"
ROLE = f"arn:aws:iam::{DS_ID}:role/sagespec-data-science-execution"
DS = Principal.role(DS_ID, "sagespec-data-science-execution", "aws")
DS_OTHER = Principal.role(DS_ID, "intern", "aws")
DEPLOY = Principal.role(DEPLOY_ID, "sagespec-deployment", "aws")
DEPLOY_ROOT = Principal.root(DEPLOY_ID, "aws")
OWNER = Principal.role(SHARED_ID, "admin", "aws")
OWNER_ROOT = Principal.root(SHARED_ID, "aws")
SESSION = Principal(DS_ID, f"arn:aws:sts::{DS_ID}:assumed-role/sagespec-data-science-execution/ci-run-7")
SAGEMAKER = Principal.service("sagemaker.amazonaws.com")


def policy(*statements, version="2012-10-17"):
    return {"Version": version, "Statement": list(statements)}


def allow(principal, action, resource=None, **extra):
    statement = {"Effect": "Allow", "Action": action, **extra}
    if principal is not None:
        statement["Principal"] = principal
    if resource is not None:
        statement["Resource"] = resource
    return statement


def deny(principal, action, resource=None, **extra):
    return {**allow(principal, action, resource, **extra), "Effect": "Deny"}


def identity(action, resource="*", **extra):
    return [policy(allow(None, action, resource, **extra))]


ANY_SAGEMAKER = identity("sagemaker:*")
ACCOUNT = {"AWS": DS_ID}
DEPLOY_ACCOUNT = {"AWS": f"arn:aws:iam::{DEPLOY_ID}:root"}

# fmt: off
CASES = [
    # -- "Policy evaluation logic": implicit deny, explicit deny, the root user ---------------------------
    ("nothing allows: implicit deny", OWNER, "sagemaker:CreateModelPackage", GROUP, None, None, {}, False),
    ("same account, identity policy allows", OWNER, "sagemaker:CreateModelPackage", GROUP, None, ANY_SAGEMAKER, {}, True),
    ("same account, identity policy for another action", OWNER, "sagemaker:CreateModelPackage", GROUP, None, identity("s3:*"), {}, False),
    ("explicit deny in the identity policy wins", OWNER, "sagemaker:CreateModelPackage", GROUP, None,
     [ANY_SAGEMAKER[0], policy(deny(None, "sagemaker:Create*", "*"))], {}, False),
    ("the root user needs no identity policy in its account", OWNER_ROOT, "sagemaker:DeleteModelPackageGroup", GROUP, None, None, {}, True),
    ("an explicit deny in a resource policy binds the root user too", OWNER_ROOT, "sagemaker:DeleteModelPackageGroup", GROUP,
     policy(deny("*", "sagemaker:Delete*", GROUP)), None, {}, False),
    # -- single account: resource policy naming the principal, or only the account -------------------------
    ("same account, resource policy names the role", DS, "s3:GetObject", "arn:aws:s3:::ds-bucket/x",
     policy(allow({"AWS": ROLE}, "s3:GetObject", "arn:aws:s3:::ds-bucket/*")), None, {"resource_account": DS_ID}, True),
    ("same account, resource policy names only the account: the identity side must allow", DS, "s3:GetObject",
     "arn:aws:s3:::ds-bucket/x", policy(allow(ACCOUNT, "s3:GetObject", "arn:aws:s3:::ds-bucket/*")), None, {"resource_account": DS_ID}, False),
    ("same account, account-level grant plus identity allow", DS, "s3:GetObject", "arn:aws:s3:::ds-bucket/x",
     policy(allow(ACCOUNT, "s3:GetObject", "arn:aws:s3:::ds-bucket/*")), identity("s3:GetObject"), {"resource_account": DS_ID}, True),
    ("same account, resource policy names another role", DS, "s3:GetObject", "arn:aws:s3:::ds-bucket/x",
     policy(allow({"AWS": f"arn:aws:iam::{DS_ID}:role/other"}, "s3:GetObject", "*")), None, {"resource_account": DS_ID}, False),
    ("resource policy Principal * grants within the account", DS, "s3:GetObject", "arn:aws:s3:::ds-bucket/x",
     policy(allow("*", "s3:GetObject", "*")), None, {"resource_account": DS_ID}, True),
    # -- "Cross-account policy evaluation logic": both sides must allow ------------------------------------
    ("cross account: no resource policy", DS, "sagemaker:CreateModelPackage", PACKAGE, None, ANY_SAGEMAKER, {}, False),
    ("cross account: resource policy without identity policy (a made-up role)", DS, "sagemaker:CreateModelPackage", PACKAGE,
     policy(allow(ACCOUNT, "sagemaker:CreateModelPackage", PACKAGES)), None, {}, False),
    ("cross account: identity policy for another service only", DS, "sagemaker:CreateModelPackage", PACKAGE,
     policy(allow(ACCOUNT, "sagemaker:CreateModelPackage", PACKAGES)), identity("s3:*"), {}, False),
    ("cross account: both sides allow", DS, "sagemaker:CreateModelPackage", PACKAGE,
     policy(allow(ACCOUNT, "sagemaker:CreateModelPackage", PACKAGES)), identity("sagemaker:CreateModelPackage", PACKAGES), {}, True),
    ("cross account: identity policy on another group", DS, "sagemaker:CreateModelPackage", PACKAGE,
     policy(allow(ACCOUNT, "sagemaker:CreateModelPackage", PACKAGES)), identity("sagemaker:CreateModelPackage", PACKAGES.replace("housing", "churn")), {}, False),
    ("cross account: role named in the resource policy still needs its identity policy", DS, "sagemaker:CreateModelPackage", PACKAGE,
     policy(allow({"AWS": ROLE}, "sagemaker:CreateModelPackage", PACKAGES)), None, {}, False),
    ("cross account: the root user of a trusted account", DEPLOY_ROOT, "sagemaker:UpdateModelPackage", PACKAGE,
     policy(allow(DEPLOY_ACCOUNT, "sagemaker:UpdateModelPackage", PACKAGES)), None, {}, True),
    ("cross account: the root user of an untrusted account", Principal.root(OUTSIDER_ID, "aws"), "sagemaker:UpdateModelPackage", PACKAGE,
     policy(allow(DEPLOY_ACCOUNT, "sagemaker:UpdateModelPackage", PACKAGES)), None, {}, False),
    ("cross account: another role of the trusted account without policies", Principal.role(DEPLOY_ID, "made-up", "aws"),
     "sagemaker:UpdateModelPackage", PACKAGE, policy(allow(DEPLOY_ACCOUNT, "sagemaker:UpdateModelPackage", PACKAGES)), None, {}, False),
    ("cross account: explicit deny in the resource policy", DS, "sagemaker:CreateModelPackage", PACKAGE,
     policy(allow(ACCOUNT, "sagemaker:*", "*"), deny({"AWS": ROLE}, "sagemaker:CreateModelPackage", "*")), ANY_SAGEMAKER, {}, False),
    ("cross account: deny of another action leaves the allow", DS, "sagemaker:CreateModelPackage", PACKAGE,
     policy(allow(ACCOUNT, "sagemaker:*", "*"), deny({"AWS": ROLE}, "sagemaker:DeleteModelPackage", "*")), ANY_SAGEMAKER, {}, True),
    ("a resource policy statement without Principal grants nothing", DS, "sagemaker:CreateModelPackage", PACKAGE,
     policy(allow(None, "sagemaker:*", "*")), ANY_SAGEMAKER, {}, False),
    # -- "Principal": partitions, account forms, sessions, no partial wildcards ----------------------------
    ("a bare account ID in the resource's partition matches", DEPLOY_ROOT, "sagemaker:UpdateModelPackage", PACKAGE,
     policy(allow({"AWS": DEPLOY_ID}, "sagemaker:UpdateModelPackage", PACKAGES)), None, {}, True),
    ("the same twelve digits in aws-cn are another account", Principal.root(DEPLOY_ID, "aws-cn"), "sagemaker:UpdateModelPackage",
     PACKAGE, policy(allow({"AWS": DEPLOY_ID}, "sagemaker:UpdateModelPackage", PACKAGES)), None, {}, False),
    ("an aws-us-gov role with the deployment account's number", Principal.role(DEPLOY_ID, "sagespec-deployment", "aws-us-gov"),
     "sagemaker:UpdateModelPackage", PACKAGE, policy(allow(DEPLOY_ACCOUNT, "sagemaker:UpdateModelPackage", PACKAGES)), ANY_SAGEMAKER, {}, False),
    ("a root ARN of another partition in the policy names nobody here", DEPLOY_ROOT, "sagemaker:UpdateModelPackage", PACKAGE,
     policy(allow({"AWS": f"arn:aws-cn:iam::{DEPLOY_ID}:root"}, "sagemaker:UpdateModelPackage", PACKAGES)), None, {}, False),
    ("an assumed-role session is its role", SESSION, "sagemaker:CreateModelPackage", PACKAGE,
     policy(allow({"AWS": ROLE}, "sagemaker:CreateModelPackage", PACKAGES)), identity("sagemaker:CreateModelPackage"), {}, True),
    ("a role with a path matches its session", Principal(DS_ID, f"arn:aws:sts::{DS_ID}:assumed-role/runner/s"), "s3:GetObject", OBJECT,
     policy(allow({"AWS": f"arn:aws:iam::{DS_ID}:role/teams/ml/runner"}, "s3:GetObject", "*")), identity("s3:GetObject"), {}, True),
    ("a partial wildcard in Principal matches nothing (IAM forbids it)", DS, "s3:GetObject", OBJECT,
     policy(allow({"AWS": f"arn:aws:iam::{DS_ID}:role/sagespec-*"}, "s3:GetObject", "*")), identity("s3:GetObject"), {}, False),
    ("AWS * matches any principal", DS, "s3:GetObject", OBJECT, policy(allow({"AWS": "*"}, "s3:GetObject", "*")), identity("s3:GetObject"), {}, True),
    ("a service principal: trust policy", SAGEMAKER, "sts:AssumeRole", ROLE,
     policy(allow({"Service": "sagemaker.amazonaws.com"}, "sts:AssumeRole")), None, {"resource_account": DS_ID}, True),
    ("another service is not trusted", Principal.service("lambda.amazonaws.com"), "sts:AssumeRole", ROLE,
     policy(allow({"Service": "sagemaker.amazonaws.com"}, "sts:AssumeRole")), None, {"resource_account": DS_ID}, False),
    ("assuming a role needs its trust policy even with AdministratorAccess", DS_OTHER, "sts:AssumeRole", ROLE,
     policy(allow({"Service": "sagemaker.amazonaws.com"}, "sts:AssumeRole")), identity("*"), {"resource_account": DS_ID}, False),
    ("a CI role trusted by name assumes the deployment role across accounts", Principal.role(SHARED_ID, "ci", "aws"), "sts:AssumeRole",
     f"arn:aws:iam::{DEPLOY_ID}:role/sagespec-deployment", policy(allow({"AWS": f"arn:aws:iam::{SHARED_ID}:role/ci"}, "sts:AssumeRole")),
     identity("sts:AssumeRole", f"arn:aws:iam::{DEPLOY_ID}:role/sagespec-deployment"), {"resource_account": DEPLOY_ID}, True),
    # -- "NotPrincipal" ----------------------------------------------------------------------------------------
    ("NotPrincipal with Deny spares a role listed with its account", DS, "s3:GetObject", OBJECT,
     policy(allow(ACCOUNT, "s3:GetObject", "*"), deny(None, "s3:*", "*", NotPrincipal={"AWS": [ROLE, f"arn:aws:iam::{DS_ID}:root"]})),
     identity("s3:GetObject"), {}, True),
    ("NotPrincipal with Deny listing the role but not its account denies it", DS, "s3:GetObject", OBJECT,
     policy(allow(ACCOUNT, "s3:GetObject", "*"), deny(None, "s3:*", "*", NotPrincipal={"AWS": ROLE})), identity("s3:GetObject"), {}, False),
    ("NotPrincipal with Deny denies everyone else", DS_OTHER, "s3:GetObject", OBJECT,
     policy(allow(ACCOUNT, "s3:GetObject", "*"), deny(None, "s3:*", "*", NotPrincipal={"AWS": [ROLE, DS_ID]})), identity("s3:GetObject"), {}, False),
    ("NotPrincipal with Allow is not supported: it grants nothing", DS, "s3:GetObject", OBJECT,
     policy(allow(None, "s3:GetObject", "*", NotPrincipal={"AWS": OUTSIDER_ID})), identity("s3:GetObject"), {}, False),
    # -- Action / NotAction, Resource / NotResource ---------------------------------------------------------------
    ("action wildcard", DEPLOY, "sagemaker:DescribeModelPackage", PACKAGE,
     policy(allow(DEPLOY_ACCOUNT, "sagemaker:Describe*", PACKAGES)), identity("sagemaker:Describe*"), {}, True),
    ("actions are case-insensitive", DEPLOY, "sagemaker:DescribeModelPackage", PACKAGE,
     policy(allow(DEPLOY_ACCOUNT, "SageMaker:describemodelpackage", PACKAGES)), identity("SAGEMAKER:DescribeModelPackage"), {}, True),
    ("resources are case-sensitive", DEPLOY, "sagemaker:DescribeModelPackage", PACKAGE,
     policy(allow(DEPLOY_ACCOUNT, "sagemaker:DescribeModelPackage", PACKAGES.upper())), ANY_SAGEMAKER, {}, False),
    ("a resource wildcard does not cross groups", DEPLOY, "sagemaker:UpdateModelPackage", PACKAGE,
     policy(allow(DEPLOY_ACCOUNT, "sagemaker:*", PACKAGES.replace("california-housing", "churn"))), ANY_SAGEMAKER, {}, False),
    ("single-character wildcard", DEPLOY, "sagemaker:UpdateModelPackage", PACKAGE,
     policy(allow(DEPLOY_ACCOUNT, "sagemaker:UpdateModelPackage", PACKAGES[:-1] + "?")), ANY_SAGEMAKER, {}, True),
    ("brackets are literal in IAM, not a character class", DEPLOY, "sagemaker:UpdateModelPackage", PACKAGE,
     policy(allow(DEPLOY_ACCOUNT, "sagemaker:UpdateModelPackage", PACKAGES[:-1] + "[0-9]")), ANY_SAGEMAKER, {}, False),
    ("NotAction allows all but the listed (the 'all except IAM' example)", OWNER, "sagemaker:DeleteModelPackage", PACKAGE, None,
     [policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})], {}, True),
    ("NotAction excludes the listed", OWNER, "iam:CreateUser", f"arn:aws:iam::{SHARED_ID}:user/x", None,
     [policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})], {}, False),
    ("NotAction in a resource policy", DEPLOY, "sagemaker:DeleteModelPackage", PACKAGE,
     policy({"Effect": "Allow", "Principal": DEPLOY_ACCOUNT, "NotAction": "sagemaker:Delete*", "Resource": "*"}), ANY_SAGEMAKER, {}, False),
    ("NotResource: everything but the listed", OWNER, "s3:GetObject", "arn:aws:s3:::other/x", None,
     [policy({"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::artifacts/*"})], {}, True),
    ("NotResource excludes the listed", OWNER, "s3:GetObject", OBJECT, None,
     [policy({"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::artifacts/*"})], {}, False),
    ("Deny with NotResource guards everything outside a bucket", OWNER, "s3:PutObject", "arn:aws:s3:::other/x", None,
     [policy(allow(None, "s3:*", "*"), {"Effect": "Deny", "Action": "s3:*", "NotResource": ["arn:aws:s3:::artifacts", "arn:aws:s3:::artifacts/*"]})], {}, False),
    ("an identity statement without Resource grants nothing", OWNER, "s3:GetObject", OBJECT, None,
     [policy({"Effect": "Allow", "Action": "s3:GetObject"})], {}, False),
    # -- KMS key policies are required ("Key policies in AWS KMS") ---------------------------------------------
    ("KMS: identity policy alone does not open a key", OWNER, "kms:Decrypt", KEY, None, identity("kms:*"), {}, False),
    ("KMS: the default statement enables IAM policies", OWNER, "kms:Decrypt", KEY,
     policy(allow({"AWS": f"arn:aws:iam::{SHARED_ID}:root"}, "kms:*", "*")), identity("kms:Decrypt", KEY), {}, True),
    ("KMS: account statement but no IAM permission", OWNER, "kms:Decrypt", KEY,
     policy(allow({"AWS": f"arn:aws:iam::{SHARED_ID}:root"}, "kms:*", "*")), None, {}, False),
    ("KMS: a key policy naming the role needs nothing else in-account", OWNER, "kms:Decrypt", KEY,
     policy(allow({"AWS": OWNER.arn}, "kms:Decrypt", "*")), None, {}, True),
    ("KMS: the root user still needs the key policy", OWNER_ROOT, "kms:Decrypt", KEY, policy(allow({"AWS": OUTSIDER_ID}, "kms:*", "*")), None, {}, False),
    ("KMS: cross account needs the key policy and the identity policy", DS, "kms:GenerateDataKey", KEY,
     policy(allow(ACCOUNT, "kms:GenerateDataKey*", "*")), identity("kms:GenerateDataKey*", KEY), {}, True),
    ("KMS: cross account identity policy on another key", DS, "kms:GenerateDataKey", KEY,
     policy(allow(ACCOUNT, "kms:GenerateDataKey*", "*")), identity("kms:GenerateDataKey*", KEY.replace("6f0c", "0000")), {}, False),
    ("KMS: CreateGrant only for AWS resources", DEPLOY, "kms:CreateGrant", KEY,
     policy(allow(DEPLOY_ACCOUNT, "kms:CreateGrant", "*", Condition={"Bool": {"kms:GrantIsForAWSResource": "true"}})),
     identity("kms:CreateGrant"), {"kms:GrantIsForAWSResource": "true"}, True),
    ("KMS: CreateGrant for a person is refused", DEPLOY, "kms:CreateGrant", KEY,
     policy(allow(DEPLOY_ACCOUNT, "kms:CreateGrant", "*", Condition={"Bool": {"kms:GrantIsForAWSResource": "true"}})),
     identity("kms:CreateGrant"), {}, False),
    ("KMS: kms:ViaService limits use to S3", DS, "kms:Decrypt", KEY,
     policy(allow(ACCOUNT, "kms:Decrypt", "*", Condition={"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}})),
     identity("kms:Decrypt"), {"kms:ViaService": "s3.us-east-1.amazonaws.com"}, True),
    ("KMS: a direct call is not via S3", DS, "kms:Decrypt", KEY,
     policy(allow(ACCOUNT, "kms:Decrypt", "*", Condition={"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}})),
     identity("kms:Decrypt"), {}, False),
    # -- Condition operators ------------------------------------------------------------------------------------------
    ("StringEquals holds", DS, "sagemaker:CreateModelPackage", PACKAGE,
     policy(allow(ACCOUNT, "sagemaker:CreateModelPackage", "*", Condition={"StringEquals": {"sagemaker:ModelApprovalStatus": "PendingManualApproval"}})),
     ANY_SAGEMAKER, {"sagemaker:ModelApprovalStatus": "PendingManualApproval"}, True),
    ("StringEquals: self-approval is refused", DS, "sagemaker:CreateModelPackage", PACKAGE,
     policy(allow(ACCOUNT, "sagemaker:CreateModelPackage", "*", Condition={"StringEquals": {"sagemaker:ModelApprovalStatus": "PendingManualApproval"}})),
     ANY_SAGEMAKER, {"sagemaker:ModelApprovalStatus": "Approved"}, False),
    ("StringEquals is case-sensitive", DS, "sagemaker:CreateModelPackage", PACKAGE,
     policy(allow(ACCOUNT, "sagemaker:CreateModelPackage", "*", Condition={"StringEquals": {"sagemaker:ModelApprovalStatus": "pendingmanualapproval"}})),
     ANY_SAGEMAKER, {"sagemaker:ModelApprovalStatus": "PendingManualApproval"}, False),
    ("condition keys are case-insensitive", DS, "sagemaker:CreateModelPackage", PACKAGE,
     policy(allow(ACCOUNT, "sagemaker:CreateModelPackage", "*", Condition={"StringEquals": {"SageMaker:modelapprovalstatus": "PendingManualApproval"}})),
     ANY_SAGEMAKER, {"sagemaker:ModelApprovalStatus": "PendingManualApproval"}, True),
    ("StringEqualsIgnoreCase", DS, "sagemaker:CreateModelPackage", PACKAGE,
     policy(allow(ACCOUNT, "sagemaker:CreateModelPackage", "*", Condition={"StringEqualsIgnoreCase": {"sagemaker:ModelApprovalStatus": "pendingmanualapproval"}})),
     ANY_SAGEMAKER, {"sagemaker:ModelApprovalStatus": "PendingManualApproval"}, True),
    ("a missing key makes StringEquals false", DS, "sagemaker:CreateModelPackage", PACKAGE,
     policy(allow(ACCOUNT, "sagemaker:CreateModelPackage", "*", Condition={"StringEquals": {"sagemaker:ModelApprovalStatus": "PendingManualApproval"}})),
     ANY_SAGEMAKER, {}, False),
    ("StringEqualsIfExists holds when the key is missing", DS, "sagemaker:CreateModelPackage", PACKAGE,
     policy(allow(ACCOUNT, "sagemaker:CreateModelPackage", "*", Condition={"StringEqualsIfExists": {"sagemaker:ModelApprovalStatus": "PendingManualApproval"}})),
     ANY_SAGEMAKER, {}, True),
    ("StringNotEquals in a Deny: Approved is denied", DS, "sagemaker:CreateModelPackage", PACKAGE,
     policy(allow(ACCOUNT, "sagemaker:*", "*"), deny(ACCOUNT, "sagemaker:CreateModelPackage", "*",
            Condition={"StringNotEquals": {"sagemaker:ModelApprovalStatus": "PendingManualApproval"}})),
     ANY_SAGEMAKER, {"sagemaker:ModelApprovalStatus": "Approved"}, False),
    ("StringNotEquals with a missing key holds", DS, "sagemaker:CreateModelPackage", PACKAGE,
     policy(allow(ACCOUNT, "sagemaker:*", "*"), deny(ACCOUNT, "sagemaker:CreateModelPackage", "*",
            Condition={"StringNotEquals": {"sagemaker:ModelApprovalStatus": "PendingManualApproval"}})),
     ANY_SAGEMAKER, {}, False),
    ("StringLike on s3:prefix", DS, "s3:ListBucket", BUCKET,
     policy(allow(ACCOUNT, "s3:ListBucket", BUCKET, Condition={"StringLike": {"s3:prefix": ["california-housing/*"]}})),
     identity("s3:ListBucket"), {"s3:prefix": "california-housing/datasets/"}, True),
    ("StringLike on s3:prefix outside the prefix", DS, "s3:ListBucket", BUCKET,
     policy(allow(ACCOUNT, "s3:ListBucket", BUCKET, Condition={"StringLike": {"s3:prefix": ["california-housing/*"]}})),
     identity("s3:ListBucket"), {"s3:prefix": "payroll/"}, False),
    ("any of several values (OR within a key)", DS, "s3:ListBucket", BUCKET,
     policy(allow(ACCOUNT, "s3:ListBucket", BUCKET, Condition={"StringLike": {"s3:prefix": ["a/*", "california-housing/*"]}})),
     identity("s3:ListBucket"), {"s3:prefix": "california-housing/x"}, True),
    ("every operator must hold (AND across blocks)", DS, "s3:ListBucket", BUCKET,
     policy(allow(ACCOUNT, "s3:ListBucket", BUCKET, Condition={"StringLike": {"s3:prefix": "california-housing/*"}, "Bool": {"aws:SecureTransport": "false"}})),
     identity("s3:ListBucket"), {"s3:prefix": "california-housing/x"}, False),
    ("Bool aws:SecureTransport false denies plain HTTP", DS, "s3:GetObject", OBJECT,
     policy(allow(ACCOUNT, "s3:GetObject", "*"), deny("*", "s3:*", "*", Condition={"Bool": {"aws:SecureTransport": "false"}})),
     identity("s3:GetObject"), {"aws:SecureTransport": "false"}, False),
    ("Bool aws:SecureTransport: SDK calls use TLS", DS, "s3:GetObject", OBJECT,
     policy(allow(ACCOUNT, "s3:GetObject", "*"), deny("*", "s3:*", "*", Condition={"Bool": {"aws:SecureTransport": "false"}})),
     identity("s3:GetObject"), {}, True),
    ("ArnLike on aws:PrincipalArn", DS, "s3:GetObject", OBJECT,
     policy(allow("*", "s3:GetObject", "*", Condition={"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{DS_ID}:role/sagespec-*"}})),
     identity("s3:GetObject"), {}, True),
    ("ArnLike: * does not span the account part", DS, "s3:GetObject", OBJECT,
     policy(allow("*", "s3:GetObject", "*", Condition={"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*1:role/sagespec-*"}})),
     identity("s3:GetObject"), {}, True),
    ("ArnNotLike in a Deny spares the pipeline role", DS_OTHER, "s3:PutObject", OBJECT,
     policy(allow(ACCOUNT, "s3:PutObject", "*"), deny("*", "s3:PutObject", "*", Condition={"ArnNotLike": {"aws:PrincipalArn": ROLE}})),
     identity("s3:PutObject"), {}, False),
    ("iam:PassedToService: pass the role to SageMaker", DS, "iam:PassRole", ROLE, None,
     identity("iam:PassRole", ROLE, Condition={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}),
     {"iam:PassedToService": "sagemaker.amazonaws.com", "resource_account": DS_ID}, True),
    ("iam:PassedToService: not to Lambda", DS, "iam:PassRole", ROLE, None,
     identity("iam:PassRole", ROLE, Condition={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}),
     {"iam:PassedToService": "lambda.amazonaws.com", "resource_account": DS_ID}, False),
    ("aws:PrincipalAccount", DS, "s3:GetObject", OBJECT,
     policy(allow("*", "s3:GetObject", "*", Condition={"StringEquals": {"aws:PrincipalAccount": DS_ID}})), identity("s3:GetObject"), {}, True),
    ("aws:PrincipalAccount of another account", DS, "s3:GetObject", OBJECT,
     policy(allow("*", "s3:GetObject", "*", Condition={"StringEquals": {"aws:PrincipalAccount": OUTSIDER_ID}})), identity("s3:GetObject"), {}, False),
    ("NumericLessThanEquals", DS, "sagemaker:CreateTrainingJob", f"arn:aws:sagemaker:us-east-1:{DS_ID}:training-job/t", None,
     identity("sagemaker:CreateTrainingJob", Condition={"NumericLessThanEquals": {"sagemaker:MaxRuntimeInSeconds": "86400"}}),
     {"sagemaker:MaxRuntimeInSeconds": 3600, "resource_account": DS_ID}, True),
    ("NumericLessThanEquals exceeded", DS, "sagemaker:CreateTrainingJob", f"arn:aws:sagemaker:us-east-1:{DS_ID}:training-job/t", None,
     identity("sagemaker:CreateTrainingJob", Condition={"NumericLessThanEquals": {"sagemaker:MaxRuntimeInSeconds": "86400"}}),
     {"sagemaker:MaxRuntimeInSeconds": 90000, "resource_account": DS_ID}, False),
    ("DateLessThan aws:CurrentTime", OWNER, "s3:GetObject", OBJECT, None,
     identity("s3:GetObject", Condition={"DateLessThan": {"aws:CurrentTime": "2027-01-01T00:00:00Z"}}), {"aws:CurrentTime": "2026-12-01T12:00:00Z"}, True),
    ("DateGreaterThan aws:CurrentTime", OWNER, "s3:GetObject", OBJECT, None,
     identity("s3:GetObject", Condition={"DateGreaterThan": {"aws:CurrentTime": "2027-01-01T00:00:00Z"}}), {"aws:CurrentTime": "2026-12-01T12:00:00Z"}, False),
    ("IpAddress in the range", OWNER, "s3:GetObject", OBJECT, None,
     identity("s3:GetObject", Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}), {"aws:SourceIp": "10.1.2.3"}, True),
    ("NotIpAddress in a Deny", OWNER, "s3:GetObject", OBJECT, None,
     [policy(allow(None, "s3:GetObject", "*"), deny(None, "s3:*", "*", Condition={"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}))],
     {"aws:SourceIp": "192.0.2.1"}, False),
    ("Null true: the key must be absent", OWNER, "sagemaker:CreateTrainingJob", f"arn:aws:sagemaker:us-east-1:{SHARED_ID}:training-job/t", None,
     [policy(allow(None, "sagemaker:*", "*"), deny(None, "sagemaker:CreateTrainingJob", "*", Condition={"Null": {"sagemaker:OutputKmsKeyArn": "true"}}))],
     {}, False),
    ("Null true: an encrypted job passes", OWNER, "sagemaker:CreateTrainingJob", f"arn:aws:sagemaker:us-east-1:{SHARED_ID}:training-job/t", None,
     [policy(allow(None, "sagemaker:*", "*"), deny(None, "sagemaker:CreateTrainingJob", "*", Condition={"Null": {"sagemaker:OutputKmsKeyArn": "true"}}))],
     {"sagemaker:OutputKmsKeyArn": KEY}, True),
    ("ForAllValues: every tag key allowed", OWNER, "sagemaker:AddTags", PACKAGE, None,
     identity("sagemaker:AddTags", Condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "pipeline"]}}), {"aws:TagKeys": ["team"]}, True),
    ("ForAllValues: one tag key outside the list", OWNER, "sagemaker:AddTags", PACKAGE, None,
     identity("sagemaker:AddTags", Condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "pipeline"]}}), {"aws:TagKeys": ["team", "cost"]}, False),
    ("ForAnyValue: one tag key matches", OWNER, "sagemaker:AddTags", PACKAGE, None,
     identity("sagemaker:AddTags", Condition={"ForAnyValue:StringEquals": {"aws:TagKeys": ["team"]}}), {"aws:TagKeys": ["cost", "team"]}, True),
    ("ForAnyValue with a missing key is false", OWNER, "sagemaker:AddTags", PACKAGE, None,
     identity("sagemaker:AddTags", Condition={"ForAnyValue:StringEquals": {"aws:TagKeys": ["team"]}}), {}, False),
    ("an unknown operator never grants", DS, "s3:GetObject", OBJECT,
     policy(allow("*", "s3:GetObject", "*", Condition={"BinaryEquals": {"aws:SourceIp": "AA=="}})), identity("s3:GetObject"), {}, False),
    ("an unknown operator still denies", DS, "s3:GetObject", OBJECT,
     policy(allow("*", "s3:GetObject", "*"), deny("*", "s3:GetObject", "*", Condition={"StringSounds": {"aws:SourceIp": "x"}})),
     identity("s3:GetObject"), {}, False),
    # -- "Policy variables" -------------------------------------------------------------------------------------------
    ("a policy variable is substituted", OWNER, "s3:GetObject", f"arn:aws:s3:::artifacts/{SHARED_ID}/x", None,
     identity("s3:GetObject", "arn:aws:s3:::artifacts/${aws:PrincipalAccount}/*"), {}, True),
    ("a policy variable for another account's folder", OWNER, "s3:GetObject", f"arn:aws:s3:::artifacts/{DS_ID}/x", None,
     identity("s3:GetObject", "arn:aws:s3:::artifacts/${aws:PrincipalAccount}/*"), {}, False),
    ("variables are literal in version 2008-10-17", OWNER, "s3:GetObject", f"arn:aws:s3:::artifacts/{SHARED_ID}/x", None,
     [policy(allow(None, "s3:GetObject", "arn:aws:s3:::artifacts/${aws:PrincipalAccount}/*"), version="2008-10-17")], {}, False),
    ("a variable missing from the context matches nothing", OWNER, "s3:GetObject", "arn:aws:s3:::artifacts/x", None,
     identity("s3:GetObject", "arn:aws:s3:::artifacts/${aws:username}*"), {}, False),
]
# fmt: on


def _account(resource: str, context: dict) -> str:
    if "resource_account" in context:
        return context["resource_account"]
    part = resource.split(":")[4] if resource.count(":") >= 5 else ""
    return part or BUCKET_ACCOUNT


@pytest.mark.parametrize("case, caller, action, resource, resource_policy, identities, context, allowed", CASES, ids=[c[0] for c in CASES])
def test_policy_evaluation(case, caller, action, resource, resource_policy, identities, context, allowed):
    account = _account(resource, context)
    request = Request(caller, action, resource, account, {k: v for k, v in context.items() if k != "resource_account"})
    decision = evaluate(request, resource_policy, identities)
    assert decision.allowed is allowed, decision.reason


def test_the_table_is_large_enough():
    assert len(CASES) >= 60


def test_the_deciding_statement_and_aws_wording():
    request = Request(DS, "sagemaker:CreateModelPackage", PACKAGE, SHARED_ID)
    decision = evaluate(
        request,
        policy(
            dict(allow(ACCOUNT, "sagemaker:*", "*"), Sid="DataScienceWrites"),
            dict(deny({"AWS": ROLE}, "sagemaker:CreateModelPackage", "*"), Sid="Freeze"),
        ),
        ANY_SAGEMAKER,
    )
    assert (decision.allowed, decision.statement, decision.policy) == (False, "Freeze", "resource policy")
    assert decision.message(request) == (
        f"User: {ROLE} is not authorized to perform: sagemaker:CreateModelPackage on resource: {PACKAGE}"
        " with an explicit deny in a resource-based policy"
    )


def test_missing_identity_policy_is_worded_as_aws_words_it():
    request = Request(Principal.role(DEPLOY_ID, "made-up", "aws"), "sagemaker:UpdateModelPackage", PACKAGE, SHARED_ID)
    decision = evaluate(request, policy(allow(DEPLOY_ACCOUNT, "sagemaker:UpdateModelPackage", PACKAGES)), [])
    assert decision.message(request).endswith("because no identity-based policy allows the sagemaker:UpdateModelPackage action")
    request = Request(DS, "sagemaker:UpdateModelPackage", PACKAGE, SHARED_ID)
    assert (
        evaluate(request, None, ANY_SAGEMAKER).reason == "because no resource-based policy allows the sagemaker:UpdateModelPackage action"
    )


def test_an_allow_names_its_statement_and_policy():
    request = Request(DS, "sagemaker:CreateModelPackage", PACKAGE, SHARED_ID)
    decision = evaluate(
        request,
        policy(dict(allow(ACCOUNT, "sagemaker:CreateModelPackage", "*"), Sid="Register")),
        [("RegisterModelVersions", ANY_SAGEMAKER[0])],
    )
    assert (decision.allowed, decision.statement, decision.policy) == (True, "Register", "resource policy")
    same = Request(OWNER, "s3:GetObject", OBJECT, SHARED_ID)
    decision = evaluate(same, None, [("ArtifactsRead", policy(dict(allow(None, "s3:GetObject", "*"), Sid="Read")))])
    assert (decision.statement, decision.policy) == ("Read", "ArtifactsRead")


@pytest.mark.parametrize(
    "pattern, value, matches",
    [
        ("a*c", "abbc", True),
        ("a?c", "abc", True),
        ("a?c", "abbc", False),
        ("a[b]c", "abc", False),
        ("a[b]c", "a[b]c", True),
        ("*", "", True),
    ],
)
def test_iam_wildcards(pattern, value, matches):
    assert glob_matches(pattern, value) is matches


def test_arn_like_matches_part_by_part():
    assert arn_like("arn:aws:iam::*:role/x", "arn:aws:iam::111111111111:role/x")
    assert not arn_like("arn:aws:*", "arn:aws:iam::111111111111:role/x")  # fewer than six parts
    assert arn_like("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a:b")  # the resource part may hold colons


def test_substitution_escapes():
    assert substitute("a${*}b${?}${$}", {}, "2012-10-17") == "a*b?$"


def test_malformed_condition_is_undecidable():
    assert conditions_hold({"StringEquals": "not-a-map"}, {}) is None
    assert conditions_hold(["list"], {}) is None


def test_a_managed_policy_in_another_partition_names_that_partitions_resources():
    """AWS publishes AmazonSageMakerFullAccess in aws-cn with arn:aws-cn: resources. Its first
    statement allows sagemaker:* on NotResource [domains, spaces, ...]: read with the aws
    partition's ARNs it would let a China role delete a Studio domain."""
    from sagespec.iam.managed import managed_policy

    full_access = managed_policy("arn:aws-cn:iam::aws:policy/AmazonSageMakerFullAccess")
    caller = Principal.role("111111111111", "ds", partition="aws-cn")

    def allowed(action: str, resource: str) -> bool:
        return evaluate(Request(caller, action, resource, "111111111111"), identity_policies=[full_access]).allowed

    assert not allowed("sagemaker:DeleteDomain", "arn:aws-cn:sagemaker:cn-north-1:111111111111:domain/d-1")
    assert allowed("sagemaker:CreatePipeline", "arn:aws-cn:sagemaker:cn-north-1:111111111111:pipeline/p")
