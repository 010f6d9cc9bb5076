"""Serve the XGBoost model (SageMaker XGBoost container, script mode).

The container has no default model_fn in script mode; its default input_fn (text/csv or
text/libsvm rows -> DMatrix), predict_fn (booster.predict) and output_fn (JSON, CSV) do the rest.
"""

from pathlib import Path

MODEL_FILE = "xgboost-model.json"


def model_fn(model_dir):
    import xgboost as xgb

    booster = xgb.Booster()
    booster.load_model(str(Path(model_dir) / MODEL_FILE))
    booster.feature_names = None  # requests are bare rows, in the training column order
    return booster
