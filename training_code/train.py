"""Train a Keras regression network on tabular data (runs in the SageMaker TensorFlow training container).

Hyperparameters arrive as `--name value` arguments (the SageMaker training toolkit passes them
so; the TensorFlow estimator also passes --model_dir, accepted and ignored in favour of
SM_MODEL_DIR). Data comes from the channels the toolkit exposes:

    SM_CHANNEL_TRAIN       train.csv        (default /opt/ml/input/data/train)
    SM_CHANNEL_VALIDATION  validation.csv   (default /opt/ml/input/data/validation)
    SM_CHANNEL_SCALER      scaler.json      (default /opt/ml/input/data/scaler)
    SM_MODEL_DIR           SavedModel goes to <dir>/1 (default /opt/ml/model)
    SM_OUTPUT_DATA_DIR     training history (default /opt/ml/output/data)

The networks train on the features preprocess.py wrote (scaler.json names them, the CSVs carry
them after the target). The saved model takes what a client has, a raw record: the input columns
the features are computed from (float32, shape [n, inputs], scaler.json's "inputs" order). Each
feature's expression (scaler.json's "definitions": + - * / **, numbers, log, log1p, exp, sqrt,
abs) is a graph operation in front of the networks, and the standardisation fitted by
preprocess.py a fixed Normalization layer, so the registered model needs no other code to serve.
With --ensemble N it trains N networks from consecutive seeds and serves their mean.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402


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
    p.add_argument("--ensemble", type=int, default=1, help="Networks to train (seeds seed, seed+1, ...); the model serves their mean.")
    p.add_argument("--model_dir", type=str, default=None, help="Passed by the SageMaker TensorFlow estimator; SM_MODEL_DIR wins.")
    p.add_argument("--train", default=env("SM_CHANNEL_TRAIN", "/opt/ml/input/data/train"))
    p.add_argument("--validation", default=env("SM_CHANNEL_VALIDATION", "/opt/ml/input/data/validation"))
    p.add_argument("--scaler", default=env("SM_CHANNEL_SCALER", "/opt/ml/input/data/scaler"))
    p.add_argument("--sm-model-dir", default=env("SM_MODEL_DIR", "/opt/ml/model"))
    p.add_argument("--output-data-dir", default=env("SM_OUTPUT_DATA_DIR", "/opt/ml/output/data"))
    return p.parse_args(argv)


def read_scaler(folder: str) -> dict:
    path = Path(folder) / "scaler.json"
    if not path.is_file():
        raise SystemExit(f"train: error: {path} not found (is the 'scaler' channel wired?)")
    scaler = json.loads(path.read_text())
    scaler["mean"], scaler["scale"] = np.asarray(scaler["mean"], dtype=np.float32), np.asarray(scaler["scale"], dtype=np.float32)
    # A scaler.json of an older preprocess.py: the features are the inputs.
    scaler.setdefault("inputs", scaler["features"])
    scaler.setdefault("definitions", [[name, name] for name in scaler["features"]])
    return scaler


def featurizer(tf, inputs: list[str], definitions: list[list[str]]):
    """raw records [n, inputs] -> features [n, definitions], each expression as graph operations
    (the same grammar preprocess.py evaluates with numpy)."""
    operators = {ast.Add: tf.add, ast.Sub: tf.subtract, ast.Mult: tf.multiply, ast.Div: tf.divide, ast.Pow: tf.pow}
    functions = {"log": tf.math.log, "log1p": tf.math.log1p, "exp": tf.exp, "sqrt": tf.sqrt, "abs": tf.abs}
    trees = [ast.parse(expression, mode="eval").body for _, expression in definitions]

    def featurize(raw):
        # In float64, as preprocess.py computes them (from the same float32-rounded inputs): a large
        # constant or an exp() stays finite and a difference of large values stays exact.
        raw = tf.cast(raw, tf.float64)
        columns = {name: raw[:, i] for i, name in enumerate(inputs)}

        def value(node):
            if isinstance(node, ast.Constant):
                return tf.constant(float(node.value), dtype=tf.float64)
            if isinstance(node, ast.Name):
                return columns[node.id]
            if isinstance(node, ast.BinOp):
                return operators[type(node.op)](value(node.left), value(node.right))
            if isinstance(node, ast.UnaryOp):
                return -value(node.operand) if isinstance(node.op, ast.USub) else value(node.operand)
            return functions[node.func.id](value(node.args[0]))

        ones = tf.ones_like(raw[:, 0])
        return tf.cast(tf.stack([value(tree) * ones for tree in trees], axis=1), tf.float32)

    return featurize


def read_split(folder: str, name: str, features: list[str]) -> tuple[np.ndarray, np.ndarray]:
    path = Path(folder) / f"{name}.csv"
    if not path.is_file():
        raise SystemExit(f"train: error: {path} not found (is the '{name}' channel wired?)")
    with open(path) as handle:
        header = handle.readline().strip().split(",")
    if header[1:] != features:
        raise SystemExit(f"train: error: {path} has features {header[1:]}, scaler.json names {features}")
    table = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float32, ndmin=2)
    return table[:, 1:], table[:, 0]


def build_model(keras, mean: np.ndarray, scale: np.ndarray, hidden: list[int], learning_rate: float):
    layers = [
        keras.Input(shape=(len(mean),), name="features"),
        keras.layers.Normalization(mean=mean, variance=np.square(scale), name="standardize"),
    ]
    layers += [keras.layers.Dense(units, activation="relu") for units in hidden]
    layers.append(keras.layers.Dense(1, name="prediction"))
    model = keras.Sequential(layers)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate), loss="mse", metrics=["mae"])
    return model


def export(models, tf, keras, directory: Path, scaler: dict) -> None:
    """A SavedModel under <model_dir>/1 (TensorFlow Serving's version folder) with one signature:
    a raw record's features computed, then the mean of the networks' predictions."""
    archive = keras.export.ExportArchive()
    for model in models:
        archive.track(model)
    featurize = featurizer(tf, scaler["inputs"], scaler["definitions"])

    def serve(inputs):
        features = featurize(inputs)
        outputs = [model(features, training=False) for model in models]
        return outputs[0] if len(outputs) == 1 else tf.add_n(outputs) / float(len(outputs))

    width = len(scaler["inputs"])
    archive.add_endpoint(
        name="serving_default", fn=serve, input_signature=[tf.TensorSpec(shape=(None, width), dtype=tf.float32, name="inputs")]
    )
    archive.write_out(str(directory / "1"), verbose=False)


def main(argv=None) -> int:
    args = parse_args(argv)
    scaler = read_scaler(args.scaler)
    features, mean, scale = scaler["features"], scaler["mean"], scaler["scale"]
    x_train, y_train = read_split(args.train, "train", features)
    x_val, y_val = read_split(args.validation, "validation", features)
    hidden = [int(u) for u in args.hidden_units.split(",") if u.strip()]
    # After the data is read: a channel that is not wired fails at once, not after TensorFlow's
    # import (about 4 s of CPU).
    import tensorflow as tf
    from tensorflow import keras

    tf.config.experimental.enable_op_determinism()
    models, histories = [], []
    started = time.perf_counter()
    for member in range(max(1, args.ensemble)):
        keras.utils.set_random_seed(args.seed + member)
        model = build_model(keras, mean, scale, hidden, args.learning_rate)
        callbacks = [keras.callbacks.EarlyStopping(monitor="val_loss", patience=args.patience, restore_best_weights=True)]
        if args.lr_patience:
            callbacks.append(keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=args.lr_patience, min_lr=1e-5))
        fitted = model.fit(
            x_train,
            y_train,
            validation_data=(x_val, y_val),
            epochs=args.epochs,
            batch_size=args.batch_size,
            callbacks=callbacks,
            verbose=2,
            shuffle=True,
        )
        models.append(model)
        histories.append(fitted.history)
    seconds = time.perf_counter() - started
    history = histories[0]
    best = int(np.argmin(history["val_loss"]))
    predictions = np.mean([m.predict(x_val, verbose=0).reshape(-1) for m in models], axis=0)
    val_mse = float(np.mean((predictions - y_val) ** 2))
    model_dir = Path(args.sm_model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    export(models, tf, keras, model_dir, scaler)
    out = Path(args.output_data_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = {
        "features": features,
        "networks": len(models),
        "epochs_run": sum(len(h["loss"]) for h in histories),
        "best_epoch": best + 1,
        "best_val_mse": val_mse,
        "train_seconds": round(seconds, 2),
        "hyperparameters": {
            k: v
            for k, v in vars(args).items()
            if k in ("epochs", "batch_size", "learning_rate", "hidden_units", "patience", "lr_patience", "seed", "ensemble")
        },
        "history": {k: [float(v) for v in vals] for k, vals in history.items() if k != "learning_rate"},
    }
    (out / "training_history.json").write_text(json.dumps(summary, indent=2))
    # A line the SageMaker console can scrape as a metric (metric_definitions).
    print(f"validation_mse={summary['best_val_mse']:.6f}; epochs_run={summary['epochs_run']}; seconds={seconds:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
