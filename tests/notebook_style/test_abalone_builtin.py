"""The notebook-style abalone project (tests/fixtures/notebook_style/abalone_builtin) runs
unchanged with `sagespec run` to Succeeded: built-in XGBoost 1.0-1 trains and pickles its model,
a tuning job optimises the algorithm's own `validation:rmse` with no metric definitions, the
evaluation script unpickles `xgboost-model`, and the algorithm's container scores the test split
in a batch transform."""

import io
import json
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from helpers import run_cli

pytestmark = pytest.mark.slow

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "notebook_style" / "abalone_builtin"
BUCKET = "s3://sagespec-ds-experiments-111111111111/abalone"


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "abalone_builtin"
    shutil.copytree(FIXTURE, project, ignore=shutil.ignore_patterns(".sagespec", "abalone.csv"))
    subprocess.run([sys.executable, "make_data.py"], cwd=project, check=True, capture_output=True)
    return project


def test_the_notebook_style_abalone_pipeline_runs_to_succeeded(tmp_path):
    pytest.importorskip("xgboost")
    project = _project(tmp_path)
    workspace = str(tmp_path / "ws")
    done = run_cli("run", "pipelines/abalone.yaml", "--workspace", workspace, cwd=project, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"execution \S+: Succeeded", done.stdout)
    # the tuning job read the built-in objective metric from every job's log
    best = re.search(r"AbaloneTune\s+Succeeded.*best \S+ \(validation:rmse ([\d.]+)\)", done.stdout)
    assert best and 0 < float(best.group(1)) < 3, done.stdout
    mse = float(re.search(r"regression_metrics\.mse\.value ([\d.]+) <= 6\.0", done.stdout).group(1))
    assert 0 < mse < 6
    assert "registered arn:aws:sagemaker:us-east-1:111111111111:model-package/abalone-builtin/1" in done.stdout

    from sagespec.backends.local.database import connect
    from sagespec.backends.local.objects import ObjectStore

    store = ObjectStore(Path(workspace), connect(Path(workspace)))
    artifact = re.search(rf"({BUCKET}/\S+AbaloneTrain/output/model\.tar\.gz)", done.stdout).group(1)
    with tarfile.open(fileobj=io.BytesIO(store.get(artifact))) as tar:
        assert tar.getnames() == ["xgboost-model"]
        assert tar.extractfile("xgboost-model").read(1) == b"\x80"  # a pickle (protocol 2+), as 1.0-1 writes it
    # the transform joined each test row's true value to the algorithm container's prediction
    execution = re.search(r"execution (arn:\S+): Succeeded", done.stdout).group(1)
    out = f"{BUCKET}/abalone-builtin/AbaloneTransform/{execution.rsplit('/', 1)[1]}/test.csv.out"
    pairs = [tuple(map(float, line.split(","))) for line in store.get(out).decode().splitlines()]
    assert len(pairs) == 180  # 15% of 1,200 rows
    assert sum((truth - predicted) ** 2 for truth, predicted in pairs) / len(pairs) == pytest.approx(mse, rel=1e-4)
    described = json.loads(run_cli("executions", "describe", execution, "--output", "json", "--workspace", workspace, cwd=project).stdout)
    train = next(s for s in described["steps"] if s["name"] == "AbaloneTrain")
    assert {m["MetricName"] for m in train["properties"]["FinalMetricDataList"]} == {"train:rmse", "validation:rmse"}


# The same scripts as the notebooks write them: the container paths hard-coded, no variables.
_ENV_DEFAULT = re.compile(r'os\.environ\.get\("SM_PROCESSING_[A-Z_]+", ("/opt/ml/processing/[a-z]+")\)')


def test_the_same_pipeline_with_hard_coded_container_paths(tmp_path):
    project = _project(tmp_path)
    for script in (project / "code").glob("*.py"):
        text = script.read_text()
        hard_coded = _ENV_DEFAULT.sub(r"\1", text)
        assert hard_coded != text and "SM_PROCESSING" not in hard_coded
        script.write_text(hard_coded)
    done = run_cli("run", "pipelines/abalone.yaml", "--workspace", str(tmp_path / "ws"), cwd=project, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr


INFERENCE = """import os
import pickle


def model_fn(model_dir):
    with open(os.path.join(model_dir, "xgboost-model"), "rb") as handle:
        return pickle.load(handle)
"""


def test_a_model_with_its_own_inference_code_is_repacked_and_served(tmp_path):
    """The SDK's repack job (a training job before the model step) runs here on the job's own
    folders; the transform serves the repacked model through its model_fn."""
    pytest.importorskip("xgboost")
    project = _project(tmp_path)
    (project / "code" / "inference.py").write_text(INFERENCE)
    spec = project / "pipelines" / "abalone.yaml"
    spec.write_text(
        spec.read_text().replace(
            "model: {training_step: AbaloneTrain}\n    instance_type",
            "model: {training_step: AbaloneTrain, source_dir: code, entry_point: inference.py, framework_version: 1.7-1}\n    instance_type",
        )
    )
    workspace = str(tmp_path / "ws")
    done = run_cli("run", "pipelines/abalone.yaml", "--workspace", workspace, cwd=project, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    repacked = re.search(r"AbaloneCreateModel-RepackModel\S*\s+Succeeded\s+\S+\s+(s3://\S+/model\.tar\.gz)", done.stdout).group(1)

    from sagespec.backends.local.database import connect
    from sagespec.backends.local.objects import ObjectStore

    store = ObjectStore(Path(workspace), connect(Path(workspace)))
    with tarfile.open(fileobj=io.BytesIO(store.get(repacked))) as tar:
        names = set(tar.getnames())
    assert {"xgboost-model", "code/inference.py", "code/preprocessing.py", "code/evaluation.py"} <= names
    execution = re.search(r"execution (arn:\S+): Succeeded", done.stdout).group(1)
    out = f"{BUCKET}/abalone-builtin/AbaloneTransform/{execution.rsplit('/', 1)[1]}/test.csv.out"
    assert len(store.get(out).decode().splitlines()) == 180


def test_a_transform_whose_model_cannot_be_served_is_refused_before_the_first_step(tmp_path):
    project = _project(tmp_path)
    spec = project / "pipelines" / "abalone.yaml"
    image = "111111111111.dkr.ecr.us-east-1.amazonaws.com/my-server:1"  # your own image: no local server stands in for it
    spec.write_text(
        spec.read_text().replace(
            "model: {training_step: AbaloneTrain}\n    instance_type",
            f"model: {{training_step: AbaloneTrain, image_uri: {image}}}\n    instance_type",
        )
    )
    workspace = str(tmp_path / "ws")
    done = run_cli("run", "pipelines/abalone.yaml", "--workspace", workspace, cwd=project)
    assert done.returncode == 1, done.stdout + done.stderr
    assert (
        "error[E6019]: pipeline abalone-builtin cannot run here: step 'AbaloneTransform': its model (step 'AbaloneCreateModel-CreateModel')"
        in done.stderr
    )
    assert image in done.stderr and "Traceback" not in done.stderr
    assert "AbaloneProcess" not in done.stdout  # no step started
    listed = run_cli("executions", "list", "--output", "json", "--workspace", workspace, cwd=project)
    assert json.loads(listed.stdout) == [], listed.stdout
