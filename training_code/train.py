"""Train the California housing regressor (runs in the SageMaker TensorFlow training container).

Hyperparameters arrive as `--name value` arguments (the SageMaker training toolkit passes them
so; the TensorFlow estimator also passes --model_dir, accepted and ignored in favour of
SM_MODEL_DIR). Data comes from the channels the toolkit exposes:

    SM_CHANNEL_TRAIN       train.csv        (default /opt/ml/input/data/train)
    SM_CHANNEL_VALIDATION  validation.csv   (default /opt/ml/input/data/validation)
    SM_CHANNEL_SCALER      scaler.json      (default /opt/ml/input/data/scaler)
    SM_MODEL_DIR           SavedModel goes to <dir>/1 (default /opt/ml/model)
    SM_OUTPUT_DATA_DIR     training history (default /opt/ml/output/data)

The saved model takes raw feature rows (float32, shape [n, 8], the column order in FEATURES):
the standardisation fitted by preprocess.py is a fixed Normalization layer inside the graph.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

FEATURES = ["MedInc", "HouseAge", "AveRooms", "AveBedrms", "Population", "AveOccup", "Latitude", "Longitude"]


def parse_args(argv=None) -> argparse.Namespace:
    env = os.environ.get
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--batch_size", type=int, default=64)
    p.add_argument("--learning_rate", type=float, default=0.001)
    p.add_argument("--hidden_units", type=str, default="128,64,32", help="Comma-separated sizes of the hidden layers.")
    p.add_argument("--patience", type=int, default=10, help="Early-stopping patience in epochs (validation loss).")
    p.add_argument(
        "--lr_patience",
        type=int,
        default=4,
        help="Halve the learning rate after this many epochs without validation improvement (0 = never).",
    )
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--model_dir", type=str, default=None, help="Passed by the SageMaker TensorFlow estimator; SM_MODEL_DIR wins.")
    p.add_argument("--train", default=env("SM_CHANNEL_TRAIN", "/opt/ml/input/data/train"))
    p.add_argument("--validation", default=env("SM_CHANNEL_VALIDATION", "/opt/ml/input/data/validation"))
    p.add_argument("--scaler", default=env("SM_CHANNEL_SCALER", "/opt/ml/input/data/scaler"))
    p.add_argument("--sm-model-dir", default=env("SM_MODEL_DIR", "/opt/ml/model"))
    p.add_argument("--output-data-dir", default=env("SM_OUTPUT_DATA_DIR", "/opt/ml/output/data"))
    return p.parse_args(argv)


def read_split(folder: str, name: str) -> tuple[np.ndarray, np.ndarray]:
    path = Path(folder) / f"{name}.csv"
    if not path.is_file():
        raise SystemExit(f"train: error: {path} not found (is the '{name}' channel wired?)")
    table = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float32, ndmin=2)
    if table.shape[1] != len(FEATURES) + 1:
        raise SystemExit(f"train: error: {path} has {table.shape[1]} columns, expected {len(FEATURES) + 1}")
    return table[:, 1:], table[:, 0]


def read_scaler(folder: str) -> tuple[np.ndarray, np.ndarray]:
    path = Path(folder) / "scaler.json"
    if not path.is_file():
        raise SystemExit(f"train: error: {path} not found (is the 'scaler' channel wired?)")
    scaler = json.loads(path.read_text())
    if scaler.get("features") != FEATURES:
        raise SystemExit(f"train: error: scaler features {scaler.get('features')} differ from {FEATURES}")
    return np.asarray(scaler["mean"], dtype=np.float32), np.asarray(scaler["scale"], dtype=np.float32)


def build_model(keras, mean: np.ndarray, scale: np.ndarray, hidden: list[int], learning_rate: float):
    layers = [
        keras.Input(shape=(len(FEATURES),), name="features"),
        keras.layers.Normalization(mean=mean, variance=np.square(scale), name="standardize"),
    ]
    layers += [keras.layers.Dense(units, activation="relu") for units in hidden]
    layers.append(keras.layers.Dense(1, name="median_house_value"))
    model = keras.Sequential(layers)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate), loss="mse", metrics=["mae"])
    return model


def export(model, tf, keras, directory: Path) -> None:
    """A SavedModel under <model_dir>/1 (TensorFlow Serving's version folder) with one signature."""
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint(
        name="serving_default",
        fn=lambda features: model(features, training=False),
        input_signature=[tf.TensorSpec(shape=(None, len(FEATURES)), dtype=tf.float32, name="features")],
    )
    archive.write_out(str(directory / "1"), verbose=False)


def main(argv=None) -> int:
    args = parse_args(argv)
    import tensorflow as tf
    from tensorflow import keras

    keras.utils.set_random_seed(args.seed)
    tf.config.experimental.enable_op_determinism()
    x_train, y_train = read_split(args.train, "train")
    x_val, y_val = read_split(args.validation, "validation")
    mean, scale = read_scaler(args.scaler)
    hidden = [int(u) for u in args.hidden_units.split(",") if u.strip()]
    model = build_model(keras, mean, scale, hidden, args.learning_rate)
    callbacks = [keras.callbacks.EarlyStopping(monitor="val_loss", patience=args.patience, restore_best_weights=True)]
    if args.lr_patience:
        callbacks.append(keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=args.lr_patience, min_lr=1e-5))
    started = time.perf_counter()
    history = model.fit(
        x_train,
        y_train,
        validation_data=(x_val, y_val),
        epochs=args.epochs,
        batch_size=args.batch_size,
        callbacks=callbacks,
        verbose=2,
        shuffle=True,
    )
    seconds = time.perf_counter() - started
    best = int(np.argmin(history.history["val_loss"]))
    model_dir = Path(args.sm_model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    export(model, tf, keras, model_dir)
    out = Path(args.output_data_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = {
        "epochs_run": len(history.history["loss"]),
        "best_epoch": best + 1,
        "best_val_mse": float(history.history["val_loss"][best]),
        "train_seconds": round(seconds, 2),
        "hyperparameters": {
            k: v
            for k, v in vars(args).items()
            if k in ("epochs", "batch_size", "learning_rate", "hidden_units", "patience", "lr_patience", "seed")
        },
        "history": {k: [float(v) for v in vals] for k, vals in history.history.items() if k != "learning_rate"},
    }
    (out / "training_history.json").write_text(json.dumps(summary, indent=2))
    # A line the SageMaker console can scrape as a metric (metric_definitions).
    print(f"validation_mse={summary['best_val_mse']:.6f}; epochs_run={summary['epochs_run']}; seconds={seconds:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
