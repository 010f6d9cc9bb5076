"""A built-in training step plus a model with its own entry_point compiles a repack step (SDK v2's
_RepackModelStep, a training job on the scikit-learn image) that is the same on every compile, in
any folder, and a valid CreateTrainingJob request."""

import json
import shutil
from pathlib import Path

import pytest
from botocore.validate import ParamValidator
from test_service_model import requests

from helpers import compile_here

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "notebook_style" / "abalone_builtin"
INFERENCE = """import os
import pickle


def model_fn(model_dir):
    with open(os.path.join(model_dir, "xgboost-model"), "rb") as handle:
        return pickle.load(handle)
"""


def _project(folder: Path) -> Path:
    shutil.copytree(FIXTURE, folder, ignore=shutil.ignore_patterns(".sagespec", "abalone.csv"))
    (folder / "code" / "inference.py").write_text(INFERENCE)
    spec = folder / "pipelines" / "abalone.yaml"
    text = spec.read_text()
    scripted = text.replace(
        "model: {training_step: AbaloneTrain}", "model: {training_step: AbaloneTrain, source_dir: code, entry_point: inference.py}"
    )
    assert scripted.count("entry_point: inference.py") == 2  # the create and the register step
    spec.write_text(scripted)
    return folder


def _compile(project: Path, out: Path) -> str:
    done = compile_here("compile", "pipelines/abalone.yaml", "-o", str(out), "--no-cache", cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    return out.read_text()


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    from sagespec.compiler.sdk import installed

    if installed() != "v2":
        pytest.skip("only SDK v2 builds repack steps (v3: E5010)")
    first = _compile(_project(tmp_path_factory.mktemp("one") / "abalone"), tmp_path_factory.mktemp("o1") / "a.json")
    second = _compile(_project(tmp_path_factory.mktemp("two") / "elsewhere"), tmp_path_factory.mktemp("o2") / "a.json")
    return first, second


def test_two_compiles_in_two_folders_give_the_same_definition(compiled):
    first, second = compiled
    assert first == second


def test_the_repack_steps_are_valid_requests_with_content_addressed_code(compiled):
    definition = json.loads(compiled[0])
    repacks = [(name, shape, params) for name, operation, shape, params in requests(definition) if "RepackModel" in name]
    assert len(repacks) == 2, [name for name, *_ in requests(definition)]
    for name, shape, params in repacks:
        report = ParamValidator().validate(params, shape)
        assert not report.has_errors(), f"{name}: {report.generate_report()}"
        hyperparameters = params["HyperParameters"]
        assert json.loads(hyperparameters["source_dir"]) == "code"  # the spec's folder, not the staged copy's
        assert json.loads(hyperparameters["inference_script"]) == "inference.py"
        submitted = json.loads(hyperparameters["sagemaker_submit_directory"])
        prefix = "s3://sagespec-ds-experiments-111111111111/abalone/abalone-builtin/code/"
        assert submitted.startswith(prefix) and submitted.endswith(f"/{name}/source/sourcedir.tar.gz")
        assert len(submitted[len(prefix) :].split("/")[0]) == 64  # a sha256 of the code and the SDK's repack script
