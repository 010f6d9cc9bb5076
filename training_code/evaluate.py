"""Evaluate the trained model on the test split (runs in a processing container with TensorFlow).

Unpacks model.tar.gz, predicts the test rows through the SavedModel's serving signature (the
same raw features an endpoint receives) and writes evaluation.json in SageMaker's model-quality
format for regression, plus predictions.csv:

    {"regression_metrics": {"mse": {"value": .., "standard_deviation": ..},
                            "rmse": {"value": ..}, "mae": {"value": ..}, "r2": {"value": ..}}}

Paths (argument, else environment variable, else the SageMaker container path):
    --model-dir   SM_PROCESSING_INPUT_MODEL         /opt/ml/processing/model       (holds model.tar.gz)
    --test-dir    SM_PROCESSING_INPUT_TEST          /opt/ml/processing/test        (holds test.csv)
    --output-dir  SM_PROCESSING_OUTPUT_EVALUATION   /opt/ml/processing/evaluation
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tarfile
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    env = os.environ.get
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model-dir", default=env("SM_PROCESSING_INPUT_MODEL", "/opt/ml/processing/model"))
    p.add_argument("--test-dir", default=env("SM_PROCESSING_INPUT_TEST", "/opt/ml/processing/test"))
    p.add_argument("--output-dir", default=env("SM_PROCESSING_OUTPUT_EVALUATION", "/opt/ml/processing/evaluation"))
    return p.parse_args(argv)


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict:
    errors = y_pred - y_true
    squared = errors**2
    mse = float(np.mean(squared))
    total = float(np.sum((y_true - y_true.mean()) ** 2))
    return {
        "regression_metrics": {
            "mse": {"value": mse, "standard_deviation": float(np.std(squared))},
            "rmse": {"value": float(np.sqrt(mse))},
            "mae": {"value": float(np.mean(np.abs(errors))), "standard_deviation": float(np.std(np.abs(errors)))},
            "r2": {"value": float(1.0 - np.sum(squared) / total) if total > 0 else 0.0},
        }
    }


def load_predictor(model_dir: Path, scratch: Path):
    archive = model_dir / "model.tar.gz"
    if archive.is_file():
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(scratch, filter="data")
        root = scratch
    elif (model_dir / "1").is_dir():
        root = model_dir  # already unpacked
    else:
        raise SystemExit(f"evaluate: error: no model.tar.gz (or SavedModel folder 1/) in {model_dir}")
    import tensorflow as tf

    loaded = tf.saved_model.load(str(root / "1"))
    serve = loaded.signatures["serving_default"]

    def predict(features: np.ndarray) -> np.ndarray:
        outputs = serve(tf.constant(features, dtype=tf.float32))
        return next(iter(outputs.values())).numpy().reshape(-1)

    return predict


def main(argv=None) -> int:
    args = parse_args(argv)
    test_csv = Path(args.test_dir) / "test.csv"
    if not test_csv.is_file():
        print(f"evaluate: error: {test_csv} not found", file=sys.stderr)
        return 1
    with open(test_csv) as handle:
        header = handle.readline().strip().split(",")
    table = np.loadtxt(test_csv, delimiter=",", skiprows=1, dtype=np.float32, ndmin=2)
    x_test, y_test = table[:, 1:], table[:, 0].astype(np.float64)
    with tempfile.TemporaryDirectory() as scratch:
        predict = load_predictor(Path(args.model_dir), Path(scratch))
        y_pred = predict(x_test).astype(np.float64)
    report = regression_metrics(y_test, y_pred)
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "evaluation.json").write_text(json.dumps(report, indent=2))
    np.savetxt(
        out / "predictions.csv", np.column_stack([y_test, y_pred]), delimiter=",", fmt="%.8g", header=f"{header[0]},prediction", comments=""
    )
    m = report["regression_metrics"]
    print(
        f"evaluate: {len(y_test)} test rows: mse={m['mse']['value']:.4f} rmse={m['rmse']['value']:.4f} "
        f"mae={m['mae']['value']:.4f} r2={m['r2']['value']:.4f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
