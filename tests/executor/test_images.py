"""Which jobs run here and how: SageMaker's own images by repository and publishing account, your
own image by its program; the docker command line of SageMaker's container contract; metrics read
from a growing log."""

import json

import pytest

from sagespec.aws.images import sagemaker_registries
from sagespec.backends.local.executor import docker
from sagespec.backends.local.executor.images import runtime_for
from sagespec.backends.local.executor.metrics import LiveMetrics

DLC = "763104351884.dkr.ecr.us-east-1.amazonaws.com"
OWN = "111111111111.dkr.ecr.us-east-1.amazonaws.com"


def training(image, program=True):
    hyperparameters = {"sagemaker_program": '"train.py"'} if program else {"num_round": "5"}
    return {"Type": "Training", "Arguments": {"AlgorithmSpecification": {"TrainingImage": image}, "HyperParameters": hyperparameters}}


def processing(image, entrypoint):
    return {"Type": "Processing", "Arguments": {"AppSpecification": {"ImageUri": image, "ContainerEntrypoint": entrypoint}}}


@pytest.mark.parametrize(
    "step, kind, framework, extra",
    [
        (training(f"{DLC}/pytorch-training:2.1-cpu-py310"), "python", "PyTorch", "local-torch"),
        (training(f"{DLC}/huggingface-pytorch-training:2.5.1-transformers4.49.0-gpu-py311"), "python", "Hugging Face", "local-huggingface"),
        (
            training("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1", program=False),
            "xgboost-builtin",
            "XGBoost",
            "local",
        ),
        (
            processing("173754725891.dkr.ecr.us-east-1.amazonaws.com/sagemaker-spark-processing:3.5", ["smspark-submit", "/x.py"]),
            "spark",
            "Spark",
            "local-spark",
        ),
        (
            processing(f"{DLC}/tensorflow-training:2.13-cpu-py310", ["/bin/bash", "/opt/ml/processing/input/entrypoint/runproc.sh"]),
            "python",
            "TensorFlow",
            "local",
        ),
        # The same repository name in your own account is your image, not SageMaker's.
        (training(f"{OWN}/pytorch-training:2.1"), "python", "", None),
        (processing(f"{OWN}/team/prep:1", ["python3", "-u", "/x.py"]), "python", "", None),
        (training(f"{OWN}/team/trainer:1", program=False), "docker", "", None),
        (processing(f"{OWN}/team/prep:1", ["/usr/bin/prepare"]), "docker", "", None),
    ],
    ids=[
        "pytorch",
        "huggingface",
        "xgboost built-in",
        "spark",
        "tensorflow processor",
        "look-alike",
        "own python",
        "own train",
        "own binary",
    ],
)
def test_each_image_gets_its_local_equivalent_or_docker(step, kind, framework, extra):
    runtime = runtime_for(step)
    assert (runtime.kind, runtime.framework, runtime.extra) == (kind, framework, extra)


def test_sagemaker_accounts_come_from_the_sdks_own_image_data():
    accounts = sagemaker_registries()
    assert {"763104351884", "683313688378", "173754725891"} <= accounts and "111111111111" not in accounts


def test_a_missing_framework_names_the_extra_that_installs_it(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))
    message = runtime_for(training(f"{DLC}/pytorch-training:2.1-cpu-py310")).missing_message()
    assert (
        message == "its local equivalent of SageMaker's PyTorch image needs torch, not installed here: pip install 'sagespec[local-torch]'"
    )


def test_the_training_container_gets_sagemakers_files_and_mounts(tmp_path):
    channels = {"train": tmp_path / "data" / "train"}
    args = {
        "AlgorithmSpecification": {"TrainingImage": f"{OWN}/team/trainer:1", "TrainingInputMode": "File"},
        "HyperParameters": {"epochs": "3", "lr": "0.1"},
        "InputDataConfig": [{"ChannelName": "train", "ContentType": "text/csv", "DataSource": {"S3DataSource": {"S3Uri": "s3://b/k"}}}],
        "Environment": {"MODE": "fast"},
        "EnableNetworkIsolation": True,
    }
    argv = docker.training_argv(f"{OWN}/team/trainer:1", "job-1", tmp_path, args, channels, tmp_path / "model", tmp_path / "output")
    assert argv[:4] == ["docker", "run", "--rm", "--name"] and argv[-2:] == [f"{OWN}/team/trainer:1", "train"]
    assert ["--network", "none"] == argv[5:7]  # network isolation
    assert f"{(tmp_path / 'data' / 'train').resolve()}:/opt/ml/input/data/train" in argv
    assert f"{(tmp_path / 'model').resolve()}:/opt/ml/model" in argv
    assert "MODE=fast" in argv and "TRAINING_JOB_NAME=job-1" in argv
    config = tmp_path / "config"
    assert json.loads((config / "hyperparameters.json").read_text()) == {"epochs": "3", "lr": "0.1"}
    assert json.loads((config / "inputdataconfig.json").read_text()) == {
        "train": {
            "TrainingInputMode": "File",
            "S3DistributionType": "FullyReplicated",
            "RecordWrapperType": "None",
            "ContentType": "text/csv",
        }
    }
    assert json.loads((config / "resourceconfig.json").read_text())["current_host"] == "algo-1"
    (tmp_path / "output").mkdir()
    (tmp_path / "output" / "failure").write_text("bad input row 7\n")
    assert docker.failure_reason(tmp_path / "output") == "bad input row 7"


def test_the_processing_container_runs_its_entrypoint_with_inputs_at_their_paths(tmp_path):
    args = {
        "AppSpecification": {
            "ImageUri": f"{OWN}/team/prep:1",
            "ContainerEntrypoint": ["/usr/bin/prepare", "--fast"],
            "ContainerArguments": ["--n", "3"],
        },
        "ProcessingInputs": [],
    }
    mapping = [("/opt/ml/processing/input", tmp_path / "in")]
    argv = docker.processing_argv(f"{OWN}/team/prep:1", "job-2", tmp_path, args, mapping)
    assert argv[argv.index("--entrypoint") + 1] == "/usr/bin/prepare"
    assert argv[-4:] == [f"{OWN}/team/prep:1", "--fast", "--n", "3"][-4:] and "--network" not in argv
    assert f"{(tmp_path / 'in').resolve()}:/opt/ml/processing/input" in argv
    assert json.loads((tmp_path / "config" / "processingjobconfig.json").read_text())["ProcessingJobName"] == "job-2"


def test_live_metrics_read_whole_lines_as_the_log_grows(tmp_path):
    log = tmp_path / "step.log"
    metrics = LiveMetrics([{"Name": "loss", "Regex": "loss=([0-9.]+)"}, {"Name": "acc", "Regex": "acc=([0-9.]+)"}], log)
    log.write_text("epoch 1 loss=0.9\nepoch 2 loss=0.5 acc=0.7")  # the second line is not finished
    assert metrics.update() and metrics.summary() == "loss 0.9 (epoch 1)"
    with open(log, "a") as handle:
        handle.write("1\n")
    assert metrics.update() and metrics.summary() == "loss 0.5, acc 0.71 (epoch 2)"
    assert not metrics.update()  # nothing new
