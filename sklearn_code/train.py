"""Train a scikit-learn classifier on tabular data (runs in the SageMaker scikit-learn container).

Hyperparameters arrive as `--name value` arguments (the SageMaker training toolkit passes them
so). The splits are the ones preprocess.py writes, target (class labels 0, 1, ...) first:

    SM_CHANNEL_TRAIN       train.csv        (default /opt/ml/input/data/train)
    SM_CHANNEL_VALIDATION  validation.csv   (default /opt/ml/input/data/validation); reported only
    SM_MODEL_DIR           model.joblib: a Pipeline of StandardScaler and the classifier

--model logistic is LogisticRegression (C is its inverse regularisation strength);
--model gradient_boosting is HistGradientBoostingClassifier (learning_rate, max_iter).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

MODEL_FILE = "model.joblib"


def parse_args(argv=None) -> argparse.Namespace:
    env = os.environ.get
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", choices=("logistic", "gradient_boosting"), default="logistic")
    p.add_argument("--C", type=float, default=1.0)
    p.add_argument("--learning_rate", type=float, default=0.1)
    p.add_argument("--max_iter", type=int, default=200)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--train", default=env("SM_CHANNEL_TRAIN", "/opt/ml/input/data/train"))
    p.add_argument("--validation", default=env("SM_CHANNEL_VALIDATION", "/opt/ml/input/data/validation"))
    p.add_argument("--model-dir", default=env("SM_MODEL_DIR", "/opt/ml/model"))
    return p.parse_args(argv)


def read_split(folder: str, name: str):
    path = Path(folder) / f"{name}.csv"
    if not path.is_file():
        raise SystemExit(f"train: error: {path} not found (is the '{name}' channel wired?)")
    with open(path) as handle:
        header = handle.readline().strip().split(",")
    table = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    labels = table[:, 0]
    if not np.all(labels == np.round(labels)):
        raise SystemExit(f"train: error: {path}: the target column {header[0]} holds values that are not class labels")
    return header, table[:, 1:], labels.astype(int)


def main(argv=None) -> int:
    args = parse_args(argv)
    import joblib
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    header, x_train, y_train = read_split(args.train, "train")
    _, x_val, y_val = read_split(args.validation, "validation")
    if args.model == "logistic":
        classifier = LogisticRegression(C=args.C, max_iter=max(args.max_iter, 1000), random_state=args.seed)
    else:
        classifier = HistGradientBoostingClassifier(learning_rate=args.learning_rate, max_iter=args.max_iter, random_state=args.seed)
    model = make_pipeline(StandardScaler(), classifier).fit(x_train, y_train)
    accuracy = float(np.mean(model.predict(x_val) == y_val))
    model_dir = Path(args.model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, model_dir / MODEL_FILE)
    (model_dir / "features.json").write_text(json.dumps({"target": header[0], "features": header[1:]}))
    # A line the SageMaker console can scrape as a metric (metric_definitions).
    print(f"validation_accuracy={accuracy:.6f}; rows={len(y_train)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
