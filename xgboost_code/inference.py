"""Serve the XGBoost model (SageMaker XGBoost container, script mode).

The container has no default model_fn in script mode. A model trained on features computed from
raw records carries the code that computed them (preprocess.py and scaler.json, put there by
train.py): then a request's rows are raw records (text/csv, one per line, the input columns in
scaler.json's "inputs" order) and predict_fn computes the features before predicting. Without
them, rows are the features, as trained. The container's default output_fn writes the result
(JSON or CSV by Accept).
"""

import importlib.util
import io
import json
from pathlib import Path

import numpy as np

MODEL_FILE = "xgboost-model.json"
FEATURIZER = "preprocess.py"


class Model:
    def __init__(self, booster, featurize=None):
        self.booster, self.featurize = booster, featurize


def model_fn(model_dir):
    import xgboost as xgb

    booster = xgb.Booster()
    booster.load_model(str(Path(model_dir) / MODEL_FILE))
    booster.feature_names = None  # requests are bare rows, in the training column order
    code = Path(model_dir) / FEATURIZER
    if not code.is_file():
        return Model(booster)
    spec = importlib.util.spec_from_file_location("model_preprocess", code)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    scaler = json.loads((Path(model_dir) / "scaler.json").read_text())
    return Model(booster, lambda records: module.featurize(records, scaler["inputs"], scaler["definitions"]))


def input_fn(request_body, request_content_type):
    if request_content_type.split(";")[0].strip().lower() != "text/csv":  # "text/csv; charset=utf-8" too
        raise ValueError(f"content type {request_content_type} is not supported: send text/csv rows")
    text = request_body.decode() if isinstance(request_body, bytes) else request_body
    return np.loadtxt(io.StringIO(text), delimiter=",", ndmin=2)


def predict_fn(input_data, model):
    import xgboost as xgb

    features = model.featurize(input_data) if model.featurize else input_data
    return model.booster.predict(xgb.DMatrix(features))
