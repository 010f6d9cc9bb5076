"""Serve the scikit-learn classifier (SageMaker scikit-learn container).

The container has no default model_fn; its default input_fn (text/csv, application/json or NPY
rows -> float32 array), predict_fn (model.predict: class labels) and output_fn do the rest.
"""

from pathlib import Path

MODEL_FILE = "model.joblib"


def model_fn(model_dir):
    import joblib

    return joblib.load(Path(model_dir) / MODEL_FILE)
