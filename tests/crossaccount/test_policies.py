"""Rendered policies: parliament finds nothing, cfn-lint finds no error, the access matrix holds,
and the checker catches a missing grant, a wildcard principal and an over-broad action."""

import copy
import json
from pathlib import Path

import pytest

from sagespec.accounts import check, cloudformation
from sagespec.accounts.render import render
from sagespec.spec.topology import load_topology

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def topology():
    return load_topology(ROOT, validate=True)


@pytest.fixture(scope="module")
def needs(tmp_path_factory):
    from sagespec.context import Context
    from sagespec.workflows.project_pipelines import pipeline_needs

    return pipeline_needs(Context.at(ROOT, tmp_path_factory.mktemp("ws")))


def documents(topology, needs=()):
    """Every permission policy. Trust policies (sts:AssumeRole by a service, no Resource by design)
    are not permission policies and are outside what parliament audits."""
    for account in render(topology, needs=needs):
        for policy in account.resource_policies:
            document = policy.document
            if policy.kind == "kms-key":
                # In a key policy "Resource": "*" means "this key" (and is required); analyse it as such.
                document = json.loads(json.dumps(document).replace('"Resource": "*"', f'"Resource": "{policy.resource}"'))
            yield f"{account.name}:{policy.kind}", document
        for role in account.roles:
            for name, document in role.inline.items():
                yield f"{account.name}:{role.name}:{name}", document


# The findings accepted, each for a reason parliament cannot see:
# - the key's own account must keep managing its key (PutKeyPolicy, CreateGrant...), or the key
#   becomes unmanageable; it gets no encrypt/decrypt;
# - parliament flags every iam:PassRole, and every ecr:GetAuthorizationToken: SageMaker Pipelines
#   must pass the job's role (scoped to that role, iam:PassedToService sagemaker.amazonaws.com),
#   and a job or endpoint pulling its image needs the token (Resource "*" is the only form).
ACCEPTED = {
    ("shared_services:kms-key", "PERMISSIONS_MANAGEMENT_ACTIONS"): None,
    ("data_science:sagespec-data-science-execution:PipelineService", "PERMISSIONS_MANAGEMENT_ACTIONS"): "iam:PassRole",
    ("data_science:sagespec-data-science-execution:JobRuntime", "CREDENTIALS_EXPOSURE"): "ecr:GetAuthorizationToken",
    ("qa:sagespec-qa-sagemaker:EndpointRuntime", "CREDENTIALS_EXPOSURE"): "ecr:GetAuthorizationToken",
    ("prod:sagespec-prod-sagemaker:EndpointRuntime", "CREDENTIALS_EXPOSURE"): "ecr:GetAuthorizationToken",
}


@pytest.mark.slow
def test_parliament_finds_nothing_unexplained_in_any_rendered_policy(topology, needs):
    import parliament

    findings = {}
    for where, document in [*documents(topology), *documents(topology, needs)]:
        for finding in parliament.analyze_policy_string(json.dumps(document), include_community_auditors=True).findings:
            flagged = finding.detail["actions"] if isinstance(finding.detail, dict) else finding.detail
            if (where, finding.issue) in ACCEPTED:
                only = ACCEPTED[(where, finding.issue)]
                if only is None:
                    assert not any(a in str(flagged) for a in ("kms:decrypt", "kms:encrypt", "kms:generatedatakey"))
                else:  # parliament names no action for these: the one action that can raise it is the accepted one
                    risky = {"CREDENTIALS_EXPOSURE": "ecr:GetAuthorizationToken", "PERMISSIONS_MANAGEMENT_ACTIONS": "iam:PassRole"}
                    assert risky[finding.issue] == only and only in json.dumps(document)
                continue
            findings.setdefault(where, []).append(f"{finding.issue}: {finding.detail}")
    assert findings == {}


@pytest.mark.slow
def test_every_template_passes_cfn_lint(topology, needs):
    from cfnlint.api import lint

    templates = cloudformation.templates(topology, needs)
    assert set(templates) == {"shared_services", "data_science", "deployment", "qa", "prod"}
    for name, template in templates.items():
        matches = lint(json.dumps(template), regions=[topology.region])
        errors = [f"{m.rule.id} {m.message}" for m in matches if m.rule.id.startswith("E")]
        assert errors == [], name


def test_shared_services_template_holds_the_resources_and_parameters(topology):
    template = cloudformation.templates(topology)["shared_services"]
    types = sorted(r["Type"] for r in template["Resources"].values())
    assert types == [
        "AWS::IAM::Role",
        "AWS::KMS::Key",
        "AWS::S3::Bucket",
        "AWS::S3::BucketPolicy",
        *["AWS::SageMaker::ModelPackageGroup"] * 3,
    ]
    params = template["Parameters"]
    assert params["DataScienceAccountId"]["Default"] == "111111111111"
    # The template creates the bucket (so ${ArtifactBucket} is the resource, not a parameter) and its key.
    assert params["ArtifactBucketName"]["Default"] == "sagespec-shared-artifacts-222222222222" and "ArtifactBucket" not in params
    bucket = template["Resources"]["ArtifactBucket"]["Properties"]
    assert bucket["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    assert template["Resources"]["ArtifactKey"]["Properties"]["EnableKeyRotation"] is True
    tls, writes = template["Resources"]["ArtifactBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"][:2]
    assert tls["Effect"] == "Deny" and tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert writes["Principal"]["AWS"] == {"Fn::Sub": "arn:${AWS::Partition}:iam::${DataScienceAccountId}:root"}


def test_workload_template_is_a_role_with_artifact_read_and_decrypt(topology):
    template = cloudformation.templates(topology)["qa"]
    (role,) = template["Resources"].values()
    policies = {p["PolicyName"]: p["PolicyDocument"]["Statement"] for p in role["Properties"]["Policies"]}
    assert policies["ModelArtifactRead"][0]["Action"] == "s3:GetObject"
    assert policies["ArtifactKeyDecrypt"][0] == {
        "Sid": "DecryptModelArtifact",
        "Effect": "Allow",
        "Action": "kms:Decrypt",
        "Resource": {"Fn::Sub": "${ArtifactKeyArn}"},
        # the S3 endpoint of the stack's partition (AWS::URLSuffix: amazonaws.com.cn in the China Regions)
        "Condition": {"StringEquals": {"kms:ViaService": {"Fn::Sub": "s3.${AWS::Region}.${AWS::URLSuffix}"}}},
    }


def test_ecr_repository_policy_when_custom_images_are_used(topology):
    with_ecr = copy.deepcopy(topology)
    with_ecr.ecr_repositories = ["ml/california-housing-inference"]
    shared = next(a for a in render(with_ecr) if a.name == "shared_services")
    (repo,) = [p for p in shared.resource_policies if p.kind == "ecr-repository"]
    assert repo.resource.endswith(":repository/ml/california-housing-inference")
    assert repo.document["Statement"][0]["Action"] == ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
    template = cloudformation.templates(with_ecr)["shared_services"]
    assert "AWS::ECR::Repository" in {r["Type"] for r in template["Resources"].values()}


def test_the_shipped_topology_allows_every_step_and_nothing_else(topology):
    cells = check.matrix(topology)
    assert [c for c in cells if not c.ok] == []
    required = {(c.actor, c.action) for c in cells if c.expected}
    assert ("data_science", "sagemaker:CreateModelPackage") in required
    assert ("deployment", "sagemaker:UpdateModelPackage") in required
    assert ("qa", "kms:Decrypt") in required and ("prod", "s3:GetObject") in required
    # data science cannot approve its own versions, and nobody outside the topology gets anything
    assert not next(c for c in cells if c.actor == "data_science" and c.action == "sagemaker:UpdateModelPackage").allowed
    assert not any(c.allowed for c in cells if c.actor == "outsider")


def tampered(topology, account, kind, edit):
    policies = render(topology)
    target = next(p for p in next(a for a in policies if a.name == account).resource_policies if p.kind == kind)
    edit(target.document["Statement"])
    return check.matrix(topology, policies)


def test_checker_catches_a_missing_grant(topology):
    cells = tampered(
        topology,
        "shared_services",
        "model-package-group",
        lambda s: s.remove(next(x for x in s if x["Sid"] == "DataScienceRegistersVersions")),
    )
    wrong = [(c.actor, c.action, c.allowed) for c in cells if not c.ok]
    assert wrong == [("data_science", "sagemaker:CreateModelPackage", False)]


def test_checker_catches_a_wildcard_principal(topology):
    def open_bucket(statements):
        next(x for x in statements if x["Sid"] == "DeploymentAndWorkloadsReadArtifacts")["Principal"] = {"AWS": "*"}

    cells = tampered(topology, "shared_services", "s3-bucket", open_bucket)
    wrong = {(c.actor, c.action) for c in cells if not c.ok}
    assert ("outsider", "s3:GetObject") in wrong


def test_checker_catches_an_over_broad_action(topology):
    def everything(statements):
        next(x for x in statements if x["Sid"] == "DeploymentManagesVersions")["Action"] = "sagemaker:*"

    policies = render(topology)
    for account in policies:  # widen both sides, as a careless edit would
        for role in account.roles:
            for doc in role.inline.values():
                for s in doc["Statement"]:
                    if s.get("Sid") == "ManageVersions":
                        s["Action"] = "sagemaker:*"
    group = next(p for p in policies[0].resource_policies if p.kind == "model-package-group")
    everything(group.document["Statement"])
    wrong = {(c.actor, c.action) for c in check.matrix(topology, policies) if not c.ok}
    assert ("deployment", "sagemaker:DeleteModelPackage") in wrong


def test_an_accounts_file_without_model_package_groups_renders_no_statement_over_nothing(topology):
    """A project that registers nothing lists no groups: the registry statements are left out
    (IAM refuses a statement with no resource), not an internal error."""
    bare = copy.deepcopy(topology)
    bare.model_package_groups = []
    rendered = {a.name: a for a in render(bare)}
    shared = {r.name: r for r in rendered["shared_services"].roles}["sagespec-shared-services-admin"]
    assert "RegistryAdministration" not in shared.inline
    deployment = {r.name: r for r in rendered["deployment"].roles}["sagespec-deployment"]
    sids = [s["Sid"] for s in deployment.inline["RegistryApproveAndDeploy"]["Statement"]]
    assert sids == ["CreateModelsFromVersions"]
    for account in rendered.values():
        for role in account.roles:
            for document in role.inline.values():
                assert all(s["Resource"] for s in document["Statement"])
