"""What SageMaker's built-in XGBoost algorithm does, by container version: AWS's documented facts.

Sources (SageMaker developer guide):

- "XGBoost algorithm with Amazon SageMaker AI" (https://docs.aws.amazon.com/sagemaker/latest/dg/xgboost.html):
  the model is saved in `model.tar.gz` as `xgboost-model`. Containers up to 1.2 "use the Python
  pickle module to serialize/deserialize the model" (`pkl.load(open("xgboost-model", "rb"))`);
  from 1.3-1 on the model is written with XGBoost's own `Booster.save_model`, read back with
  `xgb.Booster(); model.load_model("xgboost-model")`. Inference takes text/csv (the default) or
  text/libsvm; training text/libsvm or text/csv (label first, no header).
- "Tune an XGBoost model" (https://docs.aws.amazon.com/sagemaker/latest/dg/xgboost-tuning.html),
  table "Evaluation metrics computed by the XGBoost algorithm": the objective metrics a tuning job
  may name, with their direction. The container emits each for the `train` channel too
  (`train:<metric>`), read from its per-round log line `[N]#011train-<m>:<v>#011validation-<m>:<v>`.
"""

from __future__ import annotations

import re

from sagespec.aws import images

# (first container version, artifact format): the last entry whose version <= the image's applies.
ARTIFACT_FORMATS: tuple[tuple[tuple[int, int], str], ...] = (
    ((0, 0), "pickle"),  # 0.72 (tag 1), 0.90-1 .. 1.2-2: pickle.dump(booster)
    ((1, 3), "xgboost"),  # 1.3-1 on: booster.save_model("xgboost-model")
)
MODEL_FILE = "xgboost-model"

# "Tune an XGBoost model", Evaluation metrics computed by the XGBoost algorithm: name -> direction.
OBJECTIVE_METRICS: dict[str, str] = {
    "accuracy": "Maximize",
    "auc": "Maximize",
    "error": "Minimize",
    "f1": "Maximize",
    "logloss": "Minimize",
    "mae": "Minimize",
    "map": "Maximize",
    "merror": "Minimize",
    "mlogloss": "Minimize",
    "mse": "Minimize",
    "ndcg": "Maximize",
    "rmse": "Minimize",
}
CHANNELS = ("train", "validation")

# The three metrics the container computes itself; the rest are XGBoost's own eval_metric values.
CONTAINER_METRICS = ("accuracy", "f1", "mse")

# "XGBoost algorithm ...", Input/Output interface: inference ContentType text/libsvm or text/csv (default).
INFERENCE_CONTENT_TYPES = ("text/csv", "text/libsvm")

_NUMBER = r"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"
_VERSION = re.compile(r"^(\d+)\.(\d+)-\d+")


# "XGBoost Version 0.72" (deprecated versions of XGBoost): the first algorithm's image is tagged `1`.
LEGACY_TAGS = {"1": (0, 72)}


def tag_version(tag: str) -> tuple[int, int] | None:
    """(major, minor) of an image tag such as `1.7-1` or `1.0-1-cpu-py3`; None for a digest or `latest`."""
    if tag in LEGACY_TAGS:
        return LEGACY_TAGS[tag]
    match = _VERSION.match(tag)
    return (int(match[1]), int(match[2])) if match else None


def container_version(image: str) -> tuple[int, int] | None:
    """The version of an algorithm image URI, by its tag."""
    parsed = images.parse(image)
    return tag_version(parsed.tag) if parsed else None


def artifact_format(version: tuple[int, int] | None) -> str:
    """How the container of that version writes `xgboost-model`; an unknown version is the newest's."""
    if version is None:
        return ARTIFACT_FORMATS[-1][1]
    return [fmt for first, fmt in ARTIFACT_FORMATS if first <= version][-1]


def metric_definitions() -> list[dict[str, str]]:
    """Every documented metric of both channels as MetricDefinitions over the container's log lines."""
    return [
        {"Name": f"{channel}:{metric}", "Regex": rf".*\[[0-9]+\].*#011{channel}-{metric}:{_NUMBER}"}
        for channel in CHANNELS
        for metric in OBJECTIVE_METRICS
    ]


def is_metric(name: str) -> bool:
    channel, _, metric = name.partition(":")
    return channel in CHANNELS and metric in OBJECTIVE_METRICS
