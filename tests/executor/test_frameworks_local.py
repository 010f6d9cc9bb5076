"""A scikit-learn script-mode training step runs locally as SageMaker's training toolkit runs it:
the script gets its channel, hyperparameters and SM_MODEL_DIR, and model.tar.gz lands in S3."""

import io
import json
import re
import tarfile

from helpers import data_science_spec, fast_project_copy, run_cli

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


def test_a_sklearn_script_trains_locally(tmp_path):
    project = fast_project_copy(tmp_path)
    (project / "ridge_code").mkdir()
    (project / "ridge_code" / "train.py").write_text(SCRIPT)
    rows = "\n".join(f"{2 * x + 3 * y + 1},{x},{y}" for x in range(10) for y in range(5))
    (project / "pipelines" / "data" / "train.csv").write_text(rows + "\n")
    (project / "pipelines" / "sklearn_ridge.yaml").write_text(SPEC)
    done = run_cli("run", "pipelines/sklearn_ridge.yaml", "--workspace", str(tmp_path / "ws"), cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "seeded s3://sagespec-ds-experiments-111111111111/datasets/train.csv" in done.stdout
    # Not among the accounts file's pipelines: its grants are applied locally, and the run says so.
    assert "note: the accounts file's roles are not derived from sklearn-ridge" in done.stdout
    artifact = re.search(r"(s3://sagespec-ds-experiments-111111111111/ridge/\S+/output/model\.tar\.gz)", done.stdout).group(1)

    from sagespec.local.database import connect
    from sagespec.local.objects import ObjectStore

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
    done = run_cli("run", "pipelines/xgboost_builtin.yaml", "--workspace", workspace, cwd=project)
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

    from sagespec.local.database import connect
    from sagespec.local.objects import ObjectStore

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
    project = fast_project_copy(tmp_path)
    (project / "boost_code").mkdir()
    (project / "boost_code" / "train.py").write_text(XGB_SCRIPT)
    rows = "\n".join(f"{2 * x + 3 * y + 1},{x},{y}" for x in range(10) for y in range(5))
    (project / "pipelines" / "data" / "train.csv").write_text(rows + "\n")
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
    done = run_cli("run", "pipelines/xgboost_script.yaml", "--workspace", str(tmp_path / "ws"), cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"\(train:rmse [0-9.]+\)", done.stdout), done.stdout
