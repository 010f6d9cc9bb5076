"""Training containers: every framework estimator and your own image compile to the SDK's own class,
with the image SageMaker documents for it, and each definition is a valid CreateTrainingJob request
(botocore's validator over botocore's SageMaker service model)."""

import json
import re

import pytest
from botocore.validate import ParamValidator
from test_service_model import requests

from helpers import compile_here, data_science_spec, fast_project_copy, places, run_cli

SPEC = data_science_spec(
    "{name}",
    "frameworks",
    {"TrainData": "s3://sagespec-ds-experiments-111111111111/datasets/train.csv"},
    """- name: Train
  kind: training
  estimator:
{estimator}
    instance_type: {instance_type}
{code}
  hyperparameters:
{hyperparameters}
  inputs:
  - name: train
    source: ${{params.TrainData}}
    content_type: text/csv
""",
)
SCRIPT = "  source_dir: training_code\n  entry_point: train.py"
IMAGE = "111111111111.dkr.ecr.us-east-1.amazonaws.com/team/trainer:1.4"
CASES = [
    # (id, estimator lines, code lines, image repository, script mode)
    (
        "tensorflow",
        "    framework: tensorflow\n    framework_version: '2.13'\n    py_version: py310",
        SCRIPT,
        "763104351884.dkr.ecr.us-east-1.amazonaws.com/tensorflow-training:2.13",
        True,
    ),
    (
        "pytorch",
        "    framework: pytorch\n    framework_version: '2.1'\n    py_version: py310",
        SCRIPT,
        "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.1",
        True,
    ),
    (
        "sklearn",
        "    framework: sklearn\n    framework_version: 1.2-1",
        SCRIPT,
        "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1",
        True,
    ),
    (
        "xgboost",
        "    framework: xgboost\n    framework_version: 1.7-1",
        SCRIPT,
        "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
        True,
    ),
    (
        "huggingface",
        "    framework: huggingface\n    framework_version: 4.49.0\n    pytorch_version: 2.5.1",
        SCRIPT,
        # Hugging Face training images are GPU builds only: the case trains on ml.g5.xlarge.
        "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-training:2.5.1-transformers4.49.0-gpu-py311",
        True,
    ),
    ("own image with a script", f"    image_uri: {IMAGE}", SCRIPT, IMAGE, True),
    ("own image", f"    image_uri: {IMAGE}", "", IMAGE, False),
    (
        "xgboost built-in",
        "    framework: xgboost\n    framework_version: 1.7-1\n    mode: builtin",
        "",
        "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
        False,
    ),
]


HYPERPARAMETERS = "    max_depth: 3"


def compile_case(tmp_path, name, estimator, code, hyperparameters=HYPERPARAMETERS, instance_type="ml.m5.large"):
    project = tmp_path / "project"
    if not project.exists():
        project = fast_project_copy(tmp_path)
    spec = project / "pipelines" / f"{name}.yaml"
    spec.write_text(SPEC.format(name=name, estimator=estimator, code=code, hyperparameters=hyperparameters, instance_type=instance_type))
    out = tmp_path / f"{name}.json"
    done = compile_here("compile", str(spec), "-o", str(out), "--no-cache", cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(out.read_text())


@pytest.mark.parametrize("case, estimator, code, image, script", CASES, ids=[c[0] for c in CASES])
def test_each_container_compiles_to_a_valid_training_job(tmp_path, case, estimator, code, image, script):
    extra = "\n    num_round: 5" if "builtin" in estimator else ""
    instance_type = "ml.g5.xlarge" if case == "huggingface" else "ml.m5.large"
    definition = compile_case(tmp_path, "t-" + case.replace(" ", "-"), estimator, code, HYPERPARAMETERS + extra, instance_type)
    (train,) = definition["Steps"]
    spec = train["Arguments"]["AlgorithmSpecification"]
    assert spec["TrainingImage"].startswith(image)
    hyperparameters = train["Arguments"]["HyperParameters"]
    assert ("sagemaker_program" in hyperparameters) is script
    assert hyperparameters["max_depth"] == "3"
    assert ("model_dir" in hyperparameters) is (case == "tensorflow")  # only TensorFlow's estimator takes it
    if "metric_definitions" in estimator:
        assert spec["MetricDefinitions"] == [{"Name": "validation:rmse", "Regex": "validation-rmse:([0-9.]+)"}]
    for name, operation, shape, params in requests(definition):
        report = ParamValidator().validate(params, shape)
        assert not report.has_errors(), f"{name} is not a valid {operation} request:\n{report.generate_report()}"


@pytest.mark.parametrize(
    "estimator, code, says",
    [
        ("    framework: sklearn\n    framework_version: 1.2-1", "", "runs a sklearn script: it needs entry_point and source_dir"),
        ("    instance_count: 1", SCRIPT, "names no container"),
        (
            f"    framework: xgboost\n    framework_version: 1.7-1\n    image_uri: {IMAGE}",
            SCRIPT,
            "names both a framework (xgboost) and an image_uri",
        ),
        ("    framework: pytorch", SCRIPT, "a pytorch estimator needs framework_version"),
        ("    framework: keras\n    framework_version: '3'", SCRIPT, "keras"),
        ("    image_uri: docker.io/library/python:3", SCRIPT, "image_uri"),
        ("    framework: sklearn\n    framework_version: 1.2-1\n    mode: builtin", "", "SageMaker has no built-in sklearn algorithm"),
        ("    framework: xgboost\n    framework_version: 1.7-1\n    mode: builtin", "", "needs the num_round hyperparameter"),
        ("    framework: xgboost\n    framework_version: 1.7-1\n    mode: builtin", "", "'learning_rate' is not a hyperparameter"),
        ("    framework: xgboost\n    framework_version: 1.7-1\n    mode: builtin", SCRIPT, "runs no script: remove source_dir"),
        (
            "    framework: sklearn\n    framework_version: 1.2-1\n    metric_definitions:\n    - {name: mse, regex: 'mse: [0-9.]+'}",
            SCRIPT,
            "metric 'mse': 'mse: [0-9.]+' captures no value",
        ),
        (
            "    framework: sklearn\n    framework_version: 1.2-1\n    metric_definitions:\n    - {name: mse, regex: 'mse: ([0-9.]+'}",
            SCRIPT,
            "is not a regular expression",
        ),
        ("    framework: huggingface\n    framework_version: 4.49.0", SCRIPT, "a huggingface estimator needs pytorch_version"),
        (
            "    framework: pytorch\n    framework_version: '2.1'\n    pytorch_version: '2.1'",
            SCRIPT,
            "pytorch_version applies to a huggingface",
        ),
    ],
    ids=[
        "script without code",
        "no container",
        "two containers",
        "no version",
        "unknown framework",
        "not an ECR image",
        "no built-in sklearn",
        "built-in needs num_round",
        "built-in hyperparameters are its own",
        "built-in runs no script",
        "metric without a group",
        "metric regex broken",
        "huggingface without pytorch",
        "pytorch_version elsewhere",
    ],
)
def test_a_container_mistake_is_a_located_error(tmp_path, estimator, code, says):
    project = fast_project_copy(tmp_path)
    spec = project / "pipelines" / "broken.yaml"
    hyperparameters = "    learning_rate: 0.1" if "learning_rate" in says else HYPERPARAMETERS
    spec.write_text(
        SPEC.format(name="broken", estimator=estimator, code=code, hyperparameters=hyperparameters, instance_type="ml.m5.large")
    )
    done = run_cli("validate", str(spec), cwd=project)
    assert done.returncode == 1 and says in done.stdout, done.stdout
    assert re_located(done.stdout)


def re_located(text: str) -> bool:
    import re

    return re.search(r"broken\.yaml:\d+:\d+: error\[E\d{4}\]", text) is not None


MODEL_SPEC = SPEC.replace("default_bucket_prefix: frameworks", "default_bucket_prefix: models") + (
    """- name: Register
  kind: register_model
  model: {model}
  model_package_group: california-housing-experiments
  content_types: [text/csv]
  response_types: [application/json]
  inference_instances: [ml.m5.large]
- name: Create
  kind: create_model
  model: {model}
  instance_type: ml.m5.large
"""
)
INFERENCE = "{training_step: Train, source_dir: training_code, entry_point: evaluate.py, environment: {MODE: serve}}"


def compile_model_spec(tmp_path, project, name: str, model: str, estimator: str = CASES[2][1], instance_type: str = "ml.m5.large") -> dict:
    """MODEL_SPEC with `model`, compiled: (definition, step arguments by step type); every
    request checked against botocore's SageMaker service model."""
    spec = project / "pipelines" / f"{name}.yaml"
    spec.write_text(
        MODEL_SPEC.format(
            name=name, estimator=estimator, code=SCRIPT, hyperparameters=HYPERPARAMETERS, model=model, instance_type=instance_type
        )
    )
    out = tmp_path / f"{name}.json"
    done = compile_here("compile", str(spec), "-o", str(out), "--no-cache", cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    definition = json.loads(out.read_text())
    for step, operation, shape, params in requests(definition):
        report = ParamValidator().validate(params, shape)
        assert not report.has_errors(), f"{step} is not a valid {operation} request:\n{report.generate_report()}"
    return definition, {s["Type"]: s["Arguments"] for s in definition["Steps"]}


MODELS = [
    # (id, estimator lines, code lines, model, serving image, the SDK's Framework field)
    (
        "tensorflow",
        CASES[0][1],
        SCRIPT,
        "{training_step: Train}",
        "763104351884.dkr.ecr.us-east-1.amazonaws.com/tensorflow-inference:2.13",
        "TENSORFLOW",
    ),
    ("sklearn", CASES[2][1], SCRIPT, INFERENCE, "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1", "SKLEARN"),
    # No inference script: the PyTorch container's default handlers serve a TorchScript model.pt, no repack.
    (
        "pytorch",
        CASES[1][1],
        SCRIPT,
        "{training_step: Train}",
        "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.1",
        "PYTORCH",
    ),
    ("xgboost", CASES[3][1], SCRIPT, INFERENCE, "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1", "XGBOOST"),
    (
        "huggingface",
        # A version pair SageMaker publishes both training and inference images for.
        "    framework: huggingface\n    framework_version: 4.48.0\n    pytorch_version: 2.3.0",
        SCRIPT,
        "{training_step: Train}",  # the container's default handlers: no repack
        "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-inference:2.3.0-transformers4.48.0",
        "PYTORCH",
    ),
    (
        "xgboost built-in",
        CASES[7][1],
        "",
        "{training_step: Train}",
        "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
        None,
    ),
    ("own image", f"    image_uri: {IMAGE}", "", f"{{training_step: Train, image_uri: {IMAGE}}}", IMAGE, None),
]


@pytest.mark.parametrize("case, estimator, code, model, image, framework", MODELS, ids=[m[0] for m in MODELS])
def test_each_framework_registers_and_creates_its_model_on_its_inference_image(tmp_path, case, estimator, code, model, image, framework):
    project = fast_project_copy(tmp_path)
    spec = project / "pipelines" / "models.yaml"
    hyperparameters = HYPERPARAMETERS + ("\n    num_round: 5" if "builtin" in estimator else "")
    spec.write_text(
        MODEL_SPEC.format(
            name="models",
            estimator=estimator,
            code=code,
            hyperparameters=hyperparameters,
            model=model,
            instance_type="ml.g5.xlarge" if case == "huggingface" else "ml.m5.large",
        )
    )
    out = tmp_path / "models.json"
    done = compile_here("compile", str(spec), "-o", str(out), "--no-cache", cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    definition = json.loads(out.read_text())
    by_type = {s["Type"]: s["Arguments"] for s in definition["Steps"]}
    (container,) = by_type["RegisterModel"]["InferenceSpecification"]["Containers"]
    primary = by_type["Model"]["PrimaryContainer"]
    for served in (container, primary):
        assert served["Image"].startswith(image) and served["ModelDataUrl"] == {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}
    assert container.get("Framework") == framework
    if "entry_point" in model:  # the inference script rides along as SAGEMAKER_SUBMIT_DIRECTORY, under a hash of its code
        assert container["Environment"]["SAGEMAKER_PROGRAM"] == "evaluate.py" and container["Environment"]["MODE"] == "serve"
        assert re.fullmatch(
            r"s3://sagespec-ds-experiments-111111111111/models/models/code/[0-9a-f]{64}/models-Register/sourcedir\.tar\.gz",
            container["Environment"]["SAGEMAKER_SUBMIT_DIRECTORY"],
        )
    for name, operation, shape, params in requests(definition):
        report = ParamValidator().validate(params, shape)
        assert not report.has_errors(), f"{name} is not a valid {operation} request:\n{report.generate_report()}"
    again = tmp_path / "again.json"
    assert compile_here("compile", str(spec), "-o", str(again), "--no-cache", cwd=project).returncode == 0
    assert again.read_text() == out.read_text()  # no timestamp in any key: the same spec compiles the same


@pytest.mark.parametrize(
    "estimator, code, model, says",
    [
        (CASES[2][1], SCRIPT, "{training_step: Train}", "serves a sklearn model: its inference container needs model.entry_point"),
        (f"    image_uri: {IMAGE}", "", "{training_step: Train}", "trained on your own image: name its serving image"),
        (
            CASES[2][1],
            SCRIPT,
            "{training_step: Train, entry_point: evaluate.py}",
            "model.entry_point of step 'Register' needs model.source_dir",
        ),
        (CASES[2][1], SCRIPT, "{training_step: Train, source_dir: training_code, entry_point: serve.py}", "serve.py"),
        (CASES[1][1], SCRIPT, INFERENCE, "the SDK repacks it in a _RepackModelStep whose code upload is named after a timestamp"),
    ],
    ids=["no inference script", "own image without a serving image", "script without its folder", "missing script", "pytorch repack"],
)
def test_a_model_that_cannot_be_served_is_a_located_error(tmp_path, estimator, code, model, says):
    project = fast_project_copy(tmp_path)
    spec = project / "pipelines" / "broken.yaml"
    spec.write_text(
        MODEL_SPEC.format(
            name="broken", estimator=estimator, code=code, hyperparameters=HYPERPARAMETERS, model=model, instance_type="ml.m5.large"
        )
    )
    done = run_cli("validate", str(spec), cwd=project)
    assert done.returncode == 1 and says in done.stdout, done.stdout
    assert re_located(done.stdout)


SETTINGS = data_science_spec(
    "settings",
    "settings",
    {"TrainData": "s3://sagespec-ds-experiments-111111111111/datasets/train.csv"},
    """- name: Prepare
  kind: processing
  processor:
    framework: sklearn
    framework_version: 1.2-1
    instance_type: ml.m5.large
    base_job_name: prepare
    tags: {cost-center: ml-42}
    environment: {MODE: fast}
    volume_size_gb: 50
    max_runtime_seconds: 1800
    volume_kms_key: arn:aws:kms:us-east-1:111111111111:key/0b6a2c4e-8d1f-4a3b-9e7c-5f2d1a0b9c8e
    output_kms_key: arn:aws:kms:us-east-1:111111111111:key/0b6a2c4e-8d1f-4a3b-9e7c-5f2d1a0b9c8e
    enable_network_isolation: true
    vpc: {subnets: [subnet-0123456789abcdef0], security_group_ids: [sg-0123456789abcdef0]}
  code: training_code/preprocess.py
  inputs:
  - {name: raw, source: "${params.TrainData}", destination: /opt/ml/processing/input}
  outputs:
  - {name: train, source: /opt/ml/processing/train}
- name: Train
  kind: training
  estimator:
    framework: sklearn
    framework_version: 1.2-1
    instance_type: ml.m5.large
    base_job_name: ridge
    tags: {cost-center: ml-42}
    environment: {MODE: full}
    volume_size_gb: 100
    max_runtime_seconds: 3600
    volume_kms_key: arn:aws:kms:us-east-1:111111111111:key/0b6a2c4e-8d1f-4a3b-9e7c-5f2d1a0b9c8e
    enable_network_isolation: true
    encrypt_inter_container_traffic: true
    vpc: {subnets: [subnet-0123456789abcdef0, subnet-0fedcba9876543210], security_group_ids: [sg-0123456789abcdef0]}
    use_spot_instances: true
    max_wait_seconds: 7200
    checkpoint_s3_uri: s3://sagespec-ds-experiments-111111111111/settings/checkpoints
    debugger_hook_config: {s3_output_path: s3://sagespec-ds-experiments-111111111111/settings/tensors}
  source_dir: training_code
  entry_point: train.py
  inputs:
  - {name: train, source: "${steps.Prepare.outputs.train}", content_type: text/csv}
""",
)


def isolated_project(tmp_path):
    """The project, its training code with nothing to pip-install (an isolated job has no network)."""
    project = fast_project_copy(tmp_path)
    (project / "training_code" / "requirements.txt").unlink()
    return project


def test_job_settings_reach_the_requests_sagemaker_receives(tmp_path):
    from sagespec.accounts.needs import needs

    project = isolated_project(tmp_path)
    spec = project / "pipelines" / "settings.yaml"
    spec.write_text(SETTINGS)
    out = tmp_path / "settings.json"
    done = compile_here("compile", str(spec), "-o", str(out), "--no-cache", cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    definition = json.loads(out.read_text())
    prepare, train = (s["Arguments"] for s in definition["Steps"])
    key = "arn:aws:kms:us-east-1:111111111111:key/0b6a2c4e-8d1f-4a3b-9e7c-5f2d1a0b9c8e"
    assert prepare["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"] == key
    assert prepare["ProcessingResources"]["ClusterConfig"]["VolumeSizeInGB"] == 50
    assert prepare["Environment"] == {"MODE": "fast"} and prepare["StoppingCondition"] == {"MaxRuntimeInSeconds": 1800}
    assert train["Environment"] == {"MODE": "full"} and train["ResourceConfig"]["VolumeSizeInGB"] == 100
    for job in (prepare, train):
        assert {"Key": "cost-center", "Value": "ml-42"} in job["Tags"]
    assert prepare["ProcessingOutputConfig"]["KmsKeyId"] == key
    assert prepare["NetworkConfig"] == {
        "EnableNetworkIsolation": True,
        "VpcConfig": {"SecurityGroupIds": ["sg-0123456789abcdef0"], "Subnets": ["subnet-0123456789abcdef0"]},
    }
    assert train["ResourceConfig"]["VolumeKmsKeyId"] == key
    assert train["EnableNetworkIsolation"] is True and train["EnableInterContainerTrafficEncryption"] is True
    assert train["VpcConfig"]["Subnets"] == ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]
    assert train["EnableManagedSpotTraining"] is True
    assert train["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600, "MaxWaitTimeInSeconds": 7200}
    assert train["CheckpointConfig"]["S3Uri"] == "s3://sagespec-ds-experiments-111111111111/settings/checkpoints"
    for name, operation, shape, params in requests(definition):
        report = ParamValidator().validate(params, shape)
        assert not report.has_errors(), f"{name} is not a valid {operation} request:\n{report.generate_report()}"
    # What the settings ask of IAM: a grant on the volume key, the VPC's interfaces, the checkpoints.
    role = "arn:aws:iam::111111111111:role/sagespec-data-science-execution"
    asked = {(n.step, n.action, n.resource) for n in needs("settings", definition, role, places())}
    assert ("Train", "kms:CreateGrant", key) in asked and ("Prepare", "kms:CreateGrant", key) in asked
    assert ("Train", "ec2:CreateNetworkInterface", "*") in asked and ("Prepare", "ec2:DescribeSubnets", "*") in asked
    assert ("Train", "s3:PutObject", "arn:aws:s3:::sagespec-ds-experiments-111111111111/settings/checkpoints/*") in asked
    # SageMaker Debugger's hook writes where its config says
    assert ("Train", "s3:PutObject", "arn:aws:s3:::sagespec-ds-experiments-111111111111/settings/tensors/*") in asked


@pytest.mark.parametrize(
    "old, new, says",
    [
        ("    max_wait_seconds: 7200\n", "", "spot training needs max_wait_seconds"),
        ("    use_spot_instances: true\n", "", "max_wait_seconds applies only with use_spot_instances: true"),
        ("    max_wait_seconds: 7200", "    max_wait_seconds: 600", "max_wait_seconds 600 is below max_runtime_seconds 3600"),
        ("    max_runtime_seconds: 3600\n", "", "is below max_runtime_seconds 86400 (the default, 24 h)"),
        (
            "sg-0123456789abcdef0]}\n    use_spot",
            "default]}\n    use_spot",
            "'default' is not in the expected format for step 'Train' > estimator.vpc.security_group_ids[0]",
        ),
        # The bundled training_code has a requirements.txt: an isolated job cannot pip-install it.
        ("", "", "enable_network_isolation leaves the job no network, but training_code/requirements.txt is pip-installed"),
    ],
    ids=[
        "spot without max_wait",
        "max_wait without spot",
        "max_wait below max_runtime",
        "below the default",
        "not a security group",
        "isolation with requirements",
    ],
)
def test_job_settings_sagemaker_would_refuse_are_located_errors(tmp_path, old, new, says):
    """E4015 for settings SageMaker refuses together; E2005 for a malformed ID."""
    project = isolated_project(tmp_path) if old else fast_project_copy(tmp_path)
    assert old in SETTINGS
    spec = project / "pipelines" / "settings.yaml"
    spec.write_text(SETTINGS.replace(old, new, 1))
    done = run_cli("validate", str(spec), cwd=project)
    assert done.returncode == 1 and says in done.stdout, done.stdout
    code = "E2005" if "expected format" in says else "E4015"
    assert re.search(rf"settings\.yaml:\d+:\d+: error\[{code}\]", done.stdout)


PROCESSING = data_science_spec(
    "{name}",
    "processing",
    {"RawData": "s3://sagespec-ds-experiments-111111111111/datasets/raw.csv"},
    """- name: Prepare
  kind: processing
  processor:
{processor}
    instance_type: ml.m5.large
  code: training_code/preprocess.py
  inputs:
  - {{name: raw, source: "${{params.RawData}}", destination: /opt/ml/processing/input}}
  outputs:
  - {{name: train, source: /opt/ml/processing/train}}
""",
)
RUNPROC = ["/bin/bash", "/opt/ml/processing/input/entrypoint/runproc.sh"]  # FrameworkProcessor's bootstrap
SOURCE = "  source_dir: training_code\n"
PROCESSORS = [
    # (id, processor lines, step lines, image, container entrypoint)
    (
        "sklearn",
        "    framework: sklearn\n    framework_version: 1.2-1",
        "",
        "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1",
        ["python3", "/opt/ml/processing/input/code/preprocess.py"],
    ),
    (
        "sklearn with source_dir",
        "    framework: sklearn\n    framework_version: 1.2-1",
        SOURCE,
        "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1",
        RUNPROC,
    ),
    (
        "tensorflow",
        "    framework: tensorflow\n    framework_version: '2.13'",
        SOURCE,
        "763104351884.dkr.ecr.us-east-1.amazonaws.com/tensorflow-training:2.13",
        RUNPROC,
    ),
    (
        "pytorch",
        "    framework: pytorch\n    framework_version: '2.1'",
        SOURCE,
        "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.1",
        RUNPROC,
    ),
    (
        "xgboost",
        "    framework: xgboost\n    framework_version: 1.7-1",
        "",
        "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
        RUNPROC,
    ),
    (
        "pyspark",
        "    framework: pyspark\n    framework_version: '3.5'",
        "",
        "173754725891.dkr.ecr.us-east-1.amazonaws.com/sagemaker-spark-processing:3.5",
        ["smspark-submit", "/opt/ml/processing/input/code/preprocess.py"],
    ),
    (
        "own image",
        f"    image_uri: {IMAGE}\n    command: [python3, -u]",
        "",
        IMAGE,
        ["python3", "-u", "/opt/ml/processing/input/code/preprocess.py"],
    ),
]


def compile_processing(tmp_path, processor, lines=""):
    project = fast_project_copy(tmp_path)
    spec = project / "pipelines" / "p.yaml"
    spec.write_text(
        PROCESSING.format(name="p", processor=processor).replace(
            "  code: training_code/preprocess.py\n", "  code: training_code/preprocess.py\n" + lines
        )
    )
    out = tmp_path / "p.json"
    done = compile_here("compile", str(spec), "-o", str(out), "--no-cache", cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(out.read_text()), project


@pytest.mark.parametrize("case, processor, lines, image, entrypoint", PROCESSORS, ids=[p[0] for p in PROCESSORS])
def test_each_processor_compiles_to_a_valid_processing_job(tmp_path, case, processor, lines, image, entrypoint):
    definition, _ = compile_processing(tmp_path, processor, lines)
    arguments = definition["Steps"][0]["Arguments"]
    app = arguments["AppSpecification"]
    assert app["ImageUri"].startswith(image)
    assert app["ContainerEntrypoint"] == entrypoint
    inputs = {i["InputName"]: i["S3Input"] for i in arguments["ProcessingInputs"]}
    if entrypoint == RUNPROC:  # the code goes as sourcedir.tar.gz, runproc.sh as the entrypoint input
        assert inputs["code"]["S3Uri"].endswith("/sourcedir.tar.gz") and inputs["code"]["LocalPath"] == "/opt/ml/processing/input/code/"
        assert inputs["entrypoint"]["S3Uri"].endswith("/runproc.sh")
    else:
        assert inputs["code"]["S3Uri"].endswith("/preprocess.py")
    for name, operation, shape, params in requests(definition):
        report = ParamValidator().validate(params, shape)
        assert not report.has_errors(), f"{name} is not a valid {operation} request:\n{report.generate_report()}"


def test_a_framework_processor_uploads_the_folder_and_a_runproc_that_runs_the_script(tmp_path):
    import io
    import tarfile

    from sagespec.compiler import compile_spec
    from sagespec.spec.load import load_spec

    _, project = compile_processing(tmp_path, "    framework: pytorch\n    framework_version: '2.1'", SOURCE)
    compiled = compile_spec(load_spec(project / "pipelines" / "p.yaml"))
    uploads = {u.key.rsplit("/", 1)[-1]: u.body for u in compiled.uploads}
    with tarfile.open(fileobj=io.BytesIO(uploads["sourcedir.tar.gz"]), mode="r:gz") as tar:
        assert {"preprocess.py", "requirements.txt"} <= set(tar.getnames())
    runproc = uploads["runproc.sh"].decode()
    assert "python -m pip install -r requirements.txt" in runproc  # SageMaker installs them in the job
    assert runproc.strip().splitlines()[-1] == 'python preprocess.py "$@"'


@pytest.mark.parametrize(
    "processor, says",
    [
        (
            f"    framework: sklearn\n    framework_version: 1.2-1\n    image_uri: {IMAGE}",
            "names both a framework (sklearn) and an image_uri",
        ),
        ("    framework: pytorch", "a pytorch processor needs framework_version"),
        ("    framework: sklearn\n    framework_version: 1.2-1\n    command: [bash]", "command applies to an image_uri processor"),
        ("    instance_count: 1", "names no container"),
        (f"    image_uri: {IMAGE}\n  source_dir: training_code", "source_dir applies to a framework processor, not an image_uri processor"),
        ("    framework: pyspark\n    framework_version: '3.5'\n  source_dir: training_code", "not a pyspark processor"),
        ("    framework: pytorch\n    framework_version: '2.1'\n  source_dir: pipelines", "is not directly in source_dir pipelines"),
    ],
    ids=[
        "two containers",
        "no version",
        "command on a framework",
        "no container",
        "source_dir on an image",
        "source_dir on spark",
        "code outside source_dir",
    ],
)
def test_a_processor_mistake_is_a_located_error(tmp_path, processor, says):
    project = fast_project_copy(tmp_path)
    spec = project / "pipelines" / "p.yaml"
    processor, _, source = processor.partition("\n  source_dir: ")  # a step key, not the processor's
    lines = f"  source_dir: {source}\n" if source else ""
    text = PROCESSING.format(name="p", processor=processor)
    spec.write_text(text.replace("  code: training_code/preprocess.py\n", "  code: training_code/preprocess.py\n" + lines))
    done = run_cli("validate", str(spec), cwd=project)
    assert done.returncode == 1 and says in done.stdout and "error[E4014]" in done.stdout, done.stdout
    assert re.search(r"p\.yaml:\d+:\d+: error\[E4014\]", done.stdout)


def test_an_inference_pipeline_registers_and_creates_its_containers_in_order(tmp_path):
    """model: a list of 2-15 sources is a PipelineModel: one container each, in order, each with
    its own image, artifact and inference code (CreateModel.Containers)."""
    project = fast_project_copy(tmp_path)
    chain = (
        "[{training_step: Train, source_dir: training_code, entry_point: evaluate.py,"
        " environment: {SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT: text/csv}},"
        " {training_step: Train, source_dir: training_code, entry_point: train.py}]"
    )
    definition, by_type = compile_model_spec(tmp_path, project, "chain", chain)
    registered = by_type["RegisterModel"]["InferenceSpecification"]["Containers"]
    created = by_type["Model"]["Containers"]
    for containers in (registered, created):
        assert [c["Environment"]["SAGEMAKER_PROGRAM"] for c in containers] == ["evaluate.py", "train.py"]
        assert containers[0]["Environment"]["SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT"] == "text/csv"
        assert all(c["ModelDataUrl"] == {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"} for c in containers)
    assert "PrimaryContainer" not in by_type["Model"]
    (tmp_path / "again").mkdir()
    again, _ = compile_model_spec(tmp_path / "again", project, "chain", chain)
    assert again == definition  # no timestamp in any key: the same spec compiles the same


@pytest.mark.parametrize(
    "model, says",
    [
        ("[{training_step: Train, source_dir: training_code, entry_point: evaluate.py}]", "has 1 item(s); it takes at least 2"),
        (
            "[" + ", ".join(["{training_step: Train, source_dir: training_code, entry_point: evaluate.py}"] * 16) + "]",
            "has 16 item(s); it takes at most 15",
        ),
        ("[{training_step: Train, source_dir: training_code, entry_point: evaluate.py}, {training_step: Nope}]", "'Nope'"),
    ],
    ids=["one container", "sixteen containers", "unknown training step"],
)
def test_an_inference_pipeline_outside_2_to_15_containers_is_a_located_error(tmp_path, model, says):
    project = fast_project_copy(tmp_path)
    spec = project / "pipelines" / "broken.yaml"
    spec.write_text(
        MODEL_SPEC.format(
            name="broken", estimator=CASES[2][1], code=SCRIPT, hyperparameters=HYPERPARAMETERS, model=model, instance_type="ml.m5.large"
        )
    )
    done = run_cli("validate", str(spec), cwd=project)
    assert done.returncode == 1 and says in done.stdout, done.stdout
    assert re_located(done.stdout)


def test_a_model_artifact_you_name_registers_on_the_image_you_name(tmp_path):
    """model: {model_data, image_uri}: no training step, the artifact as written (or a parameter)."""
    project = fast_project_copy(tmp_path)
    artifact = "s3://sagespec-ds-experiments-111111111111/models/v7/model.tar.gz"
    _, by_type = compile_model_spec(tmp_path, project, "named", f"{{model_data: {artifact}, image_uri: {IMAGE}}}")
    (container,) = by_type["RegisterModel"]["InferenceSpecification"]["Containers"]
    assert (container["Image"], container["ModelDataUrl"]) == (IMAGE, artifact)
    assert by_type["Model"]["PrimaryContainer"]["ModelDataUrl"] == artifact
    broken = project / "pipelines" / "broken.yaml"
    broken.write_text((project / "pipelines" / "named.yaml").read_text().replace(f"image_uri: {IMAGE}}}", "entry_point: x.py}"))
    refused = run_cli("validate", str(broken), cwd=project)
    assert refused.returncode == 1 and re_located(refused.stdout), refused.stdout
    assert "error[E2007]: step 'Register' > model needs training_step, or model_data and image_uri" in refused.stdout
