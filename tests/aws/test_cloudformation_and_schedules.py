"""Pipelines as CloudFormation, and schedules: the template cfn-lint accepts names the definition
object upsert uploads; a spec's schedule becomes an EventBridge Scheduler schedule (moto's
scheduler) with the accounts file's least-privilege role; `schedules list` says when it fires."""

import json
import re

import boto3
import pytest
from botocore.validate import ParamValidator
from click.testing import CliRunner
from moto import mock_aws

from helpers import ROOT, fake_aws_credentials, fast_project_copy, run_cli
from sagespec.cli import cli

SPEC = "pipelines/california_housing.yaml"
BUCKET = "sagespec-shared-artifacts-222222222222"
SCHEDULER_ROLE = "arn:aws:iam::111111111111:role/sagespec-scheduler"


def lint(template: dict) -> list[str]:
    from cfnlint.api import lint as cfn_lint

    return [str(m) for m in cfn_lint(json.dumps(template), regions=["us-east-1"])]


@pytest.fixture
def aws(monkeypatch, tmp_path):
    fake_aws_credentials(monkeypatch)
    monkeypatch.setenv("SAGESPEC_WORKSPACE", str(tmp_path / "ws"))
    monkeypatch.chdir(ROOT)
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
        yield


def invoke(*args):
    return CliRunner().invoke(cli, list(args))


def test_the_template_passes_cfn_lint_and_names_the_definition_upsert_uploads(aws, tmp_path):
    out = tmp_path / "pipeline.template.json"
    done = invoke("compile", SPEC, "--output", "cloudformation", "-o", str(out))
    assert done.exit_code == 0, done.output
    template = json.loads(out.read_text())
    assert lint(template) == []
    pipeline = template["Resources"]["Pipeline"]["Properties"]
    assert pipeline["PipelineName"] == "california-housing"
    assert pipeline["RoleArn"] == {"Ref": "PipelineRoleArn"}
    assert template["Parameters"]["PipelineRoleArn"]["Default"] == "arn:aws:iam::111111111111:role/sagespec-data-science-execution"
    assert {"Key": "project", "Value": "california-housing"} in pipeline["Tags"]
    location = pipeline["PipelineDefinition"]["PipelineDefinitionS3Location"]

    uploaded = invoke("upsert", SPEC, "--target", "aws", "--upload-only")
    assert uploaded.exit_code == 0, uploaded.output
    assert "deploy the stack of `sagespec compile" in uploaded.stdout
    assert boto3.client("sagemaker", region_name="us-east-1").list_pipelines()["PipelineSummaries"] == []  # the stack's to create
    body = boto3.client("s3", region_name="us-east-1").get_object(Bucket=location["Bucket"], Key=location["Key"])["Body"].read()
    compiled = invoke("compile", SPEC).stdout
    assert json.loads(body) == json.loads(compiled)


def test_the_schedule_is_in_the_template_with_the_scheduler_role(aws):
    template = json.loads(invoke("compile", SPEC, "--output", "cloudformation").stdout)
    schedule = template["Resources"]["Schedule"]
    assert schedule["Type"] == "AWS::Scheduler::Schedule" and schedule["DependsOn"] == "Pipeline"
    properties = schedule["Properties"]
    assert properties["ScheduleExpression"] == "cron(0 3 ? * MON *)" and properties["ScheduleExpressionTimezone"] == "Europe/Berlin"
    assert properties["Target"]["SageMakerPipelineParameters"]["PipelineParameterList"] == [
        {"Name": "TrainingEpochs", "Value": "150"},
        {"Name": "AccuracyMseThreshold", "Value": "0.3"},
    ]
    assert template["Parameters"]["SchedulerRoleArn"]["Default"] == SCHEDULER_ROLE


@pytest.mark.slow
def test_a_pipeline_without_a_schedule_has_only_the_pipeline(aws, tmp_path):
    project = fast_project_copy(tmp_path)
    spec = project / "pipelines" / "california_housing.yaml"
    spec.write_text(spec.read_text().split("# Retrain every Monday")[0])
    template = json.loads(run_cli("compile", str(spec), "--output", "cloudformation", cwd=project).stdout)
    assert list(template["Resources"]) == ["Pipeline"] and lint(template) == []


def test_schedules_apply_creates_then_updates_the_schedule_as_the_scheduler_role(aws):
    done = invoke("schedules", "apply", SPEC)
    assert done.exit_code == 0, done.output
    assert done.stdout.startswith("created schedule arn:aws:scheduler:us-east-1:123456789012:schedule/default/california-housing")
    # in the caller's account (moto's 123456789012), with that account's scheduler role
    assert "as arn:aws:iam::123456789012:role/sagespec-scheduler" in done.stdout
    found = boto3.client("scheduler", region_name="us-east-1").get_schedule(Name="california-housing")
    assert found["ScheduleExpression"] == "cron(0 3 ? * MON *)" and found["ScheduleExpressionTimezone"] == "Europe/Berlin"
    assert found["FlexibleTimeWindow"] == {"Mode": "OFF"} and found["State"] == "ENABLED"
    assert found["Target"]["Arn"] == "arn:aws:sagemaker:us-east-1:123456789012:pipeline/california-housing"
    assert found["Target"]["RoleArn"] == "arn:aws:iam::123456789012:role/sagespec-scheduler"
    assert found["Target"]["SageMakerPipelineParameters"]["PipelineParameterList"][0] == {"Name": "TrainingEpochs", "Value": "150"}
    again = invoke("schedules", "apply", SPEC)
    assert again.exit_code == 0 and again.stdout.startswith("updated schedule"), again.output


def test_the_schedule_request_is_valid_for_the_scheduler_service_model():
    from sagespec.compiler import compile_spec
    from sagespec.compiler.schedules import schedule_request as request
    from sagespec.spec.load import load_spec

    compiled = compile_spec(load_spec(ROOT / SPEC, ROOT))
    shape = boto3.client("scheduler", region_name="us-east-1").meta.service_model.operation_model("CreateSchedule").input_shape
    report = ParamValidator().validate(request(compiled, SCHEDULER_ROLE), shape)
    assert not report.has_errors(), report.generate_report()


def test_schedules_list_says_when_each_fires_next():
    done = run_cli("schedules", "list", "--after", "2026-12-03T18:00:00+00:00")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "california-housing (pipelines/california_housing.yaml): cron(0 3 ? * MON *) in Europe/Berlin, enabled,"
        " with TrainingEpochs=150, AccuracyMseThreshold=0.3",
        "  next: 2026-12-07T03:00+01:00, 2026-12-14T03:00+01:00, 2026-12-21T03:00+01:00",
    ]
    assert "sagemaker" not in run_cli("schedules", "list", "--output", "json").stderr  # no SDK import, no warning


def test_the_accounts_render_a_scheduler_role_that_starts_only_the_scheduled_pipelines():
    done = run_cli("accounts", "render", "--output", "json")
    role = json.loads(done.stdout)["data-science/role.sagespec-scheduler.json"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "111111111111"}}
    (statement,) = role["InlinePolicies"]["StartScheduledPipelines"]["Statement"]
    assert statement["Action"] == "sagemaker:StartPipelineExecution"
    assert statement["Resource"] == "arn:aws:sagemaker:us-east-1:111111111111:pipeline/california-housing"


SCHEDULE_SPEC = """name: nightly
session:
  region: us-east-1
  role: arn:aws:iam::111111111111:role/sagespec-data-science-execution
  default_bucket: sagespec-ds-experiments-111111111111
parameters:
  Epochs:
    type: Integer
    default: 5
  Mode:
    type: String
    default: fast
    enum: [fast, full]
steps:
- name: Stop
  kind: fail
  message: nothing to do
schedule:
{schedule}
"""


@pytest.mark.parametrize(
    "schedule, says",
    [
        ("  cron: '0 3 * * * *'", "exactly one of day-of-month and day-of-week is '?'"),
        ("  cron: '0 3 ? * 8 *'", "day-of-week: 8 is outside 1-7"),
        ("  cron: '0 3 ? *'", "has 4 fields; EventBridge's cron has six"),
        ("  rate: 1 days", "the unit is singular when the value is 1"),
        ("  rate: 2 weeks", "the unit is minute(s), hour(s) or day(s)"),
        ("  cron: '0 3 ? * MON *'\n  rate: 1 day", "exactly one of cron and rate, not both"),
        ("  cron: '0 3 ? * MON *'\n  timezone: Mars/Olympus", "is not an IANA time zone"),
        ("  cron: '0 3 ? * MON *'\n  parameters:\n    Epoch: 5", "'Epoch' is not a parameter of the pipeline"),
        ("  cron: '0 3 ? * MON *'\n  parameters:\n    Epochs: many", "'Epochs' is Integer; 'many' is not"),
        ("  cron: '0 3 ? * MON *'\n  parameters:\n    Mode: slow", "'Mode' must be one of fast, full"),
    ],
    ids=["both days", "day 8", "four fields", "1 days", "weeks", "cron and rate", "time zone", "unknown parameter", "type", "enum"],
)
def test_a_schedule_eventbridge_would_refuse_is_a_located_error(tmp_path, schedule, says):
    spec = tmp_path / "nightly.yaml"
    spec.write_text(SCHEDULE_SPEC.format(schedule=schedule))
    done = run_cli("validate", str(spec), cwd=tmp_path)
    assert done.returncode == 1, done.stdout
    assert says in done.stdout and re.search(r"nightly\.yaml:\d+:\d+: error\[E4021\]", done.stdout), done.stdout
