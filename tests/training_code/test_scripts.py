"""The tabular scripts of training_code/, run as SageMaker runs them: subprocesses, paths from SM_*
variables, the California housing data described by arguments as its spec describes it. The
preprocess checks of malformed input and arguments call the script's main() in this process
(run_here): the same code, its output and exit code, without a fresh interpreter importing numpy
and scikit-learn for each; every script also runs as a subprocess here (pipeline_run and others)."""

import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest

# End to end: `make test-fast` leaves these out, `make test` runs them. One xdist worker takes the
# module, so its pipeline run (preprocess, train, evaluate) happens once per test run, not per worker.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("training_scripts")]

ROOT = Path(__file__).resolve().parents[2]
CODE = ROOT / "training_code"
DATA = ROOT / "pipelines" / "data" / "cal_housing.tgz"
FEATURES = "MedInc,HouseAge,AveRooms,AveBedrms,Population,AveOccup,Latitude,Longitude"
# What pipelines/california_housing.yaml passes: the archive has no header, and the features are
# scikit-learn's fetch_california_housing layout derived from the raw totals.
CALIFORNIA = [
    "--columns",
    *"longitude latitude housingMedianAge totalRooms totalBedrooms population households medianIncome medianHouseValue".split(),
    "--target",
    "MedHouseVal=medianHouseValue/100000",
    "--features",
    "MedInc=medianIncome",
    "HouseAge=housingMedianAge",
    "AveRooms=totalRooms/households",
    "AveBedrms=totalBedrooms/households",
    "Population=population",
    "AveOccup=population/households",
    "Latitude=latitude",
    "Longitude=longitude",
    "--model-computes-features",  # as the TensorFlow template passes it: the test split holds raw records
]
# A raw record: the columns the features are computed from, in the data file's order.
INPUTS = "longitude,latitude,housingMedianAge,totalRooms,totalBedrooms,population,households,medianIncome"


def run(script: str, env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(CODE / script), *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=600
    )


def run_here(script: str, env: dict, *args: str) -> subprocess.CompletedProcess:
    """`python SCRIPT ARGS` with `env` set, in this process: the script's main(argv), as its
    `if __name__ == "__main__": sys.exit(main())` calls it, with stdout and stderr captured; the
    exit code is main's return value or SystemExit's code (argparse's usage errors), and an
    uncaught exception is printed to stderr as the interpreter prints it, with code 1."""
    import contextlib
    import io
    import runpy
    import traceback

    main = runpy.run_path(str(CODE / script))["main"]
    out, err = io.StringIO(), io.StringIO()
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exit:
                code = exit.code
                if code is not None and not isinstance(code, int):
                    print(code, file=sys.stderr)
                    code = 1
            except Exception:
                traceback.print_exc()
                code = 1
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return subprocess.CompletedProcess([sys.executable, str(CODE / script), *args], code or 0, out.getvalue(), err.getvalue())


def preprocess_env(w: Path, raw: Path) -> dict:
    return {
        "SM_PROCESSING_INPUT_RAW": str(raw),
        "SM_PROCESSING_OUTPUT_TRAIN": str(w / "train"),
        "SM_PROCESSING_OUTPUT_VALIDATION": str(w / "validation"),
        "SM_PROCESSING_OUTPUT_TEST": str(w / "test"),
        "SM_PROCESSING_OUTPUT_SCALER": str(w / "scaler"),
    }


def rows(path: Path) -> np.ndarray:
    return np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)


@pytest.fixture(scope="module")
def pipeline_run(tmp_path_factory):
    """preprocess -> train -> evaluate on the first 1,200 rows, 4 epochs."""
    w = tmp_path_factory.mktemp("run")
    (w / "raw").mkdir()
    shutil.copy(DATA, w / "raw")
    pre = run("preprocess.py", preprocess_env(w, w / "raw"), *CALIFORNIA, "--max-rows", "1200", "--seed", "7")
    assert pre.returncode == 0, pre.stderr
    train = run(
        "train.py",
        {
            "SM_CHANNEL_TRAIN": str(w / "train"),
            "SM_CHANNEL_VALIDATION": str(w / "validation"),
            "SM_CHANNEL_SCALER": str(w / "scaler"),
            "SM_MODEL_DIR": str(w / "model"),
            "SM_OUTPUT_DATA_DIR": str(w / "output"),
        },
        # as the SageMaker TensorFlow container passes them, model_dir included
        "--epochs",
        "4",
        "--batch_size",
        "64",
        "--learning_rate",
        "0.001",
        "--model_dir",
        "s3://bucket/job/model",
    )
    assert train.returncode == 0, train.stderr
    (w / "packed").mkdir()
    with tarfile.open(w / "packed" / "model.tar.gz", "w:gz") as tar:
        tar.add(w / "model" / "1", arcname="1")
    evaluate = run(
        "evaluate.py",
        {
            "SM_PROCESSING_INPUT_MODEL": str(w / "packed"),
            "SM_PROCESSING_INPUT_TEST": str(w / "test"),
            "SM_PROCESSING_OUTPUT_EVALUATION": str(w / "evaluation"),
        },
    )
    assert evaluate.returncode == 0, evaluate.stderr
    return w, pre, train, evaluate


@pytest.mark.slow
def test_preprocess_writes_splits_in_the_feature_layout(pipeline_run):
    w, pre, _, _ = pipeline_run
    assert (
        "preprocess: 1200 rows from cal_housing.tgz:CaliforniaHousing/cal_housing.data -> train 840, validation 180, test 180; "
        "target MedHouseVal, 8 features" in pre.stdout
    )
    for split, count in (("train", 840), ("validation", 180)):
        path = w / split / f"{split}.csv"
        assert path.read_text().splitlines()[0] == f"MedHouseVal,{FEATURES}"
        assert rows(path).shape == (count, 9)
    # The test split is what a client sends the model: raw records (and the target first).
    assert (w / "test" / "test.csv").read_text().splitlines()[0] == f"MedHouseVal,{INPUTS}"
    assert rows(w / "test" / "test.csv").shape == (180, 9)
    first_raw = [-122.23, 37.88, 41.0, 880.0, 129.0, 322.0, 126.0, 8.3252, 452600.0]  # line 1 of cal_housing.data
    everything = np.vstack([rows(w / s / f"{s}.csv") for s in ("train", "validation")])
    in_test = np.isclose(rows(w / "test" / "test.csv")[:, 1:], first_raw[:8], rtol=1e-6).all(axis=1).any()
    expected = [
        first_raw[8] / 100000,
        first_raw[7],
        first_raw[2],
        first_raw[3] / first_raw[6],
        first_raw[4] / first_raw[6],
        first_raw[5],
        first_raw[5] / first_raw[6],
        first_raw[1],
        first_raw[0],
    ]
    # line 1 is in the test split as it is, or derived in train or validation
    assert in_test or np.isclose(everything, expected, rtol=1e-6).all(axis=1).any()


@pytest.mark.slow
def test_scaler_is_fitted_on_train_only(pipeline_run):
    w, *_ = pipeline_run
    scaler = json.loads((w / "scaler" / "scaler.json").read_text())
    assert scaler["features"] == FEATURES.split(",")
    assert scaler["inputs"] == INPUTS.split(",")
    assert scaler["definitions"][2] == ["AveRooms", "totalRooms/households"]
    train = rows(w / "train" / "train.csv")[:, 1:]
    validation = rows(w / "validation" / "validation.csv")[:, 1:]
    assert np.allclose(scaler["mean"], train.mean(axis=0), rtol=1e-6)
    assert np.allclose(scaler["scale"], train.std(axis=0), rtol=1e-6)
    assert not np.allclose(scaler["mean"], np.vstack([train, validation]).mean(axis=0), rtol=1e-6)


@pytest.mark.slow
def test_train_saves_a_servable_model_and_history(pipeline_run):
    w, _, train, _ = pipeline_run
    assert (w / "model" / "1" / "saved_model.pb").is_file()
    history = json.loads((w / "output" / "training_history.json").read_text())
    assert history["epochs_run"] <= 4 and history["hyperparameters"]["batch_size"] == 64
    assert "validation_mse=" in train.stdout


@pytest.mark.slow
def test_evaluation_json_is_in_sagemaker_model_quality_format(pipeline_run):
    w, _, _, evaluate = pipeline_run
    report = json.loads((w / "evaluation" / "evaluation.json").read_text())
    metrics = report["regression_metrics"]
    assert set(metrics) == {"mse", "rmse", "mae", "r2"}
    assert set(metrics["mse"]) == {"value", "standard_deviation"}
    assert metrics["mse"]["value"] > 0 and np.isclose(metrics["rmse"]["value"] ** 2, metrics["mse"]["value"])
    predictions = rows(w / "evaluation" / "predictions.csv")
    test = rows(w / "test" / "test.csv")
    assert np.allclose(predictions[:, 0], test[:, 0], rtol=1e-6)
    assert np.isclose(np.mean((predictions[:, 1] - predictions[:, 0]) ** 2), metrics["mse"]["value"], rtol=1e-4)
    assert f"evaluate: 180 test rows: mse={metrics['mse']['value']:.4f}" in evaluate.stdout


@pytest.fixture(scope="module")
def served(pipeline_run):
    """What the trained model's graph gives, in one TensorFlow process (its import is 4 s of CPU):
    the featurizer's output for a raw record, and the SavedModel's predictions for the test split."""
    w, *_ = pipeline_run
    code = (
        "import json, runpy, sys, numpy as np, tensorflow as tf\n"
        "train = runpy.run_path(sys.argv[1])\n"
        "scaler = json.load(open(sys.argv[2]))\n"
        "raw = np.array([[-122.23, 37.88, 41.0, 880.0, 129.0, 322.0, 126.0, 8.3252]], dtype='float32')\n"
        "featurize = train['featurizer'](tf, scaler['inputs'], scaler['definitions'])\n"
        "m = tf.saved_model.load(sys.argv[3])\n"
        "x = np.loadtxt(sys.argv[4], delimiter=',', skiprows=1, ndmin=2)[:, 1:].astype('float32')\n"
        "out = m.signatures['serving_default'](tf.constant(x))\n"
        "print(json.dumps({'features': featurize(tf.constant(raw)).numpy()[0].tolist(),\n"
        "                  'predictions': next(iter(out.values())).numpy().reshape(-1).tolist()}))\n"
    )
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            str(CODE / "train.py"),
            str(w / "scaler" / "scaler.json"),
            str(w / "model" / "1"),
            str(w / "test" / "test.csv"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_model_computes_its_features_from_a_raw_record_as_preprocess_does(served):
    """The featurizer in the graph gives the features preprocess.py computed from the same
    records (a raw record of the data file against its derived train row)."""
    assert np.allclose(served["features"], [8.3252, 41.0, 880 / 126, 129 / 126, 322.0, 322 / 126, 37.88, -122.23], rtol=1e-6)


def test_the_model_takes_raw_records(pipeline_run, served):
    """Featurizer and scaler are inside the graph: raw records in, the same predictions evaluate.py wrote out."""
    w, *_ = pipeline_run
    assert np.allclose(served["predictions"], rows(w / "evaluation" / "predictions.csv")[:, 1], rtol=1e-5, atol=1e-6)


def test_same_seed_same_split_other_seed_other_split(tmp_path):
    (tmp_path / "raw").mkdir()
    shutil.copy(DATA, tmp_path / "raw")
    outputs = []
    for name, seed in (("a", "1"), ("b", "1"), ("c", "2")):
        w = tmp_path / name
        done = run_here("preprocess.py", preprocess_env(w, tmp_path / "raw"), *CALIFORNIA, "--max-rows", "300", "--seed", seed)
        assert done.returncode == 0, done.stderr
        outputs.append((w / "test" / "test.csv").read_bytes())
    assert outputs[0] == outputs[1] != outputs[2]


def test_ratios_are_configurable(tmp_path):
    (tmp_path / "raw").mkdir()
    shutil.copy(DATA, tmp_path / "raw")
    done = run_here(
        "preprocess.py",
        preprocess_env(tmp_path, tmp_path / "raw"),
        *CALIFORNIA,
        "--max-rows",
        "1000",
        "--validation-ratio",
        "0.1",
        "--test-ratio",
        "0.2",
    )
    assert "train 700, validation 100, test 200" in done.stdout


GOOD_LINE = "-122.23,37.88,41.0,880.0,129.0,322.0,126.0,8.3252,452600.0\n"


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("cal_housing.data", GOOD_LINE + "-122.22,37.86,21.0,7099.0\n", "cal_housing.data line 2: expected 9 columns"),
        (
            "cal_housing.data",
            GOOD_LINE + "-122.22,37.86,21.0,7099.0,1106.0,2401.0,1138.0,abc,358500.0\n",
            "cal_housing.data line 2: 'abc' is not a number",
        ),
        ("cal_housing.data", "", "cal_housing.data holds no data rows"),
        ("cal_housing.data", "\n\n", "cal_housing.data holds no data rows"),
        ("data.csv", GOOD_LINE.replace("126.0", "0.0"), "AveRooms = totalRooms/households is not a finite number at data row 1"),
        ("cal_housing.tgz", b"not a gzip archive", "cal_housing.tgz is not a readable .tgz archive"),
        ("notes.txt", "hello", "no .csv or .data file (or .tgz holding one) in"),
        ("data.csv", "a,b c\n1,2\n", "column name 'b c' is not an identifier"),
    ],
)
def test_preprocess_rejects_malformed_input(tmp_path, name, content, message):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    arguments = ["--target", "a"] if name == "data.csv" and content.startswith("a,") else CALIFORNIA
    done = run_here("preprocess.py", preprocess_env(tmp_path, raw), *arguments)
    assert done.returncode == 1
    assert done.stderr.startswith("preprocess: error: ") and message in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "train").exists()  # nothing half-written


HEADED = "label,x1,x2,x3\n" + "".join(f"{i % 2},{i},{i * 0.5},{10 - i}\n" for i in range(40))


def test_a_csv_with_a_header_needs_no_columns_and_its_other_columns_are_the_features(tmp_path):
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "mine.csv").write_text(HEADED)
    done = run_here("preprocess.py", preprocess_env(tmp_path, tmp_path / "raw"), "--target", "label")
    assert done.returncode == 0, done.stderr
    assert "40 rows from mine.csv -> train 28, validation 6, test 6; target label, 3 features" in done.stdout
    assert (tmp_path / "test" / "test.csv").read_text().splitlines()[0] == "label,x1,x2,x3"
    assert json.loads((tmp_path / "scaler" / "scaler.json").read_text())["features"] == ["x1", "x2", "x3"]


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--target", "price"], "'price' names column 'price', which the table does not have (label, x1, x2, x3)"),
        (["--target", "label", "--features", "s=__import__('os').getcwd()"], "only columns, numbers, + - * / **, and log"),
        (["--target", "label", "--features", "x1", "x1"], "feature and target names must be distinct"),
        (["--target", "label", "--features", "r=x1/(x2-x2)"], "r = x1/(x2-x2) is not a finite number at data row 1"),
        (["--target", "label", "--columns", "a", "b", "c", "d"], "has a header (label, x1, x2, x3) that differs from --columns"),
    ],
    ids=["unknown column", "code", "duplicate", "division by zero", "columns disagree"],
)
def test_a_bad_target_or_feature_is_one_line_naming_it(tmp_path, arguments, message):
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "mine.csv").write_text(HEADED)
    done = run_here("preprocess.py", preprocess_env(tmp_path, tmp_path / "raw"), *arguments)
    assert done.returncode == 1 and done.stderr.startswith("preprocess: error: ") and message in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "train").exists()


def test_train_takes_the_features_preprocess_wrote(tmp_path):
    """Three features, two networks: one SavedModel taking [n, 3] that serves their mean."""
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "mine.csv").write_text(HEADED)
    assert run("preprocess.py", preprocess_env(tmp_path, tmp_path / "raw"), "--target", "label").returncode == 0
    channels = {
        "SM_CHANNEL_TRAIN": str(tmp_path / "train"),
        "SM_CHANNEL_VALIDATION": str(tmp_path / "validation"),
        "SM_CHANNEL_SCALER": str(tmp_path / "scaler"),
        "SM_MODEL_DIR": str(tmp_path / "model"),
        "SM_OUTPUT_DATA_DIR": str(tmp_path / "output"),
    }
    done = run("train.py", channels, "--epochs", "2", "--ensemble", "2")
    assert done.returncode == 0, done.stderr
    history = json.loads((tmp_path / "output" / "training_history.json").read_text())
    assert history["features"] == ["x1", "x2", "x3"] and history["networks"] == 2
    assert (tmp_path / "model" / "1" / "saved_model.pb").is_file()


def test_preprocess_rejects_a_missing_input_folder(tmp_path):
    done = run_here("preprocess.py", preprocess_env(tmp_path, tmp_path / "nowhere"), "--target", "y")
    assert done.returncode == 1 and "input folder" in done.stderr and "does not exist" in done.stderr


def test_train_reports_a_missing_channel(tmp_path):
    done = run("train.py", {"SM_CHANNEL_TRAIN": str(tmp_path / "none"), "SM_MODEL_DIR": str(tmp_path / "m")}, "--epochs", "1")
    assert done.returncode == 1 and "train: error:" in done.stderr and "scaler.json not found" in done.stderr
    assert "Traceback" not in done.stderr


def test_evaluate_reports_a_missing_model(tmp_path):
    (tmp_path / "test").mkdir()
    (tmp_path / "test" / "test.csv").write_text("MedHouseVal," + FEATURES + "\n1,2,3,4,5,6,7,8,9\n")
    done = run(
        "evaluate.py",
        {
            "SM_PROCESSING_INPUT_MODEL": str(tmp_path / "none"),
            "SM_PROCESSING_INPUT_TEST": str(tmp_path / "test"),
            "SM_PROCESSING_OUTPUT_EVALUATION": str(tmp_path / "out"),
        },
    )
    assert done.returncode == 1 and "evaluate: error: no model.tar.gz" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.skipif(Path("/opt/ml").exists(), reason="this machine has SageMaker container paths")
@pytest.mark.parametrize(
    "script, looked_for",
    [
        ("preprocess.py", "input folder /opt/ml/processing/input does not exist"),
        ("train.py", "/opt/ml/input/data/scaler/scaler.json not found"),
        ("evaluate.py", "/opt/ml/processing/test/test.csv not found"),
    ],
)
def test_without_sm_variables_scripts_use_the_container_paths(script, looked_for):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SM_")}
    arguments = ["--target", "y"] if script == "preprocess.py" else []
    done = subprocess.run([sys.executable, str(CODE / script), *arguments], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 1 and looked_for in done.stderr


def test_the_features_code_travels_beside_scaler_json_and_computes_a_raw_records_features(pipeline_run):
    """With --model-computes-features, preprocess.py writes itself beside scaler.json: a model that
    is no graph (XGBoost) carries both and computes a raw record's features as preprocess did."""
    import importlib.util

    w, *_ = pipeline_run
    code = w / "scaler" / "preprocess.py"
    assert code.read_bytes() == (CODE / "preprocess.py").read_bytes()
    spec = importlib.util.spec_from_file_location("carried", code)
    carried = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(carried)
    scaler = json.loads((w / "scaler" / "scaler.json").read_text())
    raw = [[-122.23, 37.88, 41.0, 880.0, 129.0, 322.0, 126.0, 8.3252]]
    features = carried.featurize(raw, scaler["inputs"], scaler["definitions"])
    assert np.allclose(features[0], [8.3252, 41.0, 880 / 126, 129 / 126, 322.0, 322 / 126, 37.88, -122.23], rtol=1e-6)
    with pytest.raises(carried.InputError, match="a record has 2 values; the model takes 8: longitude, latitude"):
        carried.featurize([[1.0, 2.0]], scaler["inputs"], scaler["definitions"])
