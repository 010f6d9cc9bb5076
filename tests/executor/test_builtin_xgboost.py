"""The built-in XGBoost algorithm as its container version behaves: the artifact format each
version writes (read back the way the example notebooks read it), and every documented metric
read from the container's log without metric_definitions."""

import contextlib
import io
import json
import pickle
import re
import tarfile

import pytest

from sagespec.aws import builtin_xgboost
from sagespec.backends.local.executor.metrics import final_metrics
from sagespec.backends.local.runtime import xgboost_builtin

xgb = pytest.importorskip("xgboost")

IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:{}"


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("1", "pickle"),
        ("0.90-2-cpu-py3", "pickle"),
        ("1.0-1-cpu-py3", "pickle"),
        ("1.2-1", "pickle"),
        ("1.2-2", "pickle"),
        ("1.3-1", "xgboost"),
        ("1.5-1", "xgboost"),
        ("1.7-1", "xgboost"),
        ("3.0-5", "xgboost"),
        ("latest", "xgboost"),
    ],
)
def test_the_artifact_format_follows_the_container_version(tag, expected):
    assert builtin_xgboost.artifact_format(builtin_xgboost.container_version(IMAGE.format(tag))) == expected


def _train(tmp_path, monkeypatch, hyperparameters, artifact_format="xgboost", rows=None):
    """The runtime's main() on a train and a validation channel; (log, model file)."""
    rows = rows or [f"{2 * x + 3 * y + 1},{x},{y}" for x in range(20) for y in range(10)]
    for name, part in (("train", rows[::2]), ("validation", rows[1::2])):
        (tmp_path / name).mkdir()
        (tmp_path / name / f"{name}.csv").write_text("\n".join(part) + "\n")
        monkeypatch.setenv(f"SM_CHANNEL_{name.upper()}", str(tmp_path / name))
    (tmp_path / "model").mkdir()
    monkeypatch.setenv("SM_MODEL_DIR", str(tmp_path / "model"))

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = xgboost_builtin.main(["--hyperparameters", json.dumps(hyperparameters), "--artifact-format", artifact_format])
    assert code == 0
    return out.getvalue(), tmp_path / "model" / "xgboost-model"


def test_up_to_1_2_the_model_is_a_pickle_as_the_notebooks_unpickle_it(tmp_path, monkeypatch):
    _, model = _train(tmp_path, monkeypatch, {"num_round": 5, "objective": "reg:squarederror"}, "pickle")
    with open(model, "rb") as handle:  # the 1.0-1 / 1.2-1 evaluation scripts' way
        booster = pickle.load(handle)
    assert isinstance(booster, xgb.Booster) and booster.num_boosted_rounds() == 5
    with pytest.raises((xgb.core.XGBoostError, UnicodeDecodeError)):  # not XGBoost's own format
        xgb.Booster().load_model(str(model))


def test_from_1_3_the_model_is_xgboosts_own_format_as_the_notebooks_load_it(tmp_path, monkeypatch):
    _, model = _train(tmp_path, monkeypatch, {"num_round": 5, "objective": "reg:squarederror"}, "xgboost")
    booster = xgb.Booster()  # the 1.5-1+ evaluation scripts' way
    booster.load_model(str(model))
    assert booster.num_boosted_rounds() == 5
    with pytest.raises(pickle.UnpicklingError), open(model, "rb") as handle:
        pickle.load(handle)


def test_every_documented_metric_is_read_from_the_log_without_definitions(tmp_path, monkeypatch):
    rows = [f"{int(x + y > 14)},{x},{y}" for x in range(20) for y in range(10)]
    log, _ = _train(
        tmp_path,
        monkeypatch,
        {"num_round": 4, "objective": "binary:logistic", "eval_metric": "auc,error,logloss,accuracy,f1,mse,rmse,mae,map"},
        rows=rows,
    )
    assert re.search(r"^\[3\]#011train-auc:[\d.]+#011train-error:", log, re.M), log
    (tmp_path / "log").write_text(log)
    found = {m["MetricName"]: m["Value"] for m in final_metrics(builtin_xgboost.metric_definitions(), tmp_path / "log")}
    names = {
        f"{c}:{m}" for c in ("train", "validation") for m in ("auc", "error", "logloss", "accuracy", "f1", "mse", "rmse", "mae", "map")
    }
    assert set(found) == names
    last = log.strip().splitlines()[-1].split("#011")
    assert found["validation:accuracy"] == float(next(p for p in last if p.startswith("validation-accuracy:")).split(":")[1])
    # accuracy is 1 - error, as the container computes it on the same predictions
    assert found["validation:accuracy"] == pytest.approx(1 - found["validation:error"], abs=1e-5)


def test_multiclass_metrics_and_the_documented_table():
    assert set(builtin_xgboost.OBJECTIVE_METRICS) == {
        "accuracy",
        "auc",
        "error",
        "f1",
        "logloss",
        "mae",
        "map",
        "merror",
        "mlogloss",
        "mse",
        "ndcg",
        "rmse",
    }
    regexes = {d["Name"]: re.compile(d["Regex"]) for d in builtin_xgboost.metric_definitions()}
    line = "[7]#011train-merror:0.1#011train-mlogloss:0.3#011validation-merror:0.25#011validation-mlogloss:0.5"
    read = {name: float(m[1]) for name, rx in regexes.items() if (m := rx.search(line))}
    assert read == {"train:merror": 0.1, "train:mlogloss": 0.3, "validation:merror": 0.25, "validation:mlogloss": 0.5}


# -- serving: the algorithm's own container (no SAGEMAKER_PROGRAM) --


def _archive(model_file: bytes) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("xgboost-model")
        info.size = len(model_file)
        tar.addfile(info, io.BytesIO(model_file))
    return buffer.getvalue()


@pytest.mark.parametrize("artifact_format", ["pickle", "xgboost"])
def test_a_builtin_model_is_served_with_the_algorithms_content_types(tmp_path, monkeypatch, artifact_format):
    from sagespec.backends.local.runtime import inference_toolkit
    from sagespec.backends.local.serving import BadRequest, server_for

    _, model = _train(tmp_path, monkeypatch, {"num_round": 20, "objective": "reg:squarederror", "max_depth": 3}, artifact_format)
    container = {"Image": IMAGE.format("1.0-1-cpu-py3" if artifact_format == "pickle" else "1.7-1"), "ModelDataUrl": "s3://b/model.tar.gz"}
    server = server_for(container)
    assert server.kind == "xgboost-algorithm"
    served = inference_toolkit.load(server.kind, "m", container, _archive(model.read_bytes()), tmp_path / "serve", lambda uri: b"")

    csv_body, csv_type = served.invoke(b"4,2\n10,5\n", "text/csv", "")  # no Accept: the algorithm answers CSV
    assert csv_type == "text/csv"
    csv_answers = [float(v) for v in csv_body.decode().split()]
    assert csv_answers == pytest.approx([2 * 4 + 3 * 2 + 1, 2 * 10 + 3 * 5 + 1], abs=3)
    libsvm_body, _ = served.invoke(b"0 0:4 1:2\n0 0:10 1:5\n", "text/libsvm", "text/csv")
    assert [float(v) for v in libsvm_body.decode().split()] == pytest.approx(csv_answers)
    json_body, json_type = served.invoke(b"4,2\n", "text/csv", "application/json")
    assert json_type == "application/json" and json.loads(json_body) == pytest.approx(csv_answers[:1])
    with pytest.raises(BadRequest) as refused:
        served.invoke(b"[[4, 2]]", "application/json", "text/csv")
    assert refused.value.status == 415 and "text/csv or text/libsvm" in str(refused.value)
    with pytest.raises(BadRequest) as refused:
        served.invoke(b"4,2\n", "text/csv", "application/x-npy")
    assert refused.value.status == 406


def _transform_definition(image: str) -> dict:
    return {
        "CreateModel-CreateModel": {
            "Type": "Model",
            "Arguments": {"PrimaryContainer": {"Image": image, "ModelDataUrl": "s3://b/m.tar.gz"}},
        },
        "Score": {"Type": "Transform", "Arguments": {"ModelName": {"Get": "Steps.CreateModel-CreateModel.ModelName"}}},
    }


def test_a_transform_whose_model_no_local_server_loads_is_refused_before_the_run():
    from sagespec.backends.local.executor import servable

    assert servable.problems(_transform_definition(IMAGE.format("1.7-1"))) == []  # the built-in algorithm is served now
    found = servable.problems(_transform_definition("111111111111.dkr.ecr.us-east-1.amazonaws.com/my-server:1"))
    assert [step for step, _ in found] == ["Score"]
    assert "step 'CreateModel-CreateModel'" in found[0][1] and "is not one of SageMaker's inference images" in found[0][1]


# -- SDK v2's repack job, done here on the job's folders --


def _model_archive(folder):
    archive = folder / "model.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name, body in (("xgboost-model", b"model"), ("code/old.py", b"old")):
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    return archive


def test_the_repack_job_puts_the_code_folder_beside_the_model(tmp_path):
    from sagespec.backends.local.runtime.repack import repack

    code = tmp_path / "code"
    (code / "helpers").mkdir(parents=True)
    (code / "inference.py").write_text("def model_fn(d): ...")
    (code / "helpers" / "features.py").write_text("")
    (code / "extra.py").write_text("")
    model = tmp_path / "model"
    model.mkdir()
    repack(_model_archive(tmp_path), code, model, "inference.py", "code", "extra.py")
    found = sorted(str(p.relative_to(model)) for p in model.rglob("*") if p.is_file())
    # the archive's own code/ is replaced by the code folder, as the SDK's script replaces it
    assert found == ["code/extra.py", "code/helpers/features.py", "code/inference.py", "code/lib/extra.py", "xgboost-model"]
    # a folder among the dependencies: code/lib/ is the whole code folder (the upload flattened it)
    repack(_model_archive(tmp_path), code, model, "inference.py", "code", "extra.py helpers")
    lib = sorted(str(p.relative_to(model / "code" / "lib")) for p in (model / "code" / "lib").rglob("*") if p.is_file())
    assert lib == ["extra.py", "helpers/features.py", "inference.py"]


def test_the_repack_job_without_a_source_dir_takes_the_inference_script_alone(tmp_path):
    from sagespec.backends.local.runtime.repack import repack

    code = tmp_path / "code"
    code.mkdir()
    (code / "inference.py").write_text("")
    (code / "_repack_model.py").write_text("")
    model = tmp_path / "model"
    model.mkdir()
    repack(_model_archive(tmp_path), code, model, "inference.py", None, None)
    # beside what the archive's code/ held; the SDK's own scripts stay out
    found = sorted(str(p.relative_to(model)) for p in model.rglob("*") if p.is_file())
    assert found == ["code/inference.py", "code/old.py", "xgboost-model"]


def test_multiclass_accuracy_is_one_minus_merror_for_both_multi_objectives(tmp_path, monkeypatch):
    rows = [f"{(x + y) % 3},{x},{y}" for x in range(20) for y in range(10)]
    for objective in ("multi:softmax", "multi:softprob"):
        folder = tmp_path / objective.replace(":", "-")
        folder.mkdir()
        log, _ = _train(
            folder, monkeypatch, {"num_round": 5, "objective": objective, "num_class": 3, "eval_metric": "merror,accuracy"}, rows=rows
        )
        (folder / "log").write_text(log)
        found = {m["MetricName"]: m["Value"] for m in final_metrics(builtin_xgboost.metric_definitions(), folder / "log")}
        assert found["validation:accuracy"] == pytest.approx(1 - found["validation:merror"], abs=1e-5), objective
