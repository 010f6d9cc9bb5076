"""The QA test of an endpoint: the test split through the endpoint, its MSE against the registered one.

Every production variant is tested on its own (InvokeEndpoint's TargetVariant), against the
model-quality metric registered with its version. In the QA account a pass is recorded on the
version (a `qa-test` deployment record, StageStatus TestPassed), which is what prod promotion
asks for.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sagespec.diagnostics import UserError
from sagespec.hosting import variant_version
from sagespec.registry import Deployment, package_arn

BATCH_ROWS = 1000


@dataclass
class VariantResult:
    variant: str
    version: int
    package_arn: str
    rows: int
    mse_endpoint: float
    mse_registered: float
    tolerance: float

    @property
    def difference(self) -> float:
        return abs(self.mse_endpoint - self.mse_registered) / self.mse_registered if self.mse_registered else float("inf")

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


def registered_mse(package, read) -> float:
    uri = (((package.model_metrics or {}).get("ModelQuality") or {}).get("Statistics") or {}).get("S3Uri")
    if not uri:
        raise UserError("E7006", f"{package.arn} has no registered model-quality metrics to compare with")
    try:
        return float(json.loads(read(uri))["regression_metrics"]["mse"]["value"])
    except (ValueError, KeyError, TypeError):
        raise UserError("E7006", f"{uri} has no regression_metrics.mse.value") from None


def test_endpoint(hosting, registry, read, endpoint: str, data_uri: str, group_arn: str, tolerance: float) -> list[VariantResult]:
    described = hosting.describe_endpoint(endpoint)
    if described is None:
        raise UserError("E6005", f"endpoint {endpoint} does not exist in account {hosting.account}")
    features, targets = split_rows(read(data_uri).decode("utf-8"), data_uri)
    results = []
    for variant in described["ProductionVariants"]:
        version = variant_version(variant["VariantName"])
        package = registry.describe(package_arn(group_arn, version))
        predictions: list[float] = []
        for start in range(0, len(features), BATCH_ROWS):
            body = "\n".join(features[start : start + BATCH_ROWS]).encode()
            _, answer = hosting.invoke(endpoint, body, "text/csv", variant["VariantName"])
            predictions += [p[0] if isinstance(p, list) else p for p in json.loads(answer)["predictions"]]
        if len(predictions) != len(targets):
            raise UserError("E7006", f"{endpoint} returned {len(predictions)} predictions for {len(targets)} rows")
        mse = sum((p - t) ** 2 for p, t in zip(predictions, targets)) / len(targets)
        results.append(
            VariantResult(variant["VariantName"], version, package.arn, len(targets), mse, registered_mse(package, read), tolerance)
        )
    return results


def record(registry, results: list[VariantResult], group_arn: str, account_id: str, endpoint: str, data_uri: str) -> None:
    """Mark each tested version QA-passed or failed (QA account only)."""
    for r in results:
        outcome = "Passed" if r.passed else "Failed"
        registry.set_stage(
            r.package_arn,
            "QA",
            "TestPassed" if r.passed else "TestFailed",
            f"endpoint MSE {r.mse_endpoint:.6g} vs registered {r.mse_registered:.6g} on {r.rows} rows",
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
                    "mse_endpoint": r.mse_endpoint,
                    "mse_registered": r.mse_registered,
                    "rows": r.rows,
                    "tolerance": r.tolerance,
                    "data": data_uri,
                },
            )
        )


def test_data(backends, described: dict, group_arn: str, data: str | None) -> str:
    """The test split to send: `data` when given, else (locally) the one of the execution that
    produced the version the endpoint's first variant serves, found through lineage."""
    if data:
        return data
    version = variant_version(described["ProductionVariants"][0]["VariantName"])
    uri = backends.test_data_for(backends.registry.describe(package_arn(group_arn, version)))
    if uri is None:
        raise UserError("E7006", f"cannot find the test split of version {version}", hint="pass --data URI|FILE", exit_code=2)
    return uri
