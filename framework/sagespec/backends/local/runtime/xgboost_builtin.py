"""SageMaker's built-in XGBoost algorithm, run here: `python -m sagespec.backends.local.runtime.xgboost_builtin`.

What the algorithm container does with a training job ("XGBoost algorithm", SageMaker developer
guide; sagemaker-xgboost-container): channels `train` and optionally `validation` of CSV with the
label in the first column and no header (text/csv), or LIBSVM; hyperparameters as the job's
HyperParameters (num_round is the number of boosting rounds, early_stopping_rounds needs a
validation channel, the rest are XGBoost's parameters); evaluation printed each round as
`[N]#011train-<metric>:<value>#011validation-<metric>:<value>` (how the container's log reads in
CloudWatch); the booster saved as `xgboost-model` in SM_MODEL_DIR, in the format of the container
version the job names (sagespec.aws.builtin_xgboost.ARTIFACT_FORMATS): a pickle of the Booster up to
1.2, else `Booster.save_model` (this machine's xgboost writes UBJSON; containers 1.3-1 to 2.0-1 wrote
XGBoost's older binary format, read by the same `Booster.load_model`).

`eval_metric` may name several metrics, comma-separated, as the container takes them. Three of the
documented metrics are the container's own, not XGBoost's (accuracy, f1, mse); they are computed
here the way their names say, on the predictions of the objective (a probability above 0.5 is class
1; a multi-class prediction is the class of highest probability).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import sys
from pathlib import Path
from typing import Any

from sagespec.aws.builtin_xgboost import CONTAINER_METRICS

# Keys the container reads itself rather than passing to xgboost.train's params.
ROUNDS, EARLY_STOPPING, EVAL_METRIC = "num_round", "early_stopping_rounds", "eval_metric"


try:
    import numpy as np
    import xgboost as xgb
except ImportError:  # the local extra brings them; main() says so instead of a traceback
    INSTALLED = False
else:
    INSTALLED = True


def _number(text: str) -> int | float | str:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


def _matrix(folder: Path, content_type: str) -> xgb.DMatrix:
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
    if not files:
        raise SystemExit(f"channel {folder.name} is empty")
    if "libsvm" in content_type:
        return xgb.DMatrix(f"{files[0]}?format=libsvm")
    rows = np.vstack([np.loadtxt(f, delimiter=",", ndmin=2) for f in files])
    return xgb.DMatrix(rows[:, 1:], label=rows[:, 0])


class _ContainerLog:
    """xgboost's per-round evaluation, written the way the algorithm container's log shows it."""

    def __init__(self) -> None:
        class Callback(xgb.callback.TrainingCallback):
            def after_iteration(self, model: Any, epoch: int, evals_log: xgb.callback.TrainingCallback.EvalsLog) -> bool:
                parts = [f"[{epoch}]"]
                for data, metrics in evals_log.items():
                    parts += [f"{data}-{name}:{values[-1]:.5f}" for name, values in metrics.items()]
                print("#011".join(parts), flush=True)
                return False

        self.callback = Callback()


def _classes(predictions: Any, objective: str) -> Any:
    if predictions.ndim > 1:  # multi:softprob: one probability per class
        return predictions.argmax(axis=1)
    if objective == "multi:softmax":  # the class itself
        return predictions.astype(int)
    return (predictions > 0.5).astype(int)


def _container_metrics(names: list[str], objective: str) -> Any:
    """xgboost's custom_metric computing the container's own metrics, in the order they were asked."""

    def evaluate(predictions: Any, data: xgb.DMatrix) -> list[tuple[str, float]]:
        labels = data.get_label()
        found = []
        for name in names:
            if name == "mse":
                found.append((name, float(np.mean((predictions - labels) ** 2))))
            elif name == "accuracy":
                found.append((name, float(np.mean(_classes(predictions, objective) == labels))))
            else:  # f1 of the positive class
                predicted = _classes(predictions, objective)
                true_positive = float(np.sum((predicted == 1) & (labels == 1)))
                denominator = float(np.sum(predicted == 1) + np.sum(labels == 1))
                found.append((name, 2 * true_positive / denominator if denominator else 0.0))
        return found

    return evaluate


def _save(booster: xgb.Booster, path: Path, artifact_format: str) -> None:
    if artifact_format == "pickle":
        with open(path, "wb") as handle:
            pickle.dump(booster, handle)
    else:  # save_model's own choice for a name without extension (UBJSON), without its warning in the job's log
        path.write_bytes(booster.save_raw("ubj"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hyperparameters", required=True, help="JSON object of the job's HyperParameters")
    parser.add_argument("--content-type", default="text/csv")
    parser.add_argument("--artifact-format", choices=("pickle", "xgboost"), default="xgboost")
    args = parser.parse_args(argv)
    if not INSTALLED:
        print("the xgboost library is not installed: pip install 'sagespec[local]' (it brings xgboost-cpu)", file=sys.stderr)
        return 2
    hyperparameters: dict[str, Any] = {k: _number(str(v)) for k, v in json.loads(args.hyperparameters).items()}
    rounds = int(hyperparameters.pop(ROUNDS))
    early = hyperparameters.pop(EARLY_STOPPING, None)
    asked = [m.strip() for m in str(hyperparameters.pop(EVAL_METRIC, "")).split(",") if m.strip()]
    if [m for m in asked if m not in CONTAINER_METRICS]:
        hyperparameters[EVAL_METRIC] = [m for m in asked if m not in CONTAINER_METRICS]
    ours = [m for m in asked if m in CONTAINER_METRICS]
    channels = {
        name: Path(os.environ[f"SM_CHANNEL_{name.upper()}"])
        for name in ("train", "validation")
        if f"SM_CHANNEL_{name.upper()}" in os.environ
    }
    evals = [(_matrix(path, args.content_type), name) for name, path in channels.items()]
    booster = xgb.train(
        hyperparameters | ({"disable_default_eval_metric": 1} if ours and EVAL_METRIC not in hyperparameters else {}),
        evals[0][0],
        num_boost_round=rounds,
        evals=evals,
        early_stopping_rounds=int(early) if early is not None and len(evals) > 1 else None,
        verbose_eval=False,
        callbacks=[_ContainerLog().callback],
        custom_metric=_container_metrics(ours, str(hyperparameters.get("objective", ""))) if ours else None,
    )
    _save(booster, Path(os.environ["SM_MODEL_DIR"]) / "xgboost-model", args.artifact_format)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
