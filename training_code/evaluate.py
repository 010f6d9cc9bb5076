"""Evaluate the trained model on the test split (runs in the processing container of its framework).

Unpacks model.tar.gz and predicts the test rows (the same raw features an endpoint receives)
with what the archive holds: a TensorFlow SavedModel (folder 1/, its serving signature), an
XGBoost booster (xgboost-model.json) or a scikit-learn estimator (model.joblib). Writes
evaluation.json in SageMaker's model-quality format, plus predictions.csv:

    --task regression (default)
    {"regression_metrics": {"mse": {"value": .., "standard_deviation": ..},
                            "rmse": {"value": ..}, "mae": {"value": ..}, "r2": {"value": ..}}}
    --task binary_classification (labels 0/1; a score >= 0.5 predicts 1)
    {"binary_classification_metrics": {"accuracy": {"value": .., "standard_deviation": ..},
        "precision": .., "recall": .., "f1": .., "auc": .., "confusion_matrix": {"0": {"0": n, "1": n}, "1": {..}}}}

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
    p.add_argument("--task", choices=("regression", "binary_classification"), default="regression")
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


def binary_classification_metrics(y_true: np.ndarray, scores: np.ndarray) -> dict:
    labels = (scores >= 0.5).astype(int)
    truth = y_true.astype(int)
    correct = (labels == truth).astype(float)
    tp, fp = int(np.sum((labels == 1) & (truth == 1))), int(np.sum((labels == 1) & (truth == 0)))
    fn, tn = int(np.sum((labels == 0) & (truth == 1))), int(np.sum((labels == 0) & (truth == 0)))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    metrics = {
        "accuracy": {"value": float(correct.mean()), "standard_deviation": float(correct.std())},
        "precision": {"value": precision},
        "recall": {"value": recall},
        "f1": {"value": 2 * precision * recall / (precision + recall) if precision + recall else 0.0},
        "confusion_matrix": {"0": {"0": tn, "1": fp}, "1": {"0": fn, "1": tp}},
    }
    positives, negatives = scores[truth == 1], scores[truth == 0]
    if len(positives) and len(negatives):  # the probability that a positive outscores a negative
        wins = (positives[:, None] > negatives[None, :]).sum() + 0.5 * (positives[:, None] == negatives[None, :]).sum()
        metrics["auc"] = {"value": float(wins / (len(positives) * len(negatives)))}
    return {"binary_classification_metrics": metrics}


def carried_featurizer(root: Path):
    """A model trained on features computed from raw records carries the code that computed them
    (preprocess.py and scaler.json, as XGBoost's train.py packs them): the test split then holds
    raw records, and the features are computed as the endpoint computes them. Otherwise rows are
    the features."""
    code = root / "preprocess.py"
    if not (code.is_file() and (root / "scaler.json").is_file()):
        return lambda rows: rows
    import importlib.util

    spec = importlib.util.spec_from_file_location("model_preprocess", code)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    scaler = json.loads((root / "scaler.json").read_text())
    return lambda rows: module.featurize(rows, scaler["inputs"], scaler["definitions"])


def load_predictor(model_dir: Path, scratch: Path):
    """predict(features) -> one number per row: a regression value, or the positive class's score."""
    archive = model_dir / "model.tar.gz"
    if archive.is_file():
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(scratch, filter="data")
        root = scratch
    elif any((model_dir / name).exists() for name in ("1", "xgboost-model.json", "model.joblib")):
        root = model_dir  # already unpacked
    else:
        raise SystemExit(f"evaluate: error: no model.tar.gz (or unpacked model) in {model_dir}")
    if (root / "xgboost-model.json").is_file():
        import xgboost as xgb

        booster = xgb.Booster()
        booster.load_model(str(root / "xgboost-model.json"))
        featurize = carried_featurizer(root)
        return lambda rows: booster.predict(xgb.DMatrix(featurize(rows)), validate_features=False).reshape(-1)
    if (root / "model.joblib").is_file():
        import joblib

        estimator = joblib.load(root / "model.joblib")
        if hasattr(estimator, "predict_proba"):
            return lambda features: estimator.predict_proba(features)[:, -1]
        return lambda features: np.asarray(estimator.predict(features), dtype=np.float64).reshape(-1)
    if not (root / "1").is_dir():
        raise SystemExit("evaluate: error: the model archive holds no SavedModel (1/), xgboost-model.json or model.joblib")
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
    report = regression_metrics(y_test, y_pred) if args.task == "regression" else binary_classification_metrics(y_test, y_pred)
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "evaluation.json").write_text(json.dumps(report, indent=2))
    np.savetxt(
        out / "predictions.csv", np.column_stack([y_test, y_pred]), delimiter=",", fmt="%.8g", header=f"{header[0]},prediction", comments=""
    )
    ((_, metrics),) = report.items()
    shown = " ".join(f"{name}={m['value']:.4f}" for name, m in metrics.items() if "value" in m)
    print(f"evaluate: {len(y_test)} test rows: {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
