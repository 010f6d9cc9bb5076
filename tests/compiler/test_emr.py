"""EMR steps on a running cluster (cluster_id) or on one SageMaker launches for the step
(cluster_config, the SDK's EMRStep(cluster_config=...)): valid EMR requests (botocore's EMR
service model), the launch's grants in the access plan, and what SageMaker would refuse located.
(tests/compiler/test_sdk_twins.py compares sdk_twins/emr_spark with the SDK script.)"""

import json

import botocore.session
import pytest
from botocore.validate import ParamValidator

from helpers import ROOT, assert_located_mistake, compile_here, places, project_copy_of

TWIN = ROOT / "tests" / "fixtures" / "sdk_twins" / "emr_spark"
SPEC = (TWIN / "pipelines" / "emr.yaml").read_text()
EMR = botocore.session.get_session().get_service_model("emr")


@pytest.fixture(scope="module")
def steps(tmp_path_factory):
    out = tmp_path_factory.mktemp("emr") / "emr.json"
    done = compile_here("compile", "pipelines/emr.yaml", "-o", str(out), "--no-cache", cwd=TWIN)
    assert done.returncode == 0, done.stdout + done.stderr
    return {s["Name"]: s for s in json.loads(out.read_text())["Steps"]}


def test_each_step_is_a_step_emr_takes_and_the_launched_cluster_a_run_job_flow_request(steps):
    add = EMR.operation_model("AddJobFlowSteps").input_shape
    for step in steps.values():
        request = {"JobFlowId": "j-2AXXXXXXGAPLF", "Steps": [{"Name": step["Name"], **step["Arguments"]["StepConfig"]}]}
        request["Steps"][0]["HadoopJarStep"]["Args"] = [
            a if isinstance(a, str) else "s3://b/k" for a in request["Steps"][0]["HadoopJarStep"]["Args"]
        ]
        report = ParamValidator().validate(request, add)
        assert not report.has_errors(), report.generate_report()
    launched = steps["AggregateSales"]["Arguments"]
    assert "ClusterId" not in launched and launched["ClusterConfig"]["ReleaseLabel"] == "emr-7.5.0"
    report = ParamValidator().validate({**launched["ClusterConfig"], "Name": "n"}, EMR.operation_model("RunJobFlow").input_shape)
    assert not report.has_errors(), report.generate_report()
    assert steps["AggregateSales"]["RetryPolicies"] == [
        {"ExceptionType": ["Step.THROTTLING"], "MaxAttempts": 3, "IntervalSeconds": 10, "BackoffRate": 2.0}
    ]


def test_launching_a_cluster_grants_the_launch_and_passes_its_two_roles(steps):
    from sagespec.accounts.needs import needs

    definition = {"Version": "2020-12-01", "Parameters": [], "Steps": list(steps.values())}
    found = needs("sales-emr", definition, "arn:aws:iam::111111111111:role/sagespec-data-science-execution", places())
    launch = {(n.step, n.action, n.resource) for n in found if n.grant == "LaunchEmrClusters"}
    assert ("AggregateSales", "elasticmapreduce:RunJobFlow", "*") in launch
    assert ("AggregateSales", "elasticmapreduce:TerminateJobFlows", "arn:aws:elasticmapreduce:us-east-1:111111111111:cluster/*") in launch
    assert ("AggregateSales", "iam:PassRole", "arn:aws:iam::111111111111:role/EMR_EC2_DefaultRole") in launch
    assert ("AggregateSales", "iam:PassRole", "arn:aws:iam::111111111111:role/EMR_DefaultRole") in launch
    assert not {n for n in launch if n[0] == "CleanSales"}  # a running cluster is not launched
    passed = {
        n.resource.rsplit("/", 1)[-1]: dict(n.context) for n in found if n.grant == "LaunchEmrClusters" and n.action == "iam:PassRole"
    }
    assert passed == {
        "EMR_DefaultRole": {"iam:PassedToService": "elasticmapreduce.amazonaws.com"},
        "EMR_EC2_DefaultRole": {"iam:PassedToService": "ec2.amazonaws.com"},
    }


def test_a_parameter_in_the_cluster_config_compiles_to_the_pipeline_variable(tmp_path):
    project = project_copy_of(TWIN, tmp_path)
    spec = SPEC.replace("  InputData:", "  Release: {type: String, default: emr-7.5.0}\n  InputData:")
    (project / "pipelines" / "emr.yaml").write_text(spec.replace("ReleaseLabel: emr-7.5.0", 'ReleaseLabel: "${params.Release}"'))
    done = compile_here("compile", "pipelines/emr.yaml", "-o", str(tmp_path / "emr.json"), "--no-cache", cwd=project)
    assert done.returncode == 0, done.stderr
    steps = {s["Name"]: s for s in json.loads((tmp_path / "emr.json").read_text())["Steps"]}
    assert steps["AggregateSales"]["Arguments"]["ClusterConfig"]["ReleaseLabel"] == {"Get": "Parameters.Release"}


MISTAKES = [
    ("      VisibleToAllUsers: true\n", "      VisibleToAllUsers: true\n      Name: sales\n", "E4023",
     "cluster_config of 'AggregateSales' sets Name: SageMaker sets it", "Name: sales"),
    ("        Ec2SubnetId:", "        KeepJobFlowAliveWhenNoSteps: true\n        Ec2SubnetId:", "E4023",
     "sets Instances.KeepJobFlowAliveWhenNoSteps: the cluster SageMaker launches ends with its step", "KeepJobFlowAliveWhenNoSteps"),
    ("      VisibleToAllUsers: true\n", "      VisibleToAllUsers: yes please\n", "E4023",
     "is not a RunJobFlow request EMR takes: Invalid type for parameter VisibleToAllUsers", "cluster_config:"),
    ("    depends_on: [CleanSales]\n", "    depends_on: [CleanSales]\n    cluster_id: j-3BXXXXXXGAPLF\n", "E2007",
     "step 'AggregateSales' takes one of: cluster_id, cluster_config, not both", "cluster_config:"),
    ("    depends_on: [CleanSales]\n", "    depends_on: [CleanSales]\n    execution_role_arn: arn:aws:iam::111111111111:role/emr-runtime\n",
     "E4023", "a runtime role goes with a running cluster", "execution_role_arn"),
    ("exceptions: [Step.THROTTLING]", "exceptions: [SageMaker.JOB_INTERNAL_ERROR]", "E4019",
     "step 'AggregateSales' is a emr step and starts no SageMaker job", "SageMaker.JOB_INTERNAL_ERROR"),
]  # fmt: skip


@pytest.mark.parametrize("old, new, code, says, line_holds", MISTAKES, ids=[m[3][:40] for m in MISTAKES])
def test_a_cluster_sagemaker_would_not_launch_is_located(tmp_path, old, new, code, says, line_holds):
    assert_located_mistake(project_copy_of(TWIN, tmp_path), SPEC, old, new, code, says, line_holds)
