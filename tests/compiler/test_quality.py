"""Quality check steps compile to the SDK's QualityCheckStep (Model Monitor's analyzer as a valid
CreateProcessingJob request); a register step's quality_checks become its ModelMetrics and
DriftCheckBaselines (a valid CreateModelPackage request); checks that could not run are located."""

import json

import pytest
from botocore.validate import ParamValidator
from test_service_model import requests

from helpers import assert_located_mistake, compile_here, fast_project_copy, model_step, run_cli
from quality_pipeline import SPEC


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    copy = fast_project_copy(tmp_path_factory.mktemp("quality-compile"))
    (copy / "pipelines" / "quality.yaml").write_text(SPEC)
    return copy


@pytest.fixture(scope="module")
def compiled(project, tmp_path_factory):
    out = tmp_path_factory.mktemp("out") / "quality.json"
    done = compile_here("compile", "pipelines/quality.yaml", "-o", str(out), "--no-cache", cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(out.read_text())


def test_checks_and_the_registration_are_valid_requests_of_their_api_calls(compiled):
    checked = {name: (operation, shape, params) for name, operation, shape, params in requests(compiled)}
    assert checked["DataQuality"][0] == checked["ModelQuality"][0] == "CreateProcessingJob"
    assert checked[model_step("Register")][0] == "CreateModelPackage"
    for name, (_operation, shape, params) in checked.items():
        report = ParamValidator().validate(params, shape)
        assert not report.has_errors(), f"{name}: {report.generate_report()}"


def test_the_check_runs_model_monitors_analyzer_with_its_settings(compiled):
    steps = {s["Name"]: s for s in compiled["Steps"]}
    data, model = steps["DataQuality"], steps["ModelQuality"]
    assert data["CheckType"] == "DATA_QUALITY" and model["CheckType"] == "MODEL_QUALITY"
    assert data["SkipCheck"] == {"Get": "Parameters.FirstRun"} and data["RegisterNewBaseline"] == {"Get": "Parameters.FirstRun"}
    assert data["ModelPackageGroupName"] == "california-housing-experiments" and data["FailOnViolation"] is True
    assert "sagemaker-model-monitor-analyzer" in data["Arguments"]["AppSpecification"]["ImageUri"]
    env = model["Arguments"]["Environment"]
    assert env["analysis_type"] == "MODEL_QUALITY" and env["problem_type"] == "Regression"
    assert (env["ground_truth_attribute"], env["inference_attribute"]) == ("_c0", "_c1")
    assert json.loads(env["dataset_format"])["csv"]["header"] is False


def test_the_registered_version_records_the_calculated_and_the_drift_check_baselines(compiled):
    register = next(s for s in compiled["Steps"] if s["Type"] == "RegisterModel")["Arguments"]
    metrics, baselines = register["ModelMetrics"], register["DriftCheckBaselines"]
    assert metrics["ModelDataQuality"]["Statistics"]["S3Uri"] == {"Get": "Steps.DataQuality.CalculatedBaselineStatistics"}
    assert metrics["ModelQuality"]["Constraints"]["S3Uri"] == {"Get": "Steps.ModelQuality.CalculatedBaselineConstraints"}
    assert baselines["ModelDataQuality"]["Constraints"]["S3Uri"] == {"Get": "Steps.DataQuality.BaselineUsedForDriftCheckConstraints"}
    assert baselines["ModelQuality"]["Statistics"]["S3Uri"] == {"Get": "Steps.ModelQuality.BaselineUsedForDriftCheckStatistics"}


def test_graph_draws_quality_checks(project):
    done = run_cli("graph", "pipelines/quality.yaml", cwd=project)
    assert done.returncode == 0, done.stderr
    assert '{{"DataQuality<br/><small>quality check</small>"}}' in done.stdout


MISTAKES = [
    (
        "  ground_truth_attribute: _c0\n",
        "",
        "E4020",
        "model quality check 'ModelQuality' needs ground_truth_attribute",
        "check: model_quality",
    ),
    ("  inference_attribute: _c1\n", "", "E4020", "needs inference_attribute or probability_attribute", "check: model_quality"),
    (
        "  dataset_format: {csv: {header: false}}\n  instance_type: ml.m5.xlarge\n  skip_check",
        "  dataset_format: {csv: {header: false}}\n  problem_type: Regression\n  instance_type: ml.m5.xlarge\n  skip_check",
        "E4020",
        "problem_type belongs to a model quality check",
        "problem_type: Regression",
    ),
    (
        "  model_package_group: california-housing-experiments\n- name: ModelQuality",
        "  supplied_baseline_statistics: s3://b/statistics.json\n- name: ModelQuality",
        "E4020",
        "needs supplied_baseline_constraints too",
        "supplied_baseline_statistics",
    ),
    (
        "quality_checks: [DataQuality, ModelQuality]",
        "quality_checks: [DataQuality, Nope]",
        "E3001",
        "unknown step 'Nope'",
        "quality_checks",
    ),
    (
        "quality_checks: [DataQuality, ModelQuality]",
        "quality_checks: [DataQuality, Register]",
        "E3005",
        "not a quality_check",
        "quality_checks",
    ),
    (
        "  check: model_quality\n",
        "  check: data_quality\n",
        "E4020",
        "are both data_quality checks",
        "quality_checks",
    ),
    (
        "quality_checks: [DataQuality, ModelQuality]",
        "quality_checks: [DataQuality, ModelQuality]\n  model_metrics: {model_statistics: s3://b/evaluation.json}",
        "E4020",
        "takes model_metrics.model_statistics both from here and from the check 'ModelQuality'",
        "model_metrics",
    ),
    (
        "quality_checks: [DataQuality, ModelQuality]",
        "quality_checks: [DataQuality, ModelQuality]\n  drift_check_baselines:\n    model_data_constraints: s3://b/constraints.json",
        "E4020",
        "takes drift_check_baselines.model_data_constraints both from here and from the check 'DataQuality'",
        "model_data_constraints",
    ),
]


@pytest.mark.parametrize("old, new, code, says, line_holds", MISTAKES, ids=[m[3][:40] for m in MISTAKES])
def test_a_quality_check_that_could_not_run_or_be_recorded_is_located(project, old, new, code, says, line_holds):
    assert_located_mistake(project, SPEC, old, new, code, says, line_holds)
