"""The QA test of an endpoint: the test split through the endpoint, its metric against the registered one.

Every production variant is tested on its own (InvokeEndpoint's TargetVariant), against the
model-quality metric registered with its version: the first of METRICS its statistics file has
(SageMaker's model-quality JSON: regression_metrics, binary_classification_metrics,
multiclass_classification_metrics; "Model quality metrics and monitoring", SageMaker developer
guide). Predictions are read as the serving containers answer: TensorFlow Serving's
{"predictions": [...]} or the inference toolkit's JSON array; a row's prediction is a number, a
one-element list, or (for classification) class probabilities. In the QA account a pass is recorded on the
version (a `qa-test` deployment record, StageStatus TestPassed), which is what prod promotion
asks for.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sagespec.backends.names import package_arn, variant_version
from sagespec.backends.records import Deployment
from sagespec.diagnostics import UserError

if TYPE_CHECKING:
    from sagespec.backends.protocols import Hosting, Registry
    from sagespec.backends.records import ModelPackage
    from sagespec.workflows.promotion.services import Services

# An object by its S3 URI, or a file on this machine (Services.read).
Read = Callable[[str], bytes]

BATCH_ROWS = 1000


# (section, metric) of the statistics file, in the order looked for; how to score predictions.
METRICS = (
    ("regression_metrics", "mse"),
    ("binary_classification_metrics", "accuracy"),
    ("multiclass_classification_metrics", "accuracy"),
)


@dataclass
class VariantResult:
    variant: str
    version: int
    package_arn: str
    rows: int
    endpoint_value: float
    registered_value: float
    tolerance: float
    metric: str = "mse"

    @property
    def difference(self) -> float:
        if self.registered_value:
            return abs(self.endpoint_value - self.registered_value) / abs(self.registered_value)
        return 0.0 if self.endpoint_value == self.registered_value else float("inf")

    @property
    def passed(self) -> bool:
        return self.difference <= self.tolerance


def split_rows(text: str, source: str) -> tuple[list[str], list[float]]:
    """Feature lines (as sent, without the target) and targets of a test.csv: header, then target first."""
    features, targets = [], []
    for number, line in enumerate(text.splitlines()[1:], 2):
        if not line.strip():
            continue
        target, _, rest = line.partition(",")
        try:
            targets.append(float(target))
        except ValueError:
            raise UserError("E7006", f"{source} line {number}: the first column (the target) is not a number") from None
        features.append(rest)
    if not features:
        raise UserError("E7006", f"{source} has no rows after its header")
    return features, targets


def registered_metric(package: ModelPackage, read: Read) -> tuple[str, float]:
    """(section.metric, value) of the model-quality statistics registered with a version."""
    uri = (((package.model_metrics or {}).get("ModelQuality") or {}).get("Statistics") or {}).get("S3Uri")
    if not uri:
        raise UserError("E7006", f"{package.arn} has no registered model-quality metrics to compare with")
    try:
        report = json.loads(read(uri))
    except ValueError:
        raise UserError("E7006", f"{uri} is not JSON") from None
    for section, metric in METRICS:
        try:
            return f"{section}.{metric}", float(report[section][metric]["value"])
        except (KeyError, TypeError, ValueError):
            continue
    looked = ", ".join(f"{s}.{m}.value" for s, m in METRICS)
    raise UserError("E7006", f"{uri} has none of the metrics an endpoint test compares: {looked}")


def predictions_of(answer: bytes, endpoint: str) -> list[Any]:
    try:
        data = json.loads(answer)
    except ValueError:
        raise UserError("E7006", f"{endpoint} answered something that is not JSON: {answer[:80]!r}") from None
    if isinstance(data, dict):
        data = data.get("predictions")
    if not isinstance(data, list):
        raise UserError("E7006", f'{endpoint} answered JSON that is neither a list nor {{"predictions": [...]}}')
    return data


def score(metric: str, predictions: list[Any], targets: list[float]) -> float:
    """The metric of predictions against targets, computed as the evaluation step would."""
    if metric == "regression_metrics.mse":
        values = [_number(p[0] if isinstance(p, list) and len(p) == 1 else p) for p in predictions]
        return sum((p - t) ** 2 for p, t in zip(values, targets)) / len(targets)
    labels = [_label(p) for p in predictions]
    return sum(1 for p, t in zip(labels, targets) if p == int(t)) / len(targets)


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UserError("E7006", f"a prediction is not a number: {str(value)[:80]}")
    return float(value)


def _label(prediction: object) -> int:
    """A class label from a label, a probability of the positive class, or class probabilities."""
    if isinstance(prediction, list):
        if len(prediction) == 1:
            return _label(prediction[0])
        values = [_number(v) for v in prediction]
        return values.index(max(values))
    value = _number(prediction)
    return int(value) if value.is_integer() else int(value >= 0.5)


def test_endpoint(
    hosting: Hosting, registry: Registry, read: Read, endpoint: str, data_uri: str, group_arn: str, tolerance: float
) -> list[VariantResult]:
    described = hosting.describe_endpoint(endpoint)
    if described is None:
        raise UserError("E6005", f"endpoint {endpoint} does not exist in account {hosting.account}")
    features, targets = split_rows(read(data_uri).decode("utf-8"), data_uri)
    results = []
    for variant in described["ProductionVariants"]:
        version = variant_version(variant["VariantName"])
        package = registry.describe(package_arn(group_arn, version))
        metric, registered = registered_metric(package, read)
        predictions: list[Any] = []
        for start in range(0, len(features), BATCH_ROWS):
            body = "\n".join(features[start : start + BATCH_ROWS]).encode()
            _, answer = hosting.invoke(endpoint, body, "text/csv", variant["VariantName"])
            predictions += predictions_of(answer, endpoint)
        if len(predictions) != len(targets):
            raise UserError("E7006", f"{endpoint} returned {len(predictions)} predictions for {len(targets)} rows")
        value = score(metric, predictions, targets)
        results.append(VariantResult(variant["VariantName"], version, package.arn, len(targets), value, registered, tolerance, metric))
    return results


def record(registry: Registry, results: list[VariantResult], group_arn: str, account_id: str, endpoint: str, data_uri: str) -> None:
    """Mark each tested version QA-passed or failed (QA account only)."""
    for r in results:
        outcome = "Passed" if r.passed else "Failed"
        registry.set_stage(
            r.package_arn,
            "QA",
            "TestPassed" if r.passed else "TestFailed",
            f"endpoint {r.metric} {r.endpoint_value:.6g} vs registered {r.registered_value:.6g} on {r.rows} rows",
        )
        registry.record_deployment(
            Deployment(
                group_arn,
                "qa",
                "qa-test",
                r.version,
                r.package_arn,
                account_id,
                endpoint,
                None,
                [{"name": r.variant, "version": r.version, "weight": None}],
                None,
                outcome,
                {
                    "metric": r.metric,
                    "endpoint": r.endpoint_value,
                    "registered": r.registered_value,
                    "rows": r.rows,
                    "tolerance": r.tolerance,
                    "data": data_uri,
                },
            )
        )


def test_data(backends: Services, described: dict[str, Any], group_arn: str, data: str | None) -> str:
    """The test split to send: `data` when given, else (locally) the one of the execution that
    produced the version the endpoint's first variant serves, found through lineage."""
    if data:
        return data
    version = variant_version(described["ProductionVariants"][0]["VariantName"])
    uri = backends.test_data_for(backends.registry.describe(package_arn(group_arn, version)))
    if uri is None:
        raise UserError("E7006", f"cannot find the test split of version {version}", hint="pass --data URI|FILE", exit_code=2)
    return uri
