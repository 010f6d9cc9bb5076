"""Retry policies, pipeline settings (ParallelismConfiguration, custom job prefixes), callback and
EMR steps compile to what SageMaker documents: RetryPolicies split by exception family, the job
name prefix kept in the Arguments, a Callback step with its queue and typed outputs, an EMR step
whose StepConfig is a valid AddJobFlowSteps step of botocore's EMR model; retry policies that
cannot apply are located before anything compiles."""

import json
import re

import botocore.session
import pytest
from botocore.validate import ParamValidator
from test_service_model import concrete, requests

from helpers import assert_located_mistake, compile_here, data_science_spec, fast_project_copy, run_cli

STEPS = """- name: Prep
  kind: processing
  processor: {framework: sklearn, framework_version: 1.2-1, instance_type: ml.m5.large, base_job_name: housing-prep}
  code: sklearn_code/train.py
  retry:
  - {exceptions: [SageMaker.JOB_INTERNAL_ERROR, Step.SERVICE_FAULT], max_attempts: 3, interval_seconds: 2, backoff_rate: 1.5}
  - {exceptions: [SageMaker.RESOURCE_LIMIT], expire_after_minutes: 60}
  outputs:
  - {name: out, source: /opt/ml/processing/out}
- name: Review
  kind: callback
  queue_url: https://sqs.us-east-1.amazonaws.com/111111111111/review
  inputs: {data: "${steps.Prep.outputs.out}", threshold: 0.5}
  outputs: [{name: verdict}, {name: score, type: Float}]
- name: Spark
  kind: emr
  cluster_id: j-ABC123
  jar: command-runner.jar
  args: [spark-submit, "--verdict=${steps.Review.outputs.verdict}"]
  step_properties: {spark.executor.memory: 2g}
- name: Register
  kind: register_model
  depends_on: [Spark]
  model:
    image_uri: 683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3
    model_data: s3://sagespec-ds-experiments-111111111111/models/model.tar.gz
  model_package_group: california-housing-experiments
  content_types: [text/csv]
  response_types: [text/csv]
  inference_instances: [ml.m5.large]
  retry:
  - {exceptions: [Step.THROTTLING], max_attempts: 5}
"""
SPEC = data_science_spec("settings", "settings", {"TrainData": "s3://sagespec-ds-experiments-111111111111/d/train.csv"}, STEPS).replace(
    "parameters:", "settings: {max_parallel_steps: 3, custom_job_prefix: true}\nparameters:"
)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    copy = fast_project_copy(tmp_path_factory.mktemp("settings"))
    (copy / "pipelines" / "settings.yaml").write_text(SPEC)
    return copy


@pytest.fixture(scope="module")
def compiled(project, tmp_path_factory):
    out = tmp_path_factory.mktemp("out") / "settings.json"
    done = compile_here("compile", "pipelines/settings.yaml", "-o", str(out), "--no-cache", cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    return {s["Name"]: s for s in json.loads(out.read_text())["Steps"]}


def compiled_steps(folder, tmp_path, name: str, spec: str) -> list[dict]:
    """`spec` written as pipelines/<name>.yaml in `folder` and compiled there, as a user runs
    `sagespec compile`: the definition's steps."""
    (folder / "pipelines").mkdir(exist_ok=True)
    (folder / "pipelines" / f"{name}.yaml").write_text(spec)
    out = tmp_path / f"{name}.json"
    done = compile_here("compile", f"pipelines/{name}.yaml", "-o", str(out), "--no-cache", cwd=folder)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(out.read_text())["Steps"]


def test_a_policy_becomes_one_retry_policy_per_exception_family_with_its_timing(compiled):
    assert compiled["Prep"]["RetryPolicies"] == [
        {"BackoffRate": 1.5, "IntervalSeconds": 2, "MaxAttempts": 3, "ExceptionType": ["Step.SERVICE_FAULT"]},
        {"BackoffRate": 1.5, "IntervalSeconds": 2, "MaxAttempts": 3, "ExceptionType": ["SageMaker.JOB_INTERNAL_ERROR"]},
        {"BackoffRate": 2.0, "IntervalSeconds": 1, "ExpireAfterMin": 60, "ExceptionType": ["SageMaker.RESOURCE_LIMIT"]},
    ]
    register = next(s for name, s in compiled.items() if name.startswith("Register") and s["Type"] == "RegisterModel")
    assert register["RetryPolicies"] == [{"BackoffRate": 2.0, "IntervalSeconds": 1, "MaxAttempts": 5, "ExceptionType": ["Step.THROTTLING"]}]


def test_custom_job_prefix_keeps_the_base_job_name_as_the_job_name(compiled):
    assert compiled["Prep"]["Arguments"]["ProcessingJobName"] == "housing-prep"
    checked = [r for r in requests({"Steps": list(compiled.values())}) if r[0] == "Prep"]
    report = ParamValidator().validate(checked[0][3], checked[0][2])
    assert not report.has_errors(), report.generate_report()


def test_without_the_setting_the_job_name_is_left_to_sagemaker(project, tmp_path):
    plain = SPEC.replace("settings: {max_parallel_steps: 3, custom_job_prefix: true}\n", "")
    prep = next(s for s in compiled_steps(project, tmp_path, "plain", plain) if s["Name"] == "Prep")
    assert "ProcessingJobName" not in prep["Arguments"]


def test_the_callback_step_names_its_queue_inputs_and_typed_outputs(compiled):
    review = compiled["Review"]
    assert review["Type"] == "Callback"
    assert review["SqsQueueUrl"] == "https://sqs.us-east-1.amazonaws.com/111111111111/review"
    assert review["Arguments"]["threshold"] == 0.5
    assert review["Arguments"]["data"] == {"Get": "Steps.Prep.ProcessingOutputConfig.Outputs['out'].S3Output.S3Uri"}
    assert review["OutputParameters"] == [{"OutputName": "verdict", "OutputType": "String"}, {"OutputName": "score", "OutputType": "Float"}]


def test_the_emr_step_is_a_valid_add_job_flow_steps_request(compiled):
    spark = compiled["Spark"]["Arguments"]
    emr = botocore.session.get_session().get_service_model("emr").operation_model("AddJobFlowSteps").input_shape
    config = {"Name": "Spark", **spark["StepConfig"]}
    request = {"JobFlowId": spark["ClusterId"], "Steps": [concrete(config, emr.members["Steps"].member)]}
    report = ParamValidator().validate(request, emr)
    assert not report.has_errors(), report.generate_report()
    assert spark["StepConfig"]["HadoopJarStep"]["Properties"] == [{"Key": "spark.executor.memory", "Value": "2g"}]


def test_parallelism_goes_with_the_pipeline_not_its_definition(project, tmp_path):
    from sagespec.compiler import compile_spec
    from sagespec.spec.load import load_spec

    pipeline = compile_spec(load_spec(project / "pipelines" / "settings.yaml", project))
    assert pipeline.max_parallel_steps == 3
    assert "ParallelismConfiguration" not in pipeline.definition
    shape = botocore.session.get_session().get_service_model("sagemaker").operation_model("CreatePipeline").input_shape
    request = {"PipelineName": "settings", "RoleArn": pipeline.role, "PipelineDefinition": pipeline.definition_json}
    request["ParallelismConfiguration"] = {"MaxParallelExecutionSteps": pipeline.max_parallel_steps}
    request["ClientRequestToken"] = "0" * 32
    report = ParamValidator().validate(request, shape)
    assert not report.has_errors(), report.generate_report()


def test_graph_draws_the_new_kinds_in_their_own_shapes(project):
    done = run_cli("graph", "pipelines/settings.yaml", cwd=project)
    assert done.returncode == 0, done.stderr
    assert 's1>"Review<br/><small>callback</small>"]' in done.stdout
    assert 's2[["Spark<br/><small>emr</small>"]]' in done.stdout


@pytest.mark.parametrize(
    "old, new, code, says, line_holds",
    [
        (
            "{exceptions: [Step.THROTTLING], max_attempts: 5}",
            "{exceptions: [SageMaker.CAPACITY_ERROR], max_attempts: 5}",
            "E4019",
            "starts no SageMaker job: SageMaker.CAPACITY_ERROR cannot occur",
            "SageMaker.CAPACITY_ERROR",
        ),
        (
            "max_attempts: 3, interval_seconds: 2",
            "max_attempts: 3, expire_after_minutes: 5, interval_seconds: 2",
            "E2007",
            "",
            "expire_after_minutes: 5",
        ),
        ("max_attempts: 3,", "max_attempts: 21,", "E2006", "21", "max_attempts: 21"),
        ("queue_url: https://sqs", "queue_url: http://sqs", "E2005", "", "queue_url: http://sqs"),
    ],
)
def test_a_retry_policy_or_step_sagemaker_would_refuse_is_located(project, old, new, code, says, line_holds):
    assert_located_mistake(project, SPEC, old, new, code, says, line_holds)


CACHED = """- name: Prep{n}
  kind: processing
  processor: {{framework: sklearn, framework_version: 1.2-1, instance_type: ml.m5.large}}
  code: sklearn_code/train.py
  cache: {{expire_after: {form}}}
"""
# "Turn on step caching" (SageMaker Developer Guide): "30d", "5y", "T16m", "30dT5h"; and ISO 8601's own.
FORMS = {"30d": 30 * 86400, "5y": 5 * 365 * 86400, "T16m": 16 * 60, "30dT5h": 30 * 86400 + 5 * 3600, "P30D": 30 * 86400, "PT12H": 43200}


def test_every_cache_duration_sagemaker_documents_validates_compiles_as_written_and_times_the_local_cache(project, tmp_path):
    from sagespec.backends.local.executor.caching import expire_after

    steps = "".join(CACHED.format(n=i, form=form) for i, form in enumerate(FORMS))
    spec = data_science_spec("cached", "cached", {"Data": "s3://sagespec-ds-experiments-111111111111/d.csv"}, steps)
    written = [s["CacheConfig"]["ExpireAfter"] for s in compiled_steps(project, tmp_path, "cached", spec)]
    assert written == list(FORMS)  # passed through as the user wrote them, as the SDK's CacheConfig does
    assert [expire_after(form).total_seconds() for form in written] == list(FORMS.values())


def test_a_cache_duration_that_is_no_duration_is_located(project):
    spec = data_science_spec(
        "cached", "cached", {"Data": "s3://sagespec-ds-experiments-111111111111/d.csv"}, CACHED.format(n=0, form="30d")
    )
    assert_located_mistake(project, spec, "expire_after: 30d", "expire_after: 30 days", "E2005", "'30 days'", "expire_after")


APPROVAL = """- name: Register
  kind: register_model
  model:
    image_uri: 683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3
    model_data: s3://sagespec-ds-experiments-111111111111/models/model.tar.gz
  model_package_group: approval-experiments
  approval_status: ${params.ModelApprovalStatus}
  content_types: [text/csv]
  response_types: [text/csv]
  inference_instances: [ml.m5.large]
"""


def test_the_approval_status_may_be_a_parameter_as_the_sdk_examples_write_it(tmp_path):
    """approval_status=ParameterString("ModelApprovalStatus", default_value="PendingManualApproval"):
    compiled to the parameter's Get, checked on its default, and a local run registers with the
    value the execution runs with."""
    spec = data_science_spec("approval", "approval", {"ModelApprovalStatus": "PendingManualApproval"}, APPROVAL)
    (tmp_path / "sagespec.toml").write_text("")
    (tmp_path / "pipelines").mkdir()
    (tmp_path / "pipelines" / "approval.yaml").write_text(spec)
    out = tmp_path / "approval.json"
    done = compile_here("compile", "pipelines/approval.yaml", "-o", str(out), "--no-cache", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    register = json.loads(out.read_text())["Steps"][0]
    assert register["Arguments"]["ModelApprovalStatus"] == {"Get": "Parameters.ModelApprovalStatus"}

    (tmp_path / "model.tar.gz").write_bytes(b"not read by a registration")
    workspace = str(tmp_path / "ws")
    put = run_cli(
        "data", "put", "model.tar.gz", "s3://sagespec-ds-experiments-111111111111/models/", "--workspace", workspace, cwd=tmp_path
    )
    assert put.returncode == 0, put.stderr
    group = run_cli("models", "create-group", "approval-experiments", "--as", "111111111111", "--workspace", workspace, cwd=tmp_path)
    assert group.returncode == 0, group.stderr
    ran = run_cli("run", "pipelines/approval.yaml", "--param", "ModelApprovalStatus=Approved", "--workspace", workspace, cwd=tmp_path)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert re.search(r"model-package/approval-experiments/1 \(Approved\)", ran.stdout), ran.stdout

    assert_located_mistake(
        tmp_path, spec, "default: PendingManualApproval", "default: Maybe", "E2004", "'Maybe' is not a ModelApprovalStatus", "default"
    )


UNNAMED = """- name: Prep
  kind: processing
  processor: {framework: sklearn, framework_version: 1.2-1, instance_type: ml.m5.large}
  code: sklearn_code/train.py
  inputs:
  - {source: "${params.Data}", destination: /opt/ml/processing/input}
  - {source: "s3://sagespec-ds-experiments-111111111111/lookup/", destination: /opt/ml/processing/lookup}
"""


def test_processing_inputs_without_names_get_the_sdks_names_and_a_parameters_bad_default_is_located(project, tmp_path):
    spec = data_science_spec("unnamed", "unnamed", {"Data": "s3://sagespec-ds-experiments-111111111111/d.csv"}, UNNAMED)
    inputs = compiled_steps(project, tmp_path, "unnamed", spec)[0]["Arguments"]["ProcessingInputs"]
    assert [i["InputName"] for i in inputs] == ["input-1", "input-2", "code"]  # as ProcessingInput(input_name=None) is named
    # A parameter's default is what an execution hands SageMaker as the S3Uri.
    assert_located_mistake(project, spec, "default: s3://sagespec", "default: s4:/sagespec", "E4009", "is not an s3:// URI", "default")


BUILTIN = """- name: Train
  kind: training
  estimator:
    framework: xgboost
    framework_version: "1.0-1"
    mode: builtin
    instance_type: ml.m5.xlarge
    base_job_name: abalone/abalone-train
{debugger}  hyperparameters: {{num_round: 50, objective: "reg:squarederror", silent: 0}}
  inputs:
  - {{name: train, source: "${{params.Data}}", content_type: text/csv}}
"""


def _builtin_spec(debugger: str = "") -> str:
    return data_science_spec(
        "builtin", "builtin", {"Data": "s3://sagespec-ds-experiments-111111111111/d/train.csv"}, BUILTIN.format(debugger=debugger)
    )


def test_a_builtin_hyperparameter_is_checked_against_the_container_version_that_runs_it(project):
    """silent=0 is what the 1.0-1 container takes (the notebooks set it); 1.2-1 on refuse it."""
    (project / "pipelines" / "builtin.yaml").write_text(_builtin_spec())
    assert run_cli("validate", "pipelines/builtin.yaml", cwd=project).returncode == 0
    assert_located_mistake(
        project,
        _builtin_spec(),
        'framework_version: "1.0-1"',
        'framework_version: "1.7-1"',
        "E4014",
        "'silent' is not a hyperparameter",
        "silent",
    )
    (project / "pipelines" / "builtin.yaml").write_text(_builtin_spec().replace('"1.0-1"', '"1.7-1"'))
    refused = run_cli("validate", "pipelines/builtin.yaml", cwd=project)
    assert refused.returncode == 1 and "hint: container 1.0-1 takes it" in refused.stdout, refused.stdout


def test_a_job_prefix_with_a_slash_is_kept_unless_it_must_be_the_jobs_name(project):
    """base_job_name "abalone/abalone-train" (the notebooks' f"{prefix}/...") validates; with
    custom_job_prefix it is the job's name, which cannot hold a '/'."""
    custom = _builtin_spec().replace("parameters:", "settings: {custom_job_prefix: true}\nparameters:", 1)
    assert_located_mistake(
        project,
        custom,
        "base_job_name: abalone/abalone-train",
        "base_job_name: abalone/abalone-train",
        "E4015",
        "cannot be a job name",
        "base_job_name",
    )


@pytest.mark.parametrize(
    "debugger, profiler, hook",
    [
        (
            "",
            {"S3OutputPath": "s3://sagespec-ds-experiments-111111111111/builtin/", "DisableProfiler": False},
            {"CollectionConfigurations": [], "S3OutputPath": "s3://sagespec-ds-experiments-111111111111/builtin/"},
        ),
        ("    disable_profiler: true\n    debugger_hook_config: false\n", {"DisableProfiler": True}, None),
        (
            "    debugger_hook_config:\n      s3_output_path: s3://sagespec-ds-experiments-111111111111/tensors/\n"
            "      collection_configs: [{name: metrics, parameters: {save_interval: '5'}}]\n",
            {"S3OutputPath": "s3://sagespec-ds-experiments-111111111111/builtin/", "DisableProfiler": False},
            {
                "S3OutputPath": "s3://sagespec-ds-experiments-111111111111/tensors/",
                "CollectionConfigurations": [{"CollectionName": "metrics", "CollectionParameters": {"save_interval": "5"}}],
            },
        ),
    ],
    ids=["the SDK's defaults", "both off", "a hook of its own"],
)
def test_debugger_and_profiler_are_the_sdks_defaults_unless_the_spec_says_otherwise(project, tmp_path, debugger, profiler, hook):
    step = compiled_steps(project, tmp_path, "builtin", _builtin_spec(debugger))[0]
    assert step["Arguments"]["ProfilerConfig"] == profiler
    assert step["Arguments"].get("DebugHookConfig") == hook
    _, _, shape, params = next(requests({"Steps": [step]}))
    report = ParamValidator().validate(params, shape)
    assert not report.has_errors(), report.generate_report()


RETRIEVED = """- name: Evaluate
  kind: processing
  processor:
    image_uri: {framework: xgboost, version: "1.0-1", py_version: py3, instance_type: ml.m5.xlarge}
    command: [python3]
    instance_type: ml.m5.xlarge
  code: sklearn_code/train.py
"""


@pytest.mark.parametrize(
    "region, image",
    [
        ("us-east-1", "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.0-1-cpu-py3"),
        ("cn-north-1", "450853457545.dkr.ecr.cn-north-1.amazonaws.com.cn/sagemaker-xgboost:1.0-1-cpu-py3"),
    ],
)
def test_an_image_named_as_image_uris_retrieve_names_it_is_resolved_for_the_specs_region(project, tmp_path, region, image):
    spec = data_science_spec("retrieved", "retrieved", {"Data": "s3://sagespec-ds-experiments-111111111111/d.csv"}, RETRIEVED)
    if region != "us-east-1":
        spec = spec.replace("region: us-east-1", f"region: {region}").replace("arn:aws:", "arn:aws-cn:")
    assert compiled_steps(project, tmp_path, "retrieved", spec)[0]["Arguments"]["AppSpecification"]["ImageUri"] == image


def test_an_image_the_sdk_does_not_have_is_located(project):
    spec = data_science_spec("retrieved", "retrieved", {"Data": "s3://sagespec-ds-experiments-111111111111/d.csv"}, RETRIEVED)
    (project / "pipelines" / "noimage.yaml").write_text(spec.replace('version: "1.0-1"', 'version: "0.1-9"'))
    done = compile_here("compile", "pipelines/noimage.yaml", "--no-cache", cwd=project)
    assert done.returncode == 1
    assert re.search(
        r"pipelines/noimage\.yaml:\d+:\d+: error\[E5001\]: the SageMaker SDK has no image for framework=xgboost, version=0\.1-9",
        done.stderr,
    ), done.stdout + done.stderr
    assert "Supported xgboost version(s): 1, 0.90-1" in done.stderr  # the SDK's own list
    assert "Traceback" not in done.stderr
    # a framework the SDK has no image data for at all
    (project / "pipelines" / "noframework.yaml").write_text(spec.replace("framework: xgboost,", "framework: xgbost,"))
    done = compile_here("compile", "pipelines/noframework.yaml", "--no-cache", cwd=project)
    assert done.returncode == 1 and "error[E5001]: the SageMaker SDK has no image for framework=xgbost" in done.stderr, done.stderr
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr


ENVIRONMENT = """- name: Prep
  kind: processing
  processor:
    framework: sklearn
    framework_version: 1.2-1
    instance_type: ml.m5.large
    environment: {STAGE: "${params.Stage}", RUN: "run-${execution.PipelineExecutionId}", PLAIN: "yes"}
  code: sklearn_code/train.py
"""


def test_a_containers_environment_takes_parameters_as_the_sdk_takes_pipeline_variables(project, tmp_path):
    spec = data_science_spec("envrefs", "envrefs", {"Stage": "qa"}, ENVIRONMENT)
    step = compiled_steps(project, tmp_path, "envrefs", spec)[0]
    environment = step["Arguments"]["Environment"]
    assert environment["STAGE"] == {"Get": "Parameters.Stage"} and environment["PLAIN"] == "yes"
    assert environment["RUN"] == {"Std:Join": {"On": "", "Values": ["run-", {"Get": "Execution.PipelineExecutionId"}]}}
    _, _, shape, params = next(requests({"Steps": [step]}))
    report = ParamValidator().validate(params, shape)
    assert not report.has_errors(), report.generate_report()
    assert_located_mistake(project, spec, "${params.Stage}", "${params.Stages}", "E3002", "Stages", "STAGE")


SIZED = """- name: Prep
  kind: processing
  processor: {framework: sklearn, framework_version: 1.2-1, instance_type: ml.m5.large, volume_size_gb: "${params.Disk}", max_runtime_seconds: "${params.Limit}"}
  code: sklearn_code/train.py
  outputs:
  - {name: out, source: /opt/ml/processing/out}
- name: Train
  kind: training
  estimator: {framework: sklearn, framework_version: 1.2-1, instance_type: ml.m5.large, volume_size_gb: "${params.Disk}", max_runtime_seconds: "${params.Limit}"}
  source_dir: sklearn_code
  entry_point: train.py
  inputs:
  - {name: train, source: "${steps.Prep.outputs.out}", content_type: "${params.Format}"}
"""


def test_volume_sizes_run_times_and_content_types_take_parameters_as_the_sdk_takes_pipeline_variables(project, tmp_path):
    """Run under both SDKs (make test's v3 suite names this test)."""
    from sagespec.compiler.sdk import installed

    parameters = {"Disk": {"type": "Integer", "default": 50}, "Limit": {"type": "Integer", "default": 3600}}
    spec = data_science_spec("sized", "sized", {"TrainData": "s3://sagespec-ds-experiments-111111111111/d/train.csv"}, SIZED)
    spec = spec.replace("parameters:\n", "parameters:\n" + "".join(f"  {k}: {json.dumps(v)}\n" for k, v in parameters.items()))
    spec = spec.replace("parameters:\n", 'parameters:\n  Format: {type: String, default: "text/csv"}\n')
    v3 = installed() == "v3"
    if v3:  # v3's ModelTrainer takes integers there: one located E5010 each; without them the rest compiles
        (project / "pipelines" / "sized.yaml").write_text(spec)
        refused = run_cli("compile", "pipelines/sized.yaml", cwd=project)
        assert refused.returncode != 0 and refused.stderr.count("error[E5010]") == 2, refused.stderr
        assert "takes its volume_size_gb from a parameter" in refused.stderr and "takes its max_runtime_seconds" in refused.stderr
        estimator = '{framework: sklearn, framework_version: 1.2-1, instance_type: ml.m5.large, volume_size_gb: "${params.Disk}", max_runtime_seconds: "${params.Limit}"}\n  source_dir'
        spec = spec.replace(estimator, "{framework: sklearn, framework_version: 1.2-1, instance_type: ml.m5.large}\n  source_dir")
    steps = {s["Name"]: s for s in compiled_steps(project, tmp_path, "sized", spec)}
    prep, train = steps["Prep"]["Arguments"], steps["Train"]["Arguments"]
    assert prep["ProcessingResources"]["ClusterConfig"]["VolumeSizeInGB"] == {"Get": "Parameters.Disk"}
    assert prep["StoppingCondition"]["MaxRuntimeInSeconds"] == {"Get": "Parameters.Limit"}
    if not v3:
        assert train["ResourceConfig"]["VolumeSizeInGB"] == {"Get": "Parameters.Disk"}
        assert train["StoppingCondition"]["MaxRuntimeInSeconds"] == {"Get": "Parameters.Limit"}
    assert next(c for c in train["InputDataConfig"] if c["ChannelName"] == "train")["ContentType"] == {"Get": "Parameters.Format"}
    definition = {"Version": "2020-12-01", "Parameters": [], "Steps": list(steps.values())}
    for name, _operation, shape, params in requests(definition):
        report = ParamValidator().validate(params, shape)
        assert not report.has_errors(), f"{name}: {report.generate_report()}"


def test_a_parameter_of_another_type_where_a_size_goes_is_located(project):
    spec = data_science_spec("sized", "sized", {"TrainData": "s3://sagespec-ds-experiments-111111111111/d/train.csv"}, SIZED)
    spec = spec.replace(
        "parameters:\n",
        'parameters:\n  Disk: {type: String, default: "50"}\n  Limit: {type: Integer, default: 60}\n  Format: {type: String, default: text/csv}\n',
    )
    old = '  processor: {framework: sklearn, framework_version: 1.2-1, instance_type: ml.m5.large, volume_size_gb: "${params.Disk}"'
    assert_located_mistake(project, spec, old, old, "E4008", "Disk", "processor:")
