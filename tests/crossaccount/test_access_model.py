"""IAM as AWS would enforce it: attackers denied with AWS's wording, roles derived from the compiled
pipelines proved sufficient and minimal, a removed statement caught by `accounts check --pipelines`
and by a local run at the step that needs it, the CI trust, the managed-policy option and the
guide's topology (artifacts in the training account)."""

import copy
import json
import re

import pytest

from helpers import ROOT, fast_project_copy, local_registry, run_cli, seeded_compile_cache
from sagespec.accounts import check, coverage
from sagespec.accounts.render import render
from sagespec.context import Context
from sagespec.iam import AccessDenied, Principal, Request, catalog, evaluate, statements
from sagespec.workflows.project_pipelines import pipeline_needs

INFERENCE = {
    "Containers": [
        {"Image": "763104351884.dkr.ecr.us-east-1.amazonaws.com/tensorflow-inference:2.13-cpu", "ModelDataUrl": "s3://b/m.tar.gz"}
    ]
}
DATASET = "arn:aws:s3:::sagespec-shared-artifacts-222222222222/california-housing/datasets/cal_housing.tgz*"


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return Context.at(ROOT, tmp_path_factory.mktemp("ws"))


@pytest.fixture(scope="module")
def needs(project):
    return pipeline_needs(project)


@pytest.fixture(scope="module")
def topology(project):
    return project.topology(validate=True)


@pytest.fixture
def governed(tmp_path, topology, needs):
    """A local control plane holding the rendered policies, a version registered by data science."""
    from helpers import apply_local
    from sagespec.backends.local.database import connect

    apply_local(topology, tmp_path / "ws", needs)
    conn = connect(tmp_path / "ws")
    package = local_registry(conn, topology.accounts["data_science"].principal).register(
        topology.group_arn("california-housing"), INFERENCE
    )
    return lambda principal: local_registry(conn, principal), package


@pytest.mark.parametrize(
    "attacker, why",
    [
        (
            Principal.role("333333333333", "made-up", "aws"),
            "because no identity-based policy allows the sagemaker:UpdateModelPackage action",
        ),
        (
            Principal.role("999999999999", "no-policies", "aws"),
            "because no resource-based policy allows the sagemaker:UpdateModelPackage action",
        ),
        (Principal.role("333333333333", "sagespec-deployment", "aws-cn"), "because no resource-based policy allows"),
        (Principal.role("333333333333", "sagespec-deployment", "aws-us-gov"), "because no resource-based policy allows"),
        (Principal.role("111111111111", "sagespec-data-science-execution", "aws"), "with an explicit deny in a resource-based policy"),
        (Principal.role("444444444444", "sagespec-qa-sagemaker", "aws"), "because no resource-based policy allows"),
    ],
    ids=["made-up deployment role", "role of another account", "aws-cn twin", "aws-us-gov twin", "data science itself", "a workload"],
)
def test_attackers_cannot_approve_and_are_told_as_aws_tells_them(governed, attacker, why):
    registry, package = governed
    with pytest.raises(AccessDenied) as denied:
        registry(attacker).update_status(package.arn, "Approved", "let me in")
    message = denied.value.message
    assert message.startswith(
        f"User: {attacker.arn} is not authorized to perform: sagemaker:UpdateModelPackage on resource: {package.arn} "
    )
    assert why in message
    assert registry(Principal.root("222222222222", "aws")).describe(package.arn).status == "PendingManualApproval"


def test_the_deployment_role_and_the_deployment_accounts_root_may_approve(governed, topology):
    """Fidelity both ways: the group policy trusts the deployment account, so its root user approves too."""
    registry, package = governed
    assert registry(topology.accounts["deployment"].principal).update_status(package.arn, "Approved", "QA passed").status == "Approved"
    assert registry(Principal.root("333333333333", "aws")).update_status(package.arn, "Rejected", "second thoughts").status == "Rejected"


def test_data_science_cannot_register_approved_versions(governed, topology):
    registry, _ = governed
    with pytest.raises(AccessDenied) as denied:
        registry(topology.accounts["data_science"].principal).register(topology.group_arn("california-housing"), INFERENCE, "Approved")
    assert "sagemaker:CreateModelPackage" in denied.value.message and "because no resource-based policy allows" in denied.value.message


def test_the_rendered_roles_run_every_bundled_pipeline_and_grant_nothing_more():
    done = run_cli("accounts", "check", "--pipelines", "pipelines/")
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"\d+ requests of 30 steps: (\d+) allowed, 0 denied", done.stdout)
    assert "no granted action is unused" in done.stdout
    # The XGBoost template's quality checks read the shared group's approved baselines through its policy.
    assert "DataScienceReadsBaselines" in done.stdout


def test_accounts_check_pipelines_json_names_role_decision_and_statement():
    done = run_cli("accounts", "check", "--pipelines", "pipelines/california_housing.yaml", "--output", "json")
    report = json.loads(done.stdout)
    rows = {(r["step"], r["action"], r["caller"]): r for r in report["pipelines"]}
    start = rows[("TrainModel", "sagemaker:CreateTrainingJob", "pipeline role")]
    assert start["allowed"] and start["statement"].startswith("StartAndWatchJobs") and start["policy"] == "PipelineService"
    passed = rows[("TrainModel", "iam:PassRole", "pipeline role")]
    assert passed["context"] == {"iam:PassedToService": "sagemaker.amazonaws.com"}
    trust = rows[("TrainModel", "sts:AssumeRole", "SageMaker")]
    assert trust["allowed"] and trust["role"] == "sagemaker.amazonaws.com"
    register = rows[("RegisterModel-RegisterModel", "sagemaker:CreateModelPackage", "pipeline role")]
    assert register["resource"] == "arn:aws:sagemaker:us-east-1:222222222222:model-package/california-housing/*"
    assert register["reason"] == "allowed by both the resource-based and the identity-based policy"
    assert report["unused"] == [] and all(c["ok"] for c in report["matrix"])


def _without(policies, role_name: str, policy: str, sid: str):
    tampered = copy.deepcopy(policies)
    role = next(r for a in tampered for r in a.roles if r.name == role_name)
    role.inline[policy]["Statement"] = [s for s in role.inline[policy]["Statement"] if s["Sid"] != sid]
    return tampered


@pytest.mark.slow
def test_a_removed_statement_fails_the_check_and_the_local_run_at_the_same_step(tmp_path, topology, needs):
    role = "sagespec-data-science-execution"
    verdicts = coverage.decide(needs, _without(render(topology, needs=needs), role, "JobRuntime", "ReadInputs"), topology)
    denied = [v for v in verdicts if not v.allowed]
    first = next(v for v in denied if v.need.pipeline == "california-housing")
    assert (first.need.step, first.need.action, first.need.resource) == ("PreprocessData", "s3:GetObject", DATASET)
    assert first.reason == "because no identity-based policy allows the s3:GetObject action"

    # The same edit in the files `accounts render -o DIR` wrote: `accounts check --pipelines --policies DIR` fails.
    project = fast_project_copy(tmp_path)
    seeded_compile_cache(project / ".sagespec", project)
    folder = tmp_path / "policies"
    assert run_cli("accounts", "render", "-o", str(folder), cwd=project).returncode == 0
    role_file = folder / "data-science" / f"role.{role}.json"
    described = json.loads(role_file.read_text())
    described["InlinePolicies"]["JobRuntime"]["Statement"] = [
        s for s in described["InlinePolicies"]["JobRuntime"]["Statement"] if s["Sid"] != "ReadInputs"
    ]
    role_file.write_text(json.dumps(described))
    checked = run_cli("accounts", "check", "--pipelines", "--policies", str(folder), "--output", "json", cwd=project)
    assert checked.returncode == 1
    first_denied = next(r for r in json.loads(checked.stdout)["pipelines"] if not r["allowed"])
    assert (first_denied["step"], first_denied["action"], first_denied["resource"]) == ("PreprocessData", "s3:GetObject", DATASET)

    # The same edit in the local control plane: the run stops at PreprocessData, naming the same action and resource.
    from sagespec.backends.local.database import connect
    from sagespec.backends.local.policies import read_policy, write_policy

    workspace = seeded_compile_cache(tmp_path / "ws", project)
    assert run_cli("accounts", "apply", "--target", "local", "--workspace", str(workspace), cwd=project).returncode == 0
    conn = connect(workspace)
    key = f"arn:aws:iam::111111111111:role/{role}#JobRuntime"
    document = read_policy(conn, key)
    document["Statement"] = [s for s in document["Statement"] if s["Sid"] != "ReadInputs"]
    write_policy(conn, key, document, "test")
    assert (
        run_cli("upsert", "pipelines/california_housing.yaml", "--target", "local", "--workspace", str(workspace), cwd=project).returncode
        == 0
    )
    started = run_cli("start", "california-housing", "--target", "local", "--workspace", str(workspace), cwd=project)
    assert started.returncode == 1
    expected = (
        f"User: arn:aws:iam::111111111111:role/{role} is not authorized to perform: s3:GetObject on resource: {DATASET}"
        " because no identity-based policy allows the s3:GetObject action"
    )
    assert re.search(r"\[!!\] PreprocessData +Failed .*" + re.escape(expected), started.stdout), started.stdout


def test_a_removed_key_statement_is_caught_for_every_step_that_writes(topology, needs):
    verdicts = coverage.decide(
        needs,
        _without(render(topology, needs=needs), "sagespec-data-science-execution", "JobRuntime", "UseTheArtifactKeyThroughS3"),
        topology,
    )
    steps = {(v.need.pipeline, v.need.step) for v in verdicts if not v.allowed and v.need.action == "kms:GenerateDataKey"}
    assert ("california-housing", "TrainModel") in steps and ("california-housing", "PreprocessData") in steps


def test_an_extra_grant_is_reported_as_unused(topology, needs):
    policies = render(topology, needs=needs)
    role = next(r for a in policies for r in a.roles if r.name == "sagespec-data-science-execution")
    role.inline["JobRuntime"]["Statement"].append(
        {"Sid": "Oops", "Effect": "Allow", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::*"}
    )
    unused = coverage.unused_grants(needs, policies)
    assert [(u.statement, u.action, u.resource) for u in unused] == [("Oops", "s3:DeleteObject", "arn:aws:s3:::*")]


@pytest.mark.slow
def test_a_pipeline_whose_role_is_not_in_the_accounts_file_is_denied(tmp_path):
    project = fast_project_copy(tmp_path)
    spec = project / "pipelines" / "california_housing_fast.yaml"
    spec.write_text(spec.read_text().replace("role/sagespec-data-science-execution", "role/someone-elses-role"))
    seeded_compile_cache(project / ".sagespec", project, "pipelines/california_housing_fast.yaml")
    done = run_cli("accounts", "check", "--pipelines", "pipelines/california_housing_fast.yaml", "--output", "json", cwd=project)
    assert done.returncode == 1
    role = "arn:aws:iam::111111111111:role/someone-elses-role"
    denied = {r["reason"] for r in json.loads(done.stdout)["pipelines"] if r["role"] == role}
    assert denied == {f"role {role} is not in the accounts file: nothing renders its policies"}


def test_every_rendered_action_and_condition_key_is_in_the_service_authorization_reference(topology, needs):
    for account in render(topology, needs=needs):
        documents = [p.document for p in account.resource_policies] + [d for r in account.roles for d in r.inline.values()]
        for document in documents:
            for statement in statements(document):
                actions = statement.get("Action") or statement.get("NotAction")
                for action in actions if isinstance(actions, list) else [actions]:
                    for known in [a for a in [action] if "*" not in a]:
                        assert catalog.exists(known), known
                        for keys in (statement.get("Condition") or {}).values():
                            for key in keys:
                                assert catalog.supports_condition(known, key), (known, key)


def test_the_deployment_role_is_assumed_by_the_ci_principal_of_the_accounts_file(topology):
    import dataclasses

    ci = "arn:aws:iam::333333333333:role/sagespec-promote-github"
    assert topology.accounts["deployment"].assumed_by == (ci,)  # the shipped accounts file names the promotion CI
    role = next(r for a in render(topology) if a.name == "deployment" for r in a.roles)
    assert role.trust["Statement"][0]["Principal"] == {"AWS": ci}
    may_assume = [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}]

    def assume(who):
        return evaluate(Request(who, "sts:AssumeRole", role.arn, "333333333333"), role.trust, may_assume)

    assert assume(Principal("333333333333", ci)).allowed
    assert not assume(Principal.role("333333333333", "someone", "aws")).allowed
    assert not assume(Principal.service("sagemaker.amazonaws.com")).allowed
    # Without assumed_by, the deployment account's own principals (its root) may assume it.
    plain = copy.deepcopy(topology)
    plain.accounts["deployment"] = dataclasses.replace(plain.accounts["deployment"], assumed_by=())
    default = next(r for a in render(plain) if a.name == "deployment" for r in a.roles)
    assert default.trust["Statement"][0]["Principal"] == {"AWS": "arn:aws:iam::333333333333:root"}


def test_managed_access_attaches_full_access_and_renders_only_what_it_lacks(topology, needs):
    managed = copy.deepcopy(topology)
    managed.access = "managed"
    policies = render(managed, needs=needs)
    ds = next(r for a in policies for r in a.roles if r.name == "sagespec-data-science-execution")
    assert ds.managed == ["arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"]
    sids = {s["Sid"] for d in ds.inline.values() for s in d["Statement"]}
    # FullAccess opens S3 and Lambda only for names containing "sagemaker": those grants stay.
    assert {"ReadInputs", "WriteOutputs", "InvokeFunctions", "UseTheArtifactKeyThroughS3"} <= sids
    assert not sids & {"StartAndWatchJobs", "PassRolesToSageMaker", "PullImages", "WriteLogs"}
    assert all(v.allowed for v in coverage.decide(needs, policies, managed))
    cells = check.matrix(managed, policies)
    assert all(c.ok for c in cells)
    assert {c.action for c in cells if c.accepted} == {"kms:DescribeKey"}  # what the managed policy adds, shown


def guide_project(tmp_path):
    """The project with the guide's topology: bucket and key in the data-science (training) account."""
    root = fast_project_copy(tmp_path)
    accounts = root / "pipelines" / "accounts.yaml"
    text = accounts.read_text().replace("artifacts:\n", "artifacts:\n  owner: data_science\n")
    accounts.write_text(text.replace("kms_key: arn:aws:kms:us-east-1:222222222222:", "kms_key: arn:aws:kms:us-east-1:111111111111:"))
    seeded_compile_cache(root / ".sagespec", root)
    return Context.at(root, seeded_compile_cache(tmp_path / "ws", root))


@pytest.mark.slow
def test_the_guides_topology_artifacts_in_the_training_account(tmp_path):
    project = guide_project(tmp_path)
    guide, needs = project.topology(validate=True), pipeline_needs(project)
    policies = render(guide, needs=needs)
    data_science = next(a for a in policies if a.name == "data_science")
    assert {p.kind for p in data_science.resource_policies} == {"s3-bucket", "kms-key"}
    bucket = next(p.document for p in data_science.resource_policies if p.kind == "s3-bucket")
    sids = {s["Sid"]: s for s in bucket["Statement"]}
    assert sids["RegistryReadsArtifacts"]["Principal"] == {"AWS": "arn:aws:iam::222222222222:root"}
    assert set(sids["RegistryReadsArtifacts"]["Action"]) == {"s3:GetObject", "s3:GetObjectAcl"} and "RegistryReadsTheBucketAcl" in sids
    assert sids["DenyRequestsWithoutTls"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    key = next(p.document for p in data_science.resource_policies if p.kind == "kms-key")
    registry_key = next(s for s in key["Statement"] if s["Sid"] == "RegistryUsesTheKey")
    assert registry_key["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"]
    shared = next(a for a in policies if a.name == "shared_services")
    assert {p.kind for p in shared.resource_policies} == {"model-package-group"}
    assert all(c.ok for c in check.matrix(guide, policies))
    assert all(v.allowed for v in coverage.decide(needs, policies, guide))
    done = run_cli("accounts", "check", "--pipelines", cwd=project.root)
    assert done.returncode == 0 and "no granted action is unused" in done.stdout, done.stdout


@pytest.mark.slow
def test_the_guides_topology_passes_cfn_lint(tmp_path):
    from cfnlint.api import lint

    from sagespec.accounts import cloudformation

    project = guide_project(tmp_path)
    guide = project.topology(validate=True)
    templates = cloudformation.templates(guide, pipeline_needs(project))
    resources = {r["Type"] for r in templates["data_science"]["Resources"].values()}
    assert {"AWS::S3::Bucket", "AWS::S3::BucketPolicy", "AWS::KMS::Key", "AWS::IAM::Role"} <= resources
    for name, template in templates.items():
        errors = [f"{m.rule.id} {m.message}" for m in lint(json.dumps(template), regions=[guide.region]) if m.rule.id.startswith("E")]
        assert errors == [], name


@pytest.mark.slow
def test_the_guides_topology_applies_locally_and_runs_the_pipeline_checked(tmp_path):
    project = guide_project(tmp_path)
    done = run_cli("accounts", "apply", "--target", "local", "--workspace", str(project.workspace), cwd=project.root)
    assert done.returncode == 0 and "[data-science] policy of arn:aws:s3:::sagespec-shared-artifacts-222222222222: create" in done.stdout


@pytest.mark.slow
def test_a_local_run_with_data_outside_the_granted_prefix_is_denied_as_on_aws(tmp_path):
    project = fast_project_copy(tmp_path)
    workspace = str(seeded_compile_cache(tmp_path / "ws", project, "pipelines/california_housing.yaml"))
    done = run_cli(
        "run",
        "pipelines/california_housing.yaml",
        "--workspace",
        workspace,
        "--param",
        "InputData=s3://someone-elses-bucket/data.tgz",
        cwd=project,
    )
    assert done.returncode == 1
    assert "is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::someone-elses-bucket/data.tgz*" in done.stdout


def test_a_policy_folder_that_is_not_json_is_a_clear_error(tmp_path):
    folder = tmp_path / "policies"
    assert run_cli("accounts", "render", "-o", str(folder)).returncode == 0
    (folder / "qa" / "role.sagespec-qa-sagemaker.json").write_text("{not json")
    done = run_cli("accounts", "check", "--pipelines", "--policies", str(folder))
    assert (
        done.returncode == 2
        and "error[E6018]:" in done.stderr
        and "role.sagespec-qa-sagemaker.json is not a JSON policy document" in done.stderr
    )
    assert "Traceback" not in done.stderr
    missing = run_cli("accounts", "check", "--policies", str(tmp_path / "nowhere"))
    assert missing.returncode == 2 and "no policy folder at" in missing.stderr
