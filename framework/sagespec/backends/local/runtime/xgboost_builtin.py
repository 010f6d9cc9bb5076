"""SageMaker's built-in XGBoost algorithm, run here: `python -m sagespec.backends.local.runtime.xgboost_builtin`.

What the algorithm container does with a training job ("XGBoost algorithm", SageMaker developer
guide; sagemaker-xgboost-container): channels `train` and optionally `validation` of CSV with the
label in the first column and no header (text/csv), or LIBSVM; hyperparameters as the job's
HyperParameters (num_round is the number of boosting rounds, early_stopping_rounds needs a
validation channel, the rest are XGBoost's parameters); evaluation printed each round as
`[N]#011train-<metric>:<value>#011validation-<metric>:<value>` (how the container's log reads in
CloudWatch); the booster saved as `xgboost-model` in SM_MODEL_DIR. This machine's xgboost writes
that file in its own default format (UBJSON), loadable with `xgboost.Booster(model_file=...)`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

# Keys the container reads itself rather than passing to xgboost.train's params.
ROUNDS, EARLY_STOPPING = "num_round", "early_stopping_rounds"


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hyperparameters", required=True, help="JSON object of the job's HyperParameters")
    parser.add_argument("--content-type", default="text/csv")
    args = parser.parse_args(argv)
    if not INSTALLED:
        print("the xgboost library is not installed: pip install 'sagespec[local]' (it brings xgboost-cpu)", file=sys.stderr)
        return 2
    hyperparameters = {k: _number(str(v)) for k, v in json.loads(args.hyperparameters).items()}
    rounds = int(hyperparameters.pop(ROUNDS))
    early = hyperparameters.pop(EARLY_STOPPING, None)
    channels = {
        name: Path(os.environ[f"SM_CHANNEL_{name.upper()}"])
        for name in ("train", "validation")
        if f"SM_CHANNEL_{name.upper()}" in os.environ
    }
    evals = [(_matrix(path, args.content_type), name) for name, path in channels.items()]
    booster = xgb.train(
        hyperparameters,
        evals[0][0],
        num_boost_round=rounds,
        evals=evals,
        early_stopping_rounds=int(early) if early is not None and len(evals) > 1 else None,
        verbose_eval=False,
        callbacks=[_ContainerLog().callback],
    )
    booster.save_model(str(Path(os.environ["SM_MODEL_DIR"]) / "xgboost-model"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
