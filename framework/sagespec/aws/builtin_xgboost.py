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

# The hyperparameters each container version accepts, as the container itself validates them
# (aws/sagemaker-xgboost-container, the branch of each version,
# src/sagemaker_xgboost_container/algorithm_mode/hyperparameter_validation.py; the developer
# guide's "XGBoost hyperparameters" page lists the newest version's). The first version's whole
# set, then what each later version added and removed: `silent` is taken up to 1.0-1 (XGBoost 1.0
# deprecated it for `verbosity`), refused from 1.2-1. 0.72 (tag 1) is taken as 0.90-1.
_FIRST = """_tuning_objective_metric alpha base_score booster colsample_bylevel colsample_bynode colsample_bytree
    csv_weights dsplit early_stopping_rounds eta eval_metric gamma grow_policy lambda lambda_bias max_bin
    max_delta_step max_depth max_leaves min_child_weight normalize_type nthread num_class num_round objective
    one_drop predictor process_type rate_drop refresh_leaf sample_type scale_pos_weight seed silent sketch_eps
    skip_drop subsample tree_method tweedie_variance_power updater verbosity"""
HYPERPARAMETER_CHANGES: tuple[tuple[tuple[int, int, int], str, str], ...] = (
    # (container version, added, removed)
    ((0, 90, 1), _FIRST, ""),
    ((0, 90, 2), "num_parallel_tree", ""),
    ((1, 0, 1), "interaction_constraints monotone_constraints save_model_on_termination", ""),
    ((1, 2, 1), "_nfold aft_loss_distribution aft_loss_distribution_scale deterministic_histogram single_precision_histogram", "silent"),
    ((1, 2, 2), "_kfold _num_cv_round", "_nfold"),
    ((1, 3, 1), "prob_buffer_row sampling_method", ""),
    ((1, 5, 1), "use_dask_gpu_training", ""),
    ((1, 7, 1), "", "single_precision_histogram"),
    # 3.0-5: as 1.7-1
)
# A container version or image tag: 1.0-1, 1.7-1-cpu-py3 (major, minor, revision).
_VERSION = re.compile(r"^(\d+)\.(\d+)-(\d+)")


def versions() -> list[str]:
    """The container versions of the hyperparameter table, oldest first."""
    return [f"{major}.{minor}-{revision}" for (major, minor, revision), _, _ in HYPERPARAMETER_CHANGES]


def hyperparameters(version: str | None) -> frozenset[str]:
    """What the container of `version` (a framework_version or image tag: 1.0-1, 1.7-1-cpu-py3)
    accepts; an unknown or absent version: the newest's."""
    match = _VERSION.match(version or "")
    wanted = (int(match[1]), int(match[2]), int(match[3])) if match else (0, 72, 0) if version in LEGACY_TAGS else (99, 0, 0)
    names: set[str] = set()
    for first, added, removed in HYPERPARAMETER_CHANGES:
        if first > wanted and names:
            break
        names = (names | set(added.split())) - set(removed.split())
    return frozenset(names)


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
