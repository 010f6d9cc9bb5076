"""Train an XGBoost model on tabular data (runs in the SageMaker XGBoost container, script mode).

Hyperparameters arrive as `--name value` arguments (the SageMaker training toolkit passes them
so). The splits are the ones preprocess.py writes, target first, with a header:

    SM_CHANNEL_TRAIN       train.csv        (default /opt/ml/input/data/train)
    SM_CHANNEL_VALIDATION  validation.csv   (default /opt/ml/input/data/validation); early stopping
    SM_MODEL_DIR           xgboost-model.json, trimmed to the best round (default /opt/ml/model)
    SM_CHANNEL_SCALER      scaler.json, preprocess.py (default /opt/ml/input/data/scaler; optional):
                           when preprocess.py is there (--model-computes-features wrote it), both
                           go into the model, which then takes raw records

inference.py loads that file on an endpoint (and, with the carried preprocess.py, computes a raw
record's features before predicting).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np

MODEL_FILE = "xgboost-model.json"
FEATURIZER = "preprocess.py"  # written beside scaler.json by preprocess.py --model-computes-features


def parse_args(argv=None) -> argparse.Namespace:
    env = os.environ.get
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--objective", default="reg:squarederror")
    p.add_argument("--eval_metric", default="rmse")
    p.add_argument("--num_round", type=int, default=2000)
    p.add_argument("--early_stopping_rounds", type=int, default=100)
    p.add_argument("--eta", type=float, default=0.05)
    p.add_argument("--max_depth", type=int, default=8)
    p.add_argument("--min_child_weight", type=float, default=3)
    p.add_argument("--subsample", type=float, default=0.8)
    p.add_argument("--colsample_bytree", type=float, default=0.8)
    p.add_argument("--reg_lambda", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--train", default=env("SM_CHANNEL_TRAIN", "/opt/ml/input/data/train"))
    p.add_argument("--validation", default=env("SM_CHANNEL_VALIDATION", "/opt/ml/input/data/validation"))
    p.add_argument("--model-dir", default=env("SM_MODEL_DIR", "/opt/ml/model"))
    p.add_argument(
        "--scaler",
        default=env("SM_CHANNEL_SCALER", "/opt/ml/input/data/scaler"),
        help="preprocess.py's scaler output: with its featurizer, the model serves raw records",
    )
    return p.parse_args(argv)


def read_split(folder: str, name: str):
    path = Path(folder) / f"{name}.csv"
    if not path.is_file():
        raise SystemExit(f"train: error: {path} not found (is the '{name}' channel wired?)")
    with open(path) as handle:
        header = handle.readline().strip().split(",")
    table = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    return header, table[:, 1:], table[:, 0]


def main(argv=None) -> int:
    args = parse_args(argv)
    import xgboost as xgb

    header, x_train, y_train = read_split(args.train, "train")
    _, x_val, y_val = read_split(args.validation, "validation")
    train = xgb.DMatrix(x_train, label=y_train, feature_names=header[1:])
    validation = xgb.DMatrix(x_val, label=y_val, feature_names=header[1:])
    params = {
        "objective": args.objective,
        "eval_metric": args.eval_metric,
        "eta": args.eta,
        "max_depth": args.max_depth,
        "min_child_weight": args.min_child_weight,
        "subsample": args.subsample,
        "colsample_bytree": args.colsample_bytree,
        "lambda": args.reg_lambda,
        "tree_method": "hist",
        "seed": args.seed,
    }
    started = time.perf_counter()
    booster = xgb.train(
        params,
        train,
        num_boost_round=args.num_round,
        evals=[(train, "train"), (validation, "validation")],
        early_stopping_rounds=args.early_stopping_rounds,
        verbose_eval=100,
    )
    seconds = time.perf_counter() - started
    best = booster[: booster.best_iteration + 1]  # the rounds up to the best validation score
    model_dir = Path(args.model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    best.save_model(str(model_dir / MODEL_FILE))
    (model_dir / "features.json").write_text(json.dumps({"target": header[0], "features": header[1:]}))
    # The features were computed from raw records by preprocess.py: the model carries that code and
    # its definitions (inference.py and evaluate.py compute them from a raw record as it did).
    featurizer = Path(args.scaler) / FEATURIZER
    if featurizer.is_file():
        for name in (FEATURIZER, "scaler.json"):
            shutil.copyfile(featurizer.parent / name, model_dir / name)
    # A line the SageMaker console can scrape as a metric (metric_definitions).
    print(f"validation_{args.eval_metric}={booster.best_score:.6f}; rounds={booster.best_iteration + 1}; seconds={seconds:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
