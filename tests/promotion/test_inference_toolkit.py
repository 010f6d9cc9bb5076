"""The inference toolkit contract of the local endpoints (sagespec.backends.local.runtime.inference_toolkit): the
script's handlers where it defines them, each framework's defaults elsewhere, as SageMaker's
scikit-learn, XGBoost and PyTorch inference images load and answer."""

import importlib.util
import io
import json

import numpy as np
import pytest

from helpers import tar_gz
from sagespec.backends.local.runtime import inference_toolkit as toolkit
from sagespec.backends.local.serving import BadRequest, server_for

SKLEARN = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
XGBOOST = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
PYTORCH = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.3-cpu-py311"


def sklearn_model(tmp_path, script: str, env: dict | None = None):
    """A fitted LogisticRegression in model.joblib, its code in an s3:// sourcedir.tar.gz."""
    import joblib
    from sklearn.linear_model import LogisticRegression

    x = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [3.0, 3.0]])
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "model.joblib"
    joblib.dump(LogisticRegression().fit(x, [0, 0, 1, 1]), path)
    store = {"s3://b/code/sourcedir.tar.gz": tar_gz({"inference.py": script.encode()})}
    container = {
        "Image": SKLEARN,
        "Environment": {"SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": "s3://b/code/sourcedir.tar.gz", **(env or {})},
    }
    return toolkit.load("sklearn", "m", container, tar_gz({"model.joblib": path.read_bytes()}), tmp_path / "served", store.__getitem__)


MODEL_FN = "import joblib, os\ndef model_fn(model_dir):\n    return joblib.load(os.path.join(model_dir, 'model.joblib'))\n"


def test_sklearn_defaults_decode_csv_predict_and_encode_json(tmp_path):
    model = sklearn_model(tmp_path, MODEL_FN)
    assert model.invoke(b"0,0\n3,3\n", "text/csv", "application/json") == (b"[0, 1]", "application/json")
    assert model.invoke(b"[[0, 0], [3, 3]]", "application/json", "text/csv") == (b"0\n1\n", "text/csv")


def test_no_accept_uses_the_containers_default_accept(tmp_path):
    plain = sklearn_model(tmp_path / "a", MODEL_FN)
    assert plain.invoke(b"0,0\n3,3", "text/csv", "*/*")[1] == "application/json"
    csv = sklearn_model(tmp_path / "b", MODEL_FN, {"SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "text/csv"})
    assert csv.invoke(b"0,0\n3,3", "text/csv", "") == (b"0\n1\n", "text/csv")


def test_the_scripts_own_handlers_replace_the_defaults_and_see_its_environment(tmp_path):
    script = MODEL_FN + (
        "import json, os\n"
        "def predict_fn(data, model):\n    return model.predict_proba(data)[:, 1]\n"
        "def output_fn(prediction, accept):\n"
        "    return json.dumps({'scores': prediction.round(3).tolist(), 'mode': os.environ.get('MODE')}), 'application/json'\n"
    )
    model = sklearn_model(tmp_path, script, {"MODE": "serve"})
    body, kind = model.invoke(b"0,0\n3,3\n", "text/csv", "application/json")
    answer = json.loads(body)
    assert kind == "application/json" and answer["scores"][0] < 0.5 < answer["scores"][1]
    assert answer["mode"] is None  # the model's Environment is set while it loads, not per request


def test_a_script_without_model_fn_fails_to_load_as_the_sklearn_container_does(tmp_path):
    with pytest.raises(NotImplementedError, match="Please provide a model_fn implementation"):
        sklearn_model(tmp_path, "x = 1\n")


def test_transform_fn_with_input_fn_is_refused_as_the_toolkit_refuses_it(tmp_path):
    script = MODEL_FN + "def transform_fn(m, b, c, a):\n    return b\ndef input_fn(b, c):\n    return b\n"
    with pytest.raises(ValueError, match="Cannot use transform_fn implementation with input_fn"):
        sklearn_model(tmp_path, script)


@pytest.mark.parametrize(
    "body, content_type, status, says",
    [
        (b"[[1, 2]", "application/json", 400, "cannot be read as an array"),
        (b"1,2", "text/plain", 415, "content type 'text/plain' is not supported"),
    ],
)
def test_a_body_the_defaults_cannot_read_is_a_4xx(tmp_path, body, content_type, status, says):
    model = sklearn_model(tmp_path, MODEL_FN)
    with pytest.raises(BadRequest) as refused:
        model.invoke(body, content_type, "application/json")
    assert refused.value.status == status and says in str(refused.value)


def test_npy_bodies_are_read_without_pickles(tmp_path):
    model = sklearn_model(tmp_path, MODEL_FN)
    buffer = io.BytesIO()
    np.save(buffer, np.array([[3.0, 3.0]]))
    assert model.invoke(buffer.getvalue(), "application/x-npy", "application/json")[0] == b"[1]"
    pickled = io.BytesIO()
    np.save(pickled, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(BadRequest, match="cannot be read as an array"):
        model.invoke(pickled.getvalue(), "application/x-npy", "application/json")


def test_xgboost_defaults_read_csv_into_a_dmatrix_with_empty_cells_missing(tmp_path):
    xgb = pytest.importorskip("xgboost")
    booster = xgb.train({"max_depth": 2}, xgb.DMatrix(np.array([[0.0, 1.0], [1.0, 0.0]] * 20), label=[0.0, 1.0] * 20), 5)
    booster.save_model(str(tmp_path / "xgboost-model.json"))
    script = "import xgboost as xgb\ndef model_fn(d):\n    b = xgb.Booster()\n    b.load_model(d + '/xgboost-model.json')\n    return b\n"
    container = {"Image": XGBOOST, "Environment": {"SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": "s3://b/c.tar.gz"}}
    store = {"s3://b/c.tar.gz": tar_gz({"inference.py": script.encode()})}
    model_archive = tar_gz({"xgboost-model.json": (tmp_path / "xgboost-model.json").read_bytes()})
    model = toolkit.load("xgboost", "x", container, model_archive, tmp_path / "served", store.__getitem__)
    body, _ = model.invoke(b"0,1\n1,0\n1,\n", "text/csv", "application/json")
    low, high, missing = json.loads(body)
    assert low < 0.5 < high and isinstance(missing, float)
    with pytest.raises(BadRequest) as refused:
        model.invoke(b"[[0, 1]]", "application/json", "application/json")
    assert refused.value.status == 415


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="the local-torch extra is not installed")
def test_pytorch_defaults_serve_a_torchscript_model_pt_with_no_script(tmp_path):
    import torch

    class Double(torch.nn.Module):
        def forward(self, x):
            return x * 2 + 1

    torch.jit.script(Double()).save(str(tmp_path / "model.pt"))
    container = {"Image": PYTORCH, "Environment": {}}
    model = toolkit.load("pytorch", "p", container, tar_gz({"model.pt": (tmp_path / "model.pt").read_bytes()}), tmp_path / "s", None)
    assert model.invoke(b"[[1.0, 2.0]]", "application/json", "application/json") == (b"[[3.0, 5.0]]", "application/json")


@pytest.mark.parametrize(
    "container, says",
    [
        (
            {"Image": "111111111111.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1"},
            "is not one of SageMaker's inference images",
        ),
        ({"Image": "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-inference:2.3.0"}, "is not one of"),
    ],
    ids=["look-alike in another account", "hugging face"],
)
def test_images_no_local_server_stands_in_for_are_named(container, says):
    with pytest.raises(ValueError, match=says):
        server_for(container)


def test_the_xgboost_image_without_a_program_is_the_algorithms_own_server():
    # served as the built-in algorithm's container serves (tests/executor/test_builtin_xgboost.py)
    assert server_for({"Image": XGBOOST, "Environment": {}}).kind == "xgboost-algorithm"
