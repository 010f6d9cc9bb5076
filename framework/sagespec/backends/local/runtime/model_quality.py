"""Model Monitor's model quality analysis (analysis_type MODEL_QUALITY): the metrics of
predictions against ground truth, the constraints suggested from them, and the violations of a
baseline's, in the formats of "Model quality metrics and Amazon CloudWatch monitoring"
(regression_metrics, binary_classification_metrics, multiclass_classification_metrics, each
metric a value and its standard_deviation; *_constraints with a threshold and a comparison
operator). The standard deviation comes from seeded bootstrap resamples (the container's method
is not published).
"""

from __future__ import annotations

import math
import random
from typing import Any

BOOTSTRAP_RESAMPLES = 20


class AnalysisError(Exception):
    """What the container would fail the job with (a ClientError)."""


REGRESSION_WORSE_WHEN_GREATER = ("mae", "mse", "rmse")


def _column(names: list[str], rows: list[list[str | None]], attribute: str, what: str) -> list[str | None]:
    if attribute not in names:
        raise AnalysisError(f"{what} {attribute!r} is not a column of the dataset ({', '.join(names)})")
    index = names.index(attribute)
    return [r[index] for r in rows]


def _regression(truth: list[float], predicted: list[float]) -> dict[str, float]:
    n = len(truth)
    errors = [p - t for t, p in zip(truth, predicted)]
    mae = sum(abs(e) for e in errors) / n
    mse = sum(e * e for e in errors) / n
    mean = sum(truth) / n
    total = sum((t - mean) ** 2 for t in truth)
    return {"mae": mae, "mse": mse, "rmse": math.sqrt(mse), "r2": 1 - sum(e * e for e in errors) / total if total else 0.0}


def _binary(truth: list[int], predicted: list[int], probability: list[float] | None) -> dict[str, float]:
    tp = sum(1 for t, p in zip(truth, predicted) if t == 1 and p == 1)
    tn = sum(1 for t, p in zip(truth, predicted) if t == 0 and p == 0)
    fp = sum(1 for t, p in zip(truth, predicted) if t == 0 and p == 1)
    fn = sum(1 for t, p in zip(truth, predicted) if t == 1 and p == 0)

    def ratio(a: float, b: float) -> float:
        return a / b if b else 0.0

    precision, recall = ratio(tp, tp + fp), ratio(tp, tp + fn)

    def f_beta(beta: float) -> float:
        return ratio((1 + beta * beta) * precision * recall, beta * beta * precision + recall)

    metrics = {
        "accuracy": ratio(tp + tn, len(truth)),
        "precision": precision,
        "recall": recall,
        "f0_5": f_beta(0.5),
        "f1": f_beta(1),
        "f2": f_beta(2),
        "true_positive_rate": recall,
        "true_negative_rate": ratio(tn, tn + fp),
        "false_positive_rate": ratio(fp, fp + tn),
        "false_negative_rate": ratio(fn, fn + tp),
    }
    if probability is not None:
        metrics["auc"] = _auc(truth, probability)
    return metrics


def _auc(truth: list[int], scores: list[float]) -> float:
    """Area under the ROC curve: the chance a positive scores above a negative (ties count half)."""
    ranked = sorted(zip(scores, truth))
    positives = sum(truth)
    negatives = len(truth) - positives
    if not positives or not negatives:
        return 0.0
    rank_sum, i = 0.0, 0
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        average_rank = (i + 1 + j) / 2
        rank_sum += average_rank * sum(t for _, t in ranked[i:j])
        i = j
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def _multiclass(truth: list[str], predicted: list[str]) -> dict[str, float]:
    labels = sorted(set(truth) | set(predicted))
    weighted = {"weighted_precision": 0.0, "weighted_recall": 0.0, "weighted_f1": 0.0}
    for label in labels:
        tp = sum(1 for t, p in zip(truth, predicted) if t == label and p == label)
        support = sum(1 for t in truth if t == label)
        guessed = sum(1 for p in predicted if p == label)
        precision = tp / guessed if guessed else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        for key, value in (("weighted_precision", precision), ("weighted_recall", recall), ("weighted_f1", f1)):
            weighted[key] += value * support / len(truth)
    return {"accuracy": sum(1 for t, p in zip(truth, predicted) if t == p) / len(truth), **weighted}


def model_statistics(names: list[str], rows: list[list[str | None]], env: dict[str, str]) -> dict[str, Any]:
    problem = env.get("problem_type", "")
    truth_column = _column(names, rows, env.get("ground_truth_attribute", ""), "ground_truth_attribute")
    inference = env.get("inference_attribute")
    probability_name = env.get("probability_attribute")
    if not inference and not probability_name:
        raise AnalysisError("a model quality check needs inference_attribute or probability_attribute")
    predicted_column = _column(names, rows, inference, "inference_attribute") if inference else None
    probability_column = _column(names, rows, probability_name, "probability_attribute") if probability_name else None
    # A record counts when it has the ground truth and the predictions the problem reads: a binary
    # classification also reads the probability when it is named (it makes the AUC).
    read = [predicted_column or probability_column]
    if problem == "BinaryClassification" and probability_column is not None:
        read.append(probability_column)
    keep = [i for i in range(len(rows)) if truth_column[i] is not None and all(c is not None and c[i] is not None for c in read)]
    if not keep:
        raise AnalysisError("no record has both a ground truth and a prediction")

    def present(column: list[str | None] | None, indexes: list[int], attribute: str) -> list[str]:
        """The column's values of the kept records (each has one)."""
        if column is None:
            raise AnalysisError(f"problem_type {problem} needs {attribute}")
        return [value for value in (column[i] for i in indexes) if value is not None]

    def compute(indexes: list[int]) -> dict[str, float]:
        truth = present(truth_column, indexes, "ground_truth_attribute")
        if problem == "Regression":
            return _regression([float(t) for t in truth], [float(p) for p in present(predicted_column, indexes, "inference_attribute")])
        if problem == "BinaryClassification":
            threshold = float(env.get("probability_threshold_attribute") or 0.5)
            probability = [float(p) for p in present(probability_column, indexes, "probability_attribute")] if probability_column else None
            predicted = (
                [int(float(p)) for p in present(predicted_column, indexes, "inference_attribute")]
                if predicted_column or probability is None
                else [int(p >= threshold) for p in probability]
            )
            return _binary([int(float(t)) for t in truth], predicted, probability)
        if problem == "MulticlassClassification":
            return _multiclass(truth, present(predicted_column, indexes, "inference_attribute"))
        raise AnalysisError(f"problem_type {problem!r}: Regression, BinaryClassification or MulticlassClassification")

    values = compute(keep)
    sampler = random.Random(0)
    resamples = [compute([sampler.choice(keep) for _ in keep]) for _ in range(BOOTSTRAP_RESAMPLES)]
    section = {
        "Regression": "regression_metrics",
        "BinaryClassification": "binary_classification_metrics",
        "MulticlassClassification": "multiclass_classification_metrics",
    }[problem]
    metrics: dict[str, dict[str, float]] = {}
    for name, value in values.items():
        spread = [r[name] for r in resamples]
        mean = sum(spread) / len(spread)
        metrics[name] = {"value": value, "standard_deviation": math.sqrt(sum((s - mean) ** 2 for s in spread) / len(spread))}
    return {"version": 0.0, "dataset": {"item_count": len(keep)}, section: metrics}


def model_constraints(statistics: dict[str, Any]) -> dict[str, Any]:
    section = next(k for k in statistics if k.endswith("_metrics"))
    constraints: dict[str, dict[str, Any]] = {}
    for name, metric in statistics[section].items():
        worse_when_greater = name in REGRESSION_WORSE_WHEN_GREATER or name.startswith("false_")
        constraints[name] = {
            "threshold": metric["value"],
            "comparison_operator": "GreaterThanThreshold" if worse_when_greater else "LessThanThreshold",
        }
    return {"version": 0.0, section.replace("_metrics", "_constraints"): constraints}


def model_violations(statistics: dict[str, Any], baseline_constraints: dict[str, Any]) -> list[dict[str, Any]]:
    section = next(k for k in statistics if k.endswith("_metrics"))
    found = []
    for name, rule in (baseline_constraints.get(section.replace("_metrics", "_constraints")) or {}).items():
        metric = statistics[section].get(name)
        if metric is None:
            continue
        worse = (
            metric["value"] > rule["threshold"]
            if rule["comparison_operator"] == "GreaterThanThreshold"
            else metric["value"] < rule["threshold"]
        )
        if worse:
            found.append(
                {
                    "metric_name": name,
                    "constraint_check_type": rule["comparison_operator"],
                    "description": f"Metric {name} with {metric['value']:.4g} +/- {metric['standard_deviation']:.4g} was {rule['comparison_operator']} '{rule['threshold']:.4g}'",
                }
            )
    return found
