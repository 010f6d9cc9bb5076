"""Benchmark: model quality of the California housing workload with default hyperparameters.

Runs training_code/preprocess.py, train.py and evaluate.py through their real entry points on the
bundled data (as the local executor will: environment variables instead of container paths),
then fits scikit-learn references on the same split: LinearRegression, RandomForestRegressor and
HistGradientBoostingRegressor, trained on the training split like the network.

Targets (issue #4): test MSE <= 0.28 (units of $100k squared) with training under 60 s.

    python bench/model_quality.py
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CODE = ROOT / "training_code"
DATA = ROOT / "pipelines" / "data" / "cal_housing.tgz"


def script(name: str, env: dict, *args: str) -> float:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, str(CODE / name), *args], env={**os.environ, **env}, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{name} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    return time.perf_counter() - started


def read(path: Path) -> tuple[np.ndarray, np.ndarray]:
    table = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    return table[:, 1:], table[:, 0]


def main() -> None:
    from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor
    from sklearn.linear_model import LinearRegression
    from sklearn.metrics import mean_squared_error

    with tempfile.TemporaryDirectory() as scratch:
        w = Path(scratch)
        (w / "raw").mkdir()
        shutil.copy(DATA, w / "raw")
        script(
            "preprocess.py",
            {
                "SM_PROCESSING_INPUT_RAW": str(w / "raw"),
                "SM_PROCESSING_OUTPUT_TRAIN": str(w / "train"),
                "SM_PROCESSING_OUTPUT_VALIDATION": str(w / "validation"),
                "SM_PROCESSING_OUTPUT_TEST": str(w / "test"),
                "SM_PROCESSING_OUTPUT_SCALER": str(w / "scaler"),
            },
        )
        train_wall = script(
            "train.py",
            {
                "SM_CHANNEL_TRAIN": str(w / "train"),
                "SM_CHANNEL_VALIDATION": str(w / "validation"),
                "SM_CHANNEL_SCALER": str(w / "scaler"),
                "SM_MODEL_DIR": str(w / "model"),
                "SM_OUTPUT_DATA_DIR": str(w / "output"),
            },
        )
        history = json.loads((w / "output" / "training_history.json").read_text())
        (w / "packed").mkdir()
        with tarfile.open(w / "packed" / "model.tar.gz", "w:gz") as tar:
            tar.add(w / "model" / "1", arcname="1")
        script(
            "evaluate.py",
            {
                "SM_PROCESSING_INPUT_MODEL": str(w / "packed"),
                "SM_PROCESSING_INPUT_TEST": str(w / "test"),
                "SM_PROCESSING_OUTPUT_EVALUATION": str(w / "evaluation"),
            },
        )
        report = json.loads((w / "evaluation" / "evaluation.json").read_text())["regression_metrics"]
        x_train, y_train = read(w / "train" / "train.csv")
        x_test, y_test = read(w / "test" / "test.csv")

    rows = [
        (
            "Keras MLP (train.py, default hyperparameters)",
            report["mse"]["value"],
            history["train_seconds"],
            f"{history['epochs_run']} epochs, best {history['best_epoch']}",
        )
    ]
    references = [
        ("LinearRegression", LinearRegression()),
        ("RandomForestRegressor(n_estimators=100)", RandomForestRegressor(n_estimators=100, n_jobs=-1, random_state=0)),
        ("HistGradientBoostingRegressor", HistGradientBoostingRegressor(random_state=0)),
    ]
    for label, model in references:
        started = time.perf_counter()
        model.fit(x_train, y_train)
        seconds = time.perf_counter() - started
        rows.append((label, mean_squared_error(y_test, model.predict(x_test)), seconds, "scikit-learn reference"))

    print(f"California housing, test split of {len(y_test)} rows (seed 42), MSE in units of $100k squared")
    print()
    print(f"| {'model':<46} | {'test MSE':>8} | {'fit s':>6} | {'note':<26} |")
    print(f"|{'-' * 48}|{'-' * 10}|{'-' * 8}|{'-' * 28}|")
    for label, mse, seconds, note in rows:
        print(f"| {label:<46} | {mse:>8.4f} | {seconds:>6.1f} | {note:<26} |")
    print()
    mse, fit = rows[0][1], rows[0][2]
    print(
        f"train.py process wall time (TensorFlow import, fit, export): {train_wall:.1f} s; "
        f"rmse {report['rmse']['value']:.4f}, mae {report['mae']['value']:.4f}, r2 {report['r2']['value']:.4f}"
    )
    print(f"target test MSE <= 0.28: {mse:.4f} {'met' if mse <= 0.28 else 'MISSED'}")
    print(f"target training under 60 s: {fit:.1f} s fit, {train_wall:.1f} s process {'met' if train_wall < 60 else 'MISSED'}")


if __name__ == "__main__":
    main()
