"""Clarify check steps (pre-training bias, post-training bias, SHAP explainability) compile to the
SDK's ClarifyCheckStep: a valid CreateProcessingJob request on Clarify's image with its analysis
config uploaded where the definition reads it; a register step's quality_checks records their
constraints and monitoring analysis configs; the access plan gives the job its shadow endpoint;
a local run refuses them before the first step; checks that could not run are located.
(tests/compiler/test_sdk_twins.py compares the same spec with the SDK script that builds it.)"""

import json
import re

import pytest
from botocore.validate import ParamValidator
from test_service_model import requests

from helpers import ROOT, assert_located_mistake, compile_here, model_step, places, project_copy_of

TWIN = ROOT / "tests" / "fixtures" / "sdk_twins" / "abalone_clarify"
SPEC = (TWIN / "pipelines" / "clarify.yaml").read_text()
CHECKS = ("DataBiasCheckStep", "ModelBiasCheckStep", "ModelExplainabilityCheckStep")


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """The twin's project; under SDK v3 without `sdk_step: CreateModelStep` (v3 has only ModelStep,
    which keeps the step's name there: the checks' references read the same)."""
    from sagespec.compiler.sdk import installed

    copy = project_copy_of(TWIN, tmp_path_factory.mktemp("clarify"))
    if installed() == "v3":
        spec = copy / "pipelines" / "clarify.yaml"
        spec.write_text("".join(line for line in spec.read_text().splitlines(True) if "sdk_step:" not in line))
    return copy


@pytest.fixture(scope="module")
def compiled(project):
    out = project / "clarify.json"
    done = compile_here("compile", "pipelines/clarify.yaml", "-o", str(out), "--no-cache", cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(out.read_text())


def test_checks_are_valid_create_processing_job_requests_on_clarifys_image(compiled):
    checked = {name: (operation, shape, params) for name, operation, shape, params in requests(compiled)}
    for name in CHECKS:
        operation, shape, params = checked[name]
        assert operation == "CreateProcessingJob"
        report = ParamValidator().validate(params, shape)
        assert not report.has_errors(), f"{name}: {report.generate_report()}"
        assert re.search(r"/sagemaker-clarify-processing:", params["AppSpecification"]["ImageUri"])
    report = ParamValidator().validate(*reversed(checked[model_step("RegisterAbaloneModel")][1:]))
    assert not report.has_errors(), report.generate_report()


def test_each_check_reads_its_analysis_config_and_dataset_and_says_what_it_checks(compiled):
    steps = {s["Name"]: s for s in compiled["Steps"]}
    assert [steps[n]["CheckType"] for n in CHECKS] == ["DATA_BIAS", "MODEL_BIAS", "MODEL_EXPLAINABILITY"]
    for name in CHECKS:
        inputs = {i["InputName"]: i["S3Input"] for i in steps[name]["Arguments"]["ProcessingInputs"]}
        folder = name.lower().removesuffix("step") + "step"
        assert (
            inputs["analysis_config"]["S3Uri"]
            == f"s3://sagespec-ds-experiments-111111111111/abalone-clarify/{folder}/analysis_cfg/analysis_config.json"
        )
        assert inputs["dataset"]["S3Uri"] == {"Get": "Steps.PreprocessAbaloneData.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri"}
        assert steps[name]["SkipCheck"] == {"Get": f"Parameters.Skip{name.removesuffix('Step')}"}
    assert steps["ModelBiasCheckStep"]["ModelName"] == {"Get": "Steps.AbaloneCreateModel.ModelName"}
    assert "ModelName" not in steps["DataBiasCheckStep"]


def test_the_analysis_configs_are_uploads_of_the_compile(project):
    """What the jobs read is uploaded by upsert as compiled: bias facets, the label, the predictor."""
    from sagespec.compiler import compile_spec
    from sagespec.spec.load import load_spec

    uploads = {
        u.uri: json.loads(u.body)
        for u in compile_spec(load_spec(project / "pipelines" / "clarify.yaml", project)).uploads
        if u.uri.endswith(".json")
    }
    bias = uploads["s3://sagespec-ds-experiments-111111111111/abalone-clarify/databiascheckstep/analysis_cfg/analysis_config.json"]
    assert bias["label"] == 0 and bias["facet"] == [{"name_or_index": 8, "value_or_threshold": [0.5]}]
    assert bias["label_values_or_threshold"] == [15.0] and bias["methods"]["pre_training_bias"] == {"methods": "all"}
    explained = uploads[
        "s3://sagespec-ds-experiments-111111111111/abalone-clarify/modelexplainabilitycheckstep/analysis_cfg/analysis_config.json"
    ]
    assert explained["methods"]["shap"]["num_samples"] == 10 and explained["predictor"]["instance_type"] == "ml.m5.large"


def test_the_registered_version_records_each_checks_constraints_and_its_monitoring_config(compiled):
    register = next(s for s in compiled["Steps"] if s["Type"] == "RegisterModel")["Arguments"]
    metrics, baselines = register["ModelMetrics"], register["DriftCheckBaselines"]
    assert metrics["Bias"]["PreTrainingReport"]["S3Uri"] == {"Get": "Steps.DataBiasCheckStep.CalculatedBaselineConstraints"}
    assert metrics["Bias"]["PostTrainingReport"]["S3Uri"] == {"Get": "Steps.ModelBiasCheckStep.CalculatedBaselineConstraints"}
    assert metrics["Explainability"]["Report"]["S3Uri"] == {"Get": "Steps.ModelExplainabilityCheckStep.CalculatedBaselineConstraints"}
    assert baselines["Bias"]["PreTrainingConstraints"]["S3Uri"] == {"Get": "Steps.DataBiasCheckStep.BaselineUsedForDriftCheckConstraints"}
    config = baselines["Bias"]["ConfigFile"]["S3Uri"]  # the model bias check's (its analysis has the predictor)
    assert re.fullmatch(
        r"s3://.+/modelbiascheckstep/analysis_cfg/bias-monitoring-configuration/bias-monitoring-config/[0-9a-f]{64}/analysis_config\.json",
        config,
    )
    assert "/modelexplainabilitycheckstep/" in baselines["Explainability"]["ConfigFile"]["S3Uri"]


ONE_BY_ONE = """    model_metrics:
      bias_pre_training: ${steps.DataBiasCheckStep.properties.CalculatedBaselineConstraints}
      bias_post_training: ${steps.ModelBiasCheckStep.properties.CalculatedBaselineConstraints}
      explainability: ${steps.ModelExplainabilityCheckStep.properties.CalculatedBaselineConstraints}
    drift_check_baselines:
      bias_pre_training_constraints: ${steps.DataBiasCheckStep.properties.BaselineUsedForDriftCheckConstraints}
      bias_config_file: {s3_uri: "${steps.ModelBiasCheckStep.monitoring_analysis_config_uri}", content_type: application/json}
      bias_post_training_constraints: ${steps.ModelBiasCheckStep.properties.BaselineUsedForDriftCheckConstraints}
      explainability_constraints: ${steps.ModelExplainabilityCheckStep.properties.BaselineUsedForDriftCheckConstraints}
      explainability_config_file:
        s3_uri: ${steps.ModelExplainabilityCheckStep.monitoring_analysis_config_uri}
        content_type: application/json
"""


def test_the_slots_written_one_by_one_as_the_notebook_does_are_what_quality_checks_fills(project, compiled):
    """Each slot named with the check's properties and its monitoring_analysis_config_uri, as the SDK
    example writes ModelMetrics and DriftCheckBaselines, compiles to what `quality_checks` gives."""
    spec = project / "pipelines" / "one_by_one.yaml"
    listed = "    quality_checks: [DataBiasCheckStep, ModelBiasCheckStep, ModelExplainabilityCheckStep]\n"
    spec.write_text((project / "pipelines" / "clarify.yaml").read_text().replace(listed, ONE_BY_ONE))
    out = project / "one_by_one.json"
    done = compile_here("compile", "pipelines/one_by_one.yaml", "-o", str(out), "--no-cache", cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(out.read_text()) == compiled


def test_two_compiles_give_one_definition(project, compiled):
    out = project / "again.json"
    done = compile_here("compile", "pipelines/clarify.yaml", "-o", str(out), "--no-cache", cwd=project)
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text()) == compiled


def test_a_model_check_grants_its_job_the_shadow_endpoint_and_the_pipeline_the_previous_baseline(compiled):
    from sagespec.accounts.needs import needs

    role = "arn:aws:iam::111111111111:role/sagespec-data-science-execution"
    found = needs("abalone-clarify", compiled, role, places())
    shadow = {(n.step, n.action, n.resource) for n in found if n.grant == "ShadowEndpoints"}
    endpoint = "arn:aws:sagemaker:us-east-1:111111111111:endpoint/sm-clarify-*"
    assert ("ModelBiasCheckStep", "sagemaker:InvokeEndpoint", endpoint) in shadow
    assert ("ModelExplainabilityCheckStep", "sagemaker:DeleteEndpointConfig", endpoint.replace(":endpoint/", ":endpoint-config/")) in shadow
    assert not {n for n in shadow if n[0] == "DataBiasCheckStep"}  # a data bias check calls no model
    baselines = {(n.step, n.action) for n in found if n.grant == "ReadBaselines"}
    assert ("DataBiasCheckStep", "sagemaker:ListModelPackages") in baselines


def test_a_local_run_refuses_a_clarify_check_before_the_first_step(compiled, tmp_path):
    from sagespec.backends.local.executor.preflight import unrunnable_steps

    refused = dict(unrunnable_steps({s["Name"]: s for s in compiled["Steps"]}, tmp_path))
    assert set(CHECKS) <= set(refused)
    assert "Clarify's analyzer" in refused["DataBiasCheckStep"] and "upsert" in refused["DataBiasCheckStep"]


MISTAKES = [
    ("facet_values_or_threshold: [[0.5]]}", "facet_values_or_threshold: [[0.5], [1]]}", "E4020",
     "names 1 facets and 2 facet_values_or_threshold: one list per facet", "facet_values_or_threshold"),
    ("    model: {model_name: \"${steps.AbaloneCreateModel.properties.ModelName}\", instance_type: ml.m5.large, instance_count: 1}\n    predicted_label",
     "    model: {model_name: \"${steps.AbaloneCreateModel.properties.ModelName}\", instance_type: ml.m5.large, content_type: application/json}\n    predicted_label",
     "E4020", "sends application/json: it needs content_template with $record and record_template", "content_type: application/json"),
    ("    shap: {seed: 123, num_samples: 10}", "    shap: {seed: 123, num_samples: 10, baseline: [[1, 2]], num_clusters: 3}", "E4020",
     "gives a SHAP baseline and num_clusters", "num_clusters: 3"),
    ("[DataBiasCheckStep, ModelBiasCheckStep, ModelExplainabilityCheckStep]",
     "[DataBiasCheckStep, ModelBiasCheckStep]\n    drift_check_baselines:\n"
     "      explainability_config_file: {s3_uri: '${steps.TrainAbaloneModel.monitoring_analysis_config_uri}'}", "E3005",
     "only clarify_check steps have a monitoring analysis config", "TrainAbaloneModel.monitoring_analysis_config_uri"),
    ("    label: 0\n    bias:", "    label: 0\n    shap: {num_samples: 5}\n    bias:", "E4020",
     "shap belongs to a model_explainability check; 'DataBiasCheckStep' is a data_bias check", "shap: {num_samples: 5}"),
    ("    shap: {seed: 123, num_samples: 10}\n", "    shap: {seed: 123, num_samples: 10}\n    predicted_label: {}\n", "E4020",
     "predicted_label belongs to a model_bias check", "predicted_label: {}"),
    ("[DataBiasCheckStep, ModelBiasCheckStep, ModelExplainabilityCheckStep]", "[DataBiasCheckStep, ModelBiasCheckStep]\n"
     "    model_metrics: {bias_pre_training: s3://b/own-report.json}", "E4020",
     "takes model_metrics.bias_pre_training both from here and from the check 'DataBiasCheckStep'", "bias_pre_training"),
    ("    model: {training_step: TrainAbaloneModel}\n    instance_type: ml.m5.large\n",
     "    model: {training_step: TrainAbaloneModel, entry_point: code/preprocess.py}\n    instance_type: ml.m5.large\n", "E4014",
     "serves a model with its own entry_point: sagespec builds CreateModelStep for one trained model", "sdk_step: CreateModelStep"),
]  # fmt: skip


@pytest.mark.parametrize("old, new, code, says, line_holds", MISTAKES, ids=[m[3][:40] or m[2] for m in MISTAKES])
def test_a_clarify_check_that_could_not_run_or_be_recorded_is_located(tmp_path, old, new, code, says, line_holds):
    assert_located_mistake(project_copy_of(TWIN, tmp_path), SPEC, old, new, code, says, line_holds)


def test_upsert_puts_a_changed_analysis_config_although_its_key_is_the_same(project, monkeypatch, tmp_path):
    """The job's analysis config lives at the SDK's fixed key: an object already there may be the
    previous config, so upsert puts it every time (code keys name their content and are skipped)."""
    import boto3
    from click.testing import CliRunner
    from moto import mock_aws

    from helpers import fake_aws_credentials
    from sagespec.cli import cli

    project = project_copy_of(project, tmp_path)
    fake_aws_credentials(monkeypatch)
    monkeypatch.setenv("SAGESPEC_WORKSPACE", str(tmp_path / "ws"))
    monkeypatch.chdir(project)
    key = "abalone-clarify/databiascheckstep/analysis_cfg/analysis_config.json"
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="sagespec-ds-experiments-111111111111")
        for threshold in ("15.0", "9.0"):
            spec = project / "pipelines" / "clarify.yaml"
            spec.write_text(spec.read_text().replace("label_values_or_threshold: [15.0]", f"label_values_or_threshold: [{threshold}]", 1))
            done = CliRunner().invoke(cli, ["upsert", "pipelines/clarify.yaml"], catch_exceptions=False)
            assert done.exit_code == 0, done.output
            stored = json.loads(s3.get_object(Bucket="sagespec-ds-experiments-111111111111", Key=key)["Body"].read())
            assert stored["label_values_or_threshold"] == [float(threshold)]
        assert f"uploaded s3://sagespec-ds-experiments-111111111111/{key}" in done.output.splitlines()
        assert any(line.startswith("unchanged ") and line.endswith("/preprocess.py") for line in done.output.splitlines())
