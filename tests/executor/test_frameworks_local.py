"""A scikit-learn script-mode training step runs locally as SageMaker's training toolkit runs it:
the script gets its channel, hyperparameters and SM_MODEL_DIR, and model.tar.gz lands in S3."""

import io
import json
import re
import tarfile
from pathlib import Path

import pytest

from helpers import data_science_spec, fast_project_copy, local_registry, run_cli, seeded_compile_cache

# End to end: `make test-fast` leaves these out, `make test` runs them.
pytestmark = pytest.mark.slow

SCRIPT = """
import argparse, json, os, pickle
import numpy as np
from sklearn.linear_model import Ridge

parser = argparse.ArgumentParser()
parser.add_argument("--alpha", type=float)
args = parser.parse_args()
data = np.loadtxt(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "train.csv"), delimiter=",")
model = Ridge(alpha=args.alpha).fit(data[:, 1:], data[:, 0])
with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.pkl"), "wb") as handle:
    pickle.dump(model, handle)
print(json.dumps({"alpha": args.alpha, "coef": [round(c, 3) for c in model.coef_]}))
"""

SPEC = data_science_spec(
    "sklearn-ridge",
    "ridge",
    {"TrainData": "s3://sagespec-ds-experiments-111111111111/datasets/train.csv"},
    """- name: Train
  kind: training
  estimator:
    framework: sklearn
    framework_version: 1.2-1
    instance_type: ml.m5.large
  source_dir: ridge_code
  entry_point: train.py
  hyperparameters:
    alpha: 0.5
  inputs:
  - name: train
    source: ${params.TrainData}
    content_type: text/csv
""",
)


def _run_locally(project, spec: str, workspace, **kwargs):
    """`sagespec run SPEC --workspace WORKSPACE` in a fresh process, as a user runs it; the spec's
    definition compiled once per test run in this process (helpers.seeded_compile_cache)."""
    seeded_compile_cache(Path(workspace), project, spec)
    return run_cli("run", spec, "--workspace", str(workspace), cwd=project, **kwargs)


def _project_with_rows(tmp_path):
    """The project with a small linear data set (y = 2a + 3b + 1) where the train.csv parameters point."""
    project = fast_project_copy(tmp_path)
    rows = "\n".join(f"{2 * x + 3 * y + 1},{x},{y}" for x in range(10) for y in range(5))
    (project / "pipelines" / "data" / "train.csv").write_text(rows + "\n")
    return project


def _script_project(tmp_path, script: str, folder: str = "torch_code", name: str = "train.py"):
    """That project with `script` as `folder/name`."""
    project = _project_with_rows(tmp_path)
    (project / folder).mkdir()
    (project / folder / name).write_text(script)
    return project


def test_a_sklearn_script_trains_locally(tmp_path):
    project = _script_project(tmp_path, SCRIPT, "ridge_code")
    (project / "pipelines" / "sklearn_ridge.yaml").write_text(SPEC)
    done = _run_locally(project, "pipelines/sklearn_ridge.yaml", str(tmp_path / "ws"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "seeded s3://sagespec-ds-experiments-111111111111/datasets/train.csv" in done.stdout
    # Not among the accounts file's pipelines: its grants are applied locally, and the run says so.
    assert "note: the accounts file's roles are not derived from sklearn-ridge" in done.stdout
    artifact = re.search(r"(s3://sagespec-ds-experiments-111111111111/ridge/\S+/output/model\.tar\.gz)", done.stdout).group(1)

    from sagespec.backends.local.database import connect
    from sagespec.backends.local.objects import ObjectStore

    store = ObjectStore(tmp_path / "ws", connect(tmp_path / "ws"))
    with tarfile.open(fileobj=io.BytesIO(store.get(artifact))) as tar:
        assert tar.getnames() == ["model.pkl"]
    log = run_cli(
        "executions",
        "logs",
        re.search(r"execution (arn:\S+): Succeeded", done.stdout).group(1),
        "Train",
        "--workspace",
        str(tmp_path / "ws"),
        cwd=project,
    )
    fitted = json.loads(next(line for line in log.stdout.splitlines() if line.startswith("{")))
    assert fitted["alpha"] == 0.5 and [round(c) for c in fitted["coef"]] == [2, 3]


XGBOOST_SPEC = data_science_spec(
    "xgboost-builtin",
    "boost",
    {
        "TrainData": "s3://sagespec-ds-experiments-111111111111/datasets/boost-train.csv",
        "ValidationData": "s3://sagespec-ds-experiments-111111111111/datasets/boost-validation.csv",
    },
    """- name: Boost
  kind: training
  estimator:
    framework: xgboost
    framework_version: 1.7-1
    mode: builtin
    instance_type: ml.m5.large
    metric_definitions:
    - {name: "validation:rmse", regex: "validation-rmse:([0-9.]+)"}
    - {name: "train:rmse", regex: "train-rmse:([0-9.]+)"}
  hyperparameters:
    num_round: 20
    objective: reg:squarederror
    max_depth: 3
    eta: 0.3
    eval_metric: rmse
  inputs:
  - name: train
    source: ${params.TrainData}
    content_type: text/csv
  - name: validation
    source: ${params.ValidationData}
    content_type: text/csv
""",
)


def test_the_builtin_xgboost_algorithm_trains_locally_with_the_containers_log_and_model_file(tmp_path):
    import xgboost

    project = fast_project_copy(tmp_path)
    rows = [f"{2 * x + 3 * y + 1},{x},{y}" for x in range(20) for y in range(10)]
    (project / "pipelines" / "data" / "boost-train.csv").write_text("\n".join(rows[::2]) + "\n")
    (project / "pipelines" / "data" / "boost-validation.csv").write_text("\n".join(rows[1::2]) + "\n")
    (project / "pipelines" / "xgboost_builtin.yaml").write_text(XGBOOST_SPEC)
    workspace = str(tmp_path / "ws")
    done = _run_locally(project, "pipelines/xgboost_builtin.yaml", workspace)
    assert done.returncode == 0, done.stdout + done.stderr
    execution = re.search(r"execution (arn:\S+): Succeeded", done.stdout).group(1)
    log = run_cli("executions", "logs", execution, "Boost", "--workspace", workspace, cwd=project).stdout
    rounds = re.findall(r"^\[(\d+)\]#011train-rmse:([\d.]+)#011validation-rmse:([\d.]+)$", log, re.M)
    assert [int(r[0]) for r in rounds] == list(range(20))
    assert float(rounds[-1][1]) < float(rounds[0][1]) / 5  # it learned
    # metric_definitions read the log as SageMaker does: the last match of each regex.
    assert f"(validation:rmse {float(rounds[-1][2]):g}, train:rmse {float(rounds[-1][1]):g})" in done.stdout
    described = json.loads(run_cli("executions", "describe", execution, "--output", "json", "--workspace", workspace, cwd=project).stdout)
    boost = next(s for s in described["steps"] if s["name"] == "Boost")
    metrics = {m["MetricName"]: m["Value"] for m in boost["properties"]["FinalMetricDataList"]}
    assert metrics == {"validation:rmse": float(rounds[-1][2]), "train:rmse": float(rounds[-1][1])}

    from sagespec.backends.local.database import connect
    from sagespec.backends.local.objects import ObjectStore

    artifact = re.search(r"(s3://sagespec-ds-experiments-111111111111/boost/\S+/output/model\.tar\.gz)", done.stdout).group(1)
    store = ObjectStore(tmp_path / "ws", connect(tmp_path / "ws"))
    with tarfile.open(fileobj=io.BytesIO(store.get(artifact))) as tar:
        assert tar.getnames() == ["xgboost-model"]
        tar.extract("xgboost-model", tmp_path, filter="data")
    booster = xgboost.Booster(model_file=str(tmp_path / "xgboost-model"))
    assert booster.num_boosted_rounds() == 20


XGB_SCRIPT = """
import argparse, os
import numpy as np
import xgboost as xgb

parser = argparse.ArgumentParser()
parser.add_argument("--num_round", type=int)
args = parser.parse_args()
data = np.loadtxt(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "train.csv"), delimiter=",")
train = xgb.DMatrix(data[:, 1:], label=data[:, 0])
booster = xgb.train({"max_depth": 3, "eta": 0.3}, train, args.num_round, evals=[(train, "train")], verbose_eval=False,
                    evals_result=(result := {}))
for i, value in enumerate(result["train"]["rmse"]):
    print(f"round {i} train rmse={value:.5f}")
booster.save_model(os.path.join(os.environ["SM_MODEL_DIR"], "model.json"))
"""


def test_an_xgboost_script_trains_locally_with_its_metrics_read_from_the_log(tmp_path):
    project = _script_project(tmp_path, XGB_SCRIPT, "boost_code")
    spec = (
        SPEC.replace("sklearn-ridge", "xgboost-script")
        .replace(
            "framework: sklearn\n    framework_version: 1.2-1",
            'framework: xgboost\n    framework_version: 1.7-1\n    metric_definitions:\n    - {name: "train:rmse", regex: "train rmse=([0-9.]+)"}',
        )
        .replace("ridge_code", "boost_code")
        .replace("alpha: 0.5", "num_round: 15")
    )
    (project / "pipelines" / "xgboost_script.yaml").write_text(spec)
    done = _run_locally(project, "pipelines/xgboost_script.yaml", str(tmp_path / "ws"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"\(train:rmse [0-9.]+\)", done.stdout), done.stdout


def _job_spec(name: str, steps: str) -> str:
    return data_science_spec(name, name, {"TrainData": "s3://sagespec-ds-experiments-111111111111/datasets/train.csv"}, steps)


PREP_STEP = """- name: Prepare
  kind: processing
  processor:
    framework: sklearn
    framework_version: 1.2-1
    instance_type: ml.m5.large
  code: prep_code/prep.py
  source_dir: prep_code
  inputs:
  - {name: raw, source: "${params.TrainData}", destination: /opt/ml/processing/input}
  outputs:
  - {name: doubled, source: /opt/ml/processing/doubled}
"""
PREP = """
import os
from scaling import double  # a module of the same folder: the whole source_dir was unpacked

rows = open("/opt/ml/processing/input/train.csv".replace("/opt/ml/processing/input", os.environ["SM_PROCESSING_INPUT_RAW"])).read().split()
with open(os.path.join(os.environ["SM_PROCESSING_OUTPUT_DOUBLED"], "doubled.csv"), "w") as out:
    out.write("\\n".join(",".join(str(double(float(v))) for v in row.split(",")) for row in rows))
print(f"doubled {len(rows)} rows")
"""


def test_a_framework_processor_runs_its_folder_locally_and_holds_to_its_requirements(tmp_path):
    project = _script_project(tmp_path, PREP, "prep_code", "prep.py")
    code = project / "prep_code"
    (code / "scaling.py").write_text("def double(x):\n    return 2 * x\n")
    (code / "requirements.txt").write_text("scikit-learn>=1.0  # installed here\nnumpy\n")
    (project / "pipelines" / "prep.yaml").write_text(_job_spec("prep", PREP_STEP))
    workspace = str(tmp_path / "ws")
    done = _run_locally(project, "pipelines/prep.yaml", workspace)
    assert done.returncode == 0, done.stdout + done.stderr
    execution = re.search(r"execution (arn:\S+): Succeeded", done.stdout).group(1)
    assert "doubled 50 rows" in run_cli("executions", "logs", execution, "Prepare", "--workspace", workspace, cwd=project).stdout

    # On SageMaker runproc.sh would pip-install it; here the step fails naming what is missing.
    (code / "requirements.txt").write_text("scikit-learn>=1.0\nsagespec-no-such-package==1.0\n")
    done = _run_locally(project, "pipelines/prep.yaml", workspace)
    assert done.returncode != 0
    assert "requirements.txt asks for sagespec-no-such-package==1.0, not installed here" in done.stdout + done.stderr


OWN_IMAGE = "111111111111.dkr.ecr.us-east-1.amazonaws.com/team/trainer:1.4"


def test_an_own_image_with_no_program_is_reported_before_the_run_starts(tmp_path):
    project = _project_with_rows(tmp_path)
    steps = f"""- name: Train
  kind: training
  estimator:
    image_uri: {OWN_IMAGE}
    instance_type: ml.m5.large
  inputs:
  - name: train
    source: ${{params.TrainData}}
"""
    (project / "pipelines" / "own.yaml").write_text(_job_spec("own", steps))
    workspace = str(tmp_path / "ws")
    done = _run_locally(project, "pipelines/own.yaml", workspace)
    assert done.returncode == 1, done.stdout + done.stderr
    # No Docker engine runs in this sandbox or CI; were one here, the image would still not be pulled.
    assert f"error[E6019]: pipeline own cannot run here: step 'Train': image {OWN_IMAGE} has no local equivalent and " in done.stderr
    assert "Traceback" not in done.stderr
    listed = run_cli("executions", "list", "own", "--output", "json", "--workspace", workspace, cwd=project)
    assert json.loads(listed.stdout) == []  # nothing started, nothing half-recorded


def test_a_job_past_its_max_runtime_is_stopped_as_sagemaker_stops_it(tmp_path):
    import time

    project = _script_project(tmp_path, "import time\nprint('working', flush=True)\ntime.sleep(120)\n", "slow_code", "slow.py")
    steps = PREP_STEP.replace("prep_code", "slow_code").replace("slow_code/prep.py", "slow_code/slow.py")
    steps = steps.replace("    instance_type: ml.m5.large\n", "    instance_type: ml.m5.large\n    max_runtime_seconds: 2\n")
    (project / "pipelines" / "slow.yaml").write_text(_job_spec("slow", steps))
    started = time.monotonic()
    done = _run_locally(project, "pipelines/slow.yaml", str(tmp_path / "ws"))
    assert done.returncode != 0
    assert "MaxRuntimeExceeded: the job ran longer than its MaxRuntimeInSeconds (2 s) and was stopped" in done.stdout + done.stderr
    assert time.monotonic() - started < 60  # not the script's 120 s


EPOCHS = """
import json, os, time
for epoch in range(1, 4):
    print(f"epoch {epoch}/3 loss={1.0 / epoch:.4f}", flush=True)
    time.sleep(0.6)
open(os.path.join(os.environ["SM_MODEL_DIR"], "model.json"), "w").write(json.dumps({"epochs": 3}))
"""


def test_metrics_show_while_the_step_runs_with_their_epoch(tmp_path):
    project = _script_project(tmp_path, EPOCHS, "ridge_code")
    spec = SPEC.replace(
        "    instance_type: ml.m5.large\n",
        '    instance_type: ml.m5.large\n    metric_definitions:\n    - {name: loss, regex: "loss=([0-9.]+)"}\n',
    ).replace("  hyperparameters:\n    alpha: 0.5\n", "")
    (project / "pipelines" / "epochs.yaml").write_text(spec)
    done = _run_locally(project, "pipelines/epochs.yaml", str(tmp_path / "ws"))
    assert done.returncode == 0, done.stdout + done.stderr
    running = [line for line in done.stdout.splitlines() if "Train" in line and "Executing" in line]
    # The progress view shows the latest value while the job runs, then the final one with the result.
    assert any("loss 0.3333 (epoch 3)" in line for line in running), done.stdout
    assert "(loss 0.3333)" in done.stdout


def _torch_spec(name: str, estimator: str, instance_type: str = "ml.m5.large") -> str:
    return _job_spec(
        name,
        f"""- name: Train
  kind: training
  estimator:
{estimator}
    instance_type: {instance_type}
    metric_definitions:
    - {{name: loss, regex: "loss=([0-9.]+)"}}
  source_dir: torch_code
  entry_point: train.py
  hyperparameters:
    epochs: 40
  inputs:
  - name: train
    source: ${{params.TrainData}}
""",
    )


TORCH_SCRIPT = """
import argparse, os
import numpy as np
import torch

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int)
args = parser.parse_args()
torch.manual_seed(0)
data = torch.tensor(np.loadtxt(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "train.csv"), delimiter=","), dtype=torch.float32)
x, y = data[:, 1:], data[:, :1]
model = torch.nn.Linear(2, 1)
optimizer = torch.optim.Adam(model.parameters(), lr=0.5)
for epoch in range(args.epochs):
    optimizer.zero_grad()
    loss = torch.nn.functional.mse_loss(model(x), y)
    loss.backward()
    optimizer.step()
    print(f"epoch {epoch} loss={loss.item():.6f}")
torch.save(model.state_dict(), os.path.join(os.environ["SM_MODEL_DIR"], "model.pth"))
"""


@pytest.mark.slow
def test_a_tiny_pytorch_model_trains_locally_with_the_local_torch_extra(tmp_path):
    pytest.importorskip("torch", reason="the local-torch extra is not installed")
    project = _script_project(tmp_path, TORCH_SCRIPT)
    estimator = "    framework: pytorch\n    framework_version: '2.1'"
    (project / "pipelines" / "torch.yaml").write_text(_torch_spec("tiny-torch", estimator))
    workspace = str(tmp_path / "ws")
    done = _run_locally(project, "pipelines/torch.yaml", workspace)
    assert done.returncode == 0, done.stdout + done.stderr
    execution = re.search(r"execution (arn:\S+): Succeeded", done.stdout).group(1)
    log = run_cli("executions", "logs", execution, "Train", "--workspace", workspace, cwd=project).stdout
    losses = [float(v) for v in re.findall(r"loss=([0-9.]+)", log)]
    assert len(losses) == 40 and losses[-1] < losses[0] / 10  # it learned
    described = json.loads(run_cli("executions", "describe", execution, "--output", "json", "--workspace", workspace, cwd=project).stdout)
    train = next(s for s in described["steps"] if s["name"] == "Train")
    assert train["properties"]["FinalMetricDataList"][0]["Value"] == losses[-1]


HF_SCRIPT = """
import os
import torch
from transformers import BertConfig, BertForSequenceClassification

# A model built from its config, with no download: two labels, one tiny layer.
torch.manual_seed(0)
config = BertConfig(vocab_size=30, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32, num_labels=2)
model = BertForSequenceClassification(config)
tokens = torch.randint(5, 30, (16, 8))
labels = (tokens[:, 0] > 17).long()
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
for step in range(30):
    optimizer.zero_grad()
    out = model(input_ids=tokens, labels=labels)
    out.loss.backward()
    optimizer.step()
    print(f"step {step} loss={out.loss.item():.6f}")
model.save_pretrained(os.environ["SM_MODEL_DIR"])
"""


@pytest.mark.slow
def test_a_tiny_hugging_face_model_trains_locally_with_the_local_huggingface_extra(tmp_path):
    pytest.importorskip("transformers", reason="the local-huggingface extra is not installed")
    project = _script_project(tmp_path, HF_SCRIPT)
    estimator = "    framework: huggingface\n    framework_version: 4.49.0\n    pytorch_version: 2.5.1"
    # Hugging Face training images are GPU builds; locally the script runs on the CPU.
    (project / "pipelines" / "hf.yaml").write_text(_torch_spec("tiny-hf", estimator, "ml.g5.xlarge"))
    workspace = str(tmp_path / "ws")
    done = _run_locally(project, "pipelines/hf.yaml", workspace)
    assert done.returncode == 0, done.stdout + done.stderr
    artifact = re.search(r"(s3://sagespec-ds-experiments-111111111111/tiny-hf/\S+/output/model\.tar\.gz)", done.stdout).group(1)
    from sagespec.backends.local.database import connect
    from sagespec.backends.local.objects import ObjectStore

    store = ObjectStore(tmp_path / "ws", connect(tmp_path / "ws"))
    with tarfile.open(fileobj=io.BytesIO(store.get(artifact))) as tar:
        assert {"config.json", "model.safetensors"} <= set(tar.getnames())
    assert re.search(r"\(loss [0-9.]+\)", done.stdout)


SPARK_SCRIPT = """
import os, sys
from pyspark.sql import SparkSession

spark = SparkSession.builder.appName("double").getOrCreate()
source = os.environ["SM_PROCESSING_INPUT_RAW"]
frame = spark.read.csv(source, inferSchema=True).toDF("y", "a", "b")
frame.selectExpr("y * 2 AS y", "a", "b").coalesce(1).write.csv(os.environ["SM_PROCESSING_OUTPUT_DOUBLED"], mode="overwrite")
print(f"spark doubled {frame.count()} rows with {sys.argv[1:]}")
spark.stop()
"""


@pytest.mark.slow
def test_a_pyspark_processor_runs_locally_with_the_local_spark_extra(tmp_path):
    pytest.importorskip("pyspark", reason="the local-spark extra is not installed")
    project = _script_project(tmp_path, SPARK_SCRIPT, "spark_code", "double.py")
    steps = PREP_STEP.replace("framework: sklearn\n    framework_version: 1.2-1", "framework: pyspark\n    framework_version: '3.5'")
    steps = steps.replace(
        "  code: prep_code/prep.py\n  source_dir: prep_code\n", "  code: spark_code/double.py\n  arguments: [--factor, 2]\n"
    )
    (project / "pipelines" / "spark.yaml").write_text(_job_spec("spark", steps))
    workspace = str(tmp_path / "ws")
    done = _run_locally(project, "pipelines/spark.yaml", workspace, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    execution = re.search(r"execution (arn:\S+): Succeeded", done.stdout).group(1)
    log = run_cli("executions", "logs", execution, "Prepare", "--workspace", workspace, cwd=project).stdout
    assert "spark doubled 50 rows with ['--factor', '2']" in log


INFERENCE_SCRIPT = """
import os, pickle

def model_fn(model_dir):
    with open(os.path.join(model_dir, "model.pkl"), "rb") as handle:
        return pickle.load(handle)
"""


def test_a_sklearn_model_registers_with_its_inference_code_stored_where_the_container_reads_it(tmp_path):
    project = _script_project(tmp_path, SCRIPT, "ridge_code")
    (project / "serve_code").mkdir()
    (project / "serve_code" / "inference.py").write_text(INFERENCE_SCRIPT)
    spec = (
        SPEC
        + """- name: Register
  kind: register_model
  model: {training_step: Train, source_dir: serve_code, entry_point: inference.py}
  model_package_group: california-housing-experiments
  content_types: [text/csv]
  response_types: [application/json]
  inference_instances: [ml.m5.large]
"""
    )
    (project / "pipelines" / "ridge_model.yaml").write_text(spec)
    workspace = tmp_path / "ws"
    done = _run_locally(project, "pipelines/ridge_model.yaml", str(workspace))
    assert done.returncode == 0, done.stdout + done.stderr
    package = re.search(
        r"registered (arn:aws:sagemaker:us-east-1:111111111111:model-package/california-housing-experiments/\d+)", done.stdout
    )
    assert package, done.stdout
    from sagespec.backends.local.database import connect
    from sagespec.backends.local.objects import ObjectStore
    from sagespec.iam import Principal

    # Read as the account's root user: the execution role itself may only register (least privilege).
    registry = local_registry(connect(workspace), Principal.root("111111111111", "aws"))
    (container,) = registry.describe(package.group(1)).inference_specification["Containers"]
    assert "/sagemaker-scikit-learn:1.2-1" in container["Image"] and container["Environment"]["SAGEMAKER_PROGRAM"] == "inference.py"
    store = ObjectStore(workspace, connect(workspace))
    with tarfile.open(fileobj=io.BytesIO(store.get(container["Environment"]["SAGEMAKER_SUBMIT_DIRECTORY"]))) as tar:
        assert "inference.py" in tar.getnames()  # the upsert stored the code the serving container downloads
    assert store.exists(container["ModelDataUrl"])
