"""The local equivalent of SageMaker Model Monitor's analyzer image (sagemaker-model-monitor-analyzer),
which a QualityCheck step runs as a processing job.

It reads what the container reads, from the same environment variables (`dataset_format`,
`dataset_source`, `output_path`, `analysis_type`, `problem_type`, `inference_attribute`,
`probability_attribute`, `ground_truth_attribute`, `probability_threshold_attribute`,
`baseline_statistics`, `baseline_constraints`), and writes `statistics.json`, `constraints.json`
and, when it checks against a baseline, `constraint_violations.json`, in the formats the
Developer Guide documents ("Schema for Statistics", "Schema for Constraints", "Schema for
Violations", "Model quality metrics"). Headerless CSV columns are named `_c0`, `_c1`, ... as the
container names them. Distributions are KLL sketches from Apache DataSketches (k = 2048, the
container's parameters) materialized in 10 buckets.

What differs from the container, by design or for lack of its source: the drift distance is the
L-infinity distance between the baseline's and the dataset's CDFs at the baseline's 10 bucket
edges (the container's "Robust" method is not published); a model quality metric's
`standard_deviation` comes from 20 seeded bootstrap resamples (sagespec.backends.local.runtime.model_quality).
"""

from __future__ import annotations

import csv
import json
import math
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from datasketches import kll_floats_sketch

from sagespec.backends.local.runtime.model_quality import AnalysisError, model_constraints, model_statistics, model_violations

SKETCH_K = 2048
SKETCH_C = 0.64
BUCKETS = 10
DOMAIN_LIMIT = 20  # distinct values up to which a string feature's constraints list its domain
MONITORING_CONFIG = {
    "evaluate_constraints": "Enabled",
    "emit_metrics": "Enabled",
    "datatype_check_threshold": 1.0,
    "domain_content_threshold": 1.0,
    "distribution_constraints": {"perform_comparison": "Enabled", "comparison_threshold": 0.1, "comparison_method": "Robust"},
}


# -- reading the dataset -------------------------------------------------------------------------
def read_rows(source: Path, dataset_format: dict[str, Any]) -> tuple[list[str], list[list[str | None]]]:
    files = sorted(p for p in source.rglob("*") if p.is_file()) if source.is_dir() else [source]
    if not files:
        raise AnalysisError(f"no data under {source}")
    if "json" in dataset_format:
        records = []
        for path in files:
            text = path.read_text(encoding="utf-8")
            lines = text.splitlines() if dataset_format["json"].get("lines", True) else [text]
            records += [json.loads(line) for line in lines if line.strip()]
        keys = sorted({k for r in records for k in r})
        return keys, [[None if r.get(n) is None else str(r[n]) for n in keys] for r in records]
    if "csv" not in dataset_format:
        raise AnalysisError(f"dataset_format {json.dumps(dataset_format)}: only csv and json are read here")
    header = dataset_format["csv"].get("header", True)
    names: list[str] | None = None
    rows: list[list[str | None]] = []
    for path in files:
        with open(path, newline="", encoding="utf-8") as handle:
            for i, row in enumerate(csv.reader(handle)):
                if header and i == 0:
                    names = names or [c.strip() for c in row]
                    continue
                if row:
                    rows.append([c if c.strip() != "" else None for c in row])
    width = max((len(r) for r in rows), default=len(names or []))
    names = names or [f"_c{i}" for i in range(width)]
    return names, [r + [None] * (len(names) - len(r)) for r in rows]


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def inferred_type(values: list[str]) -> str:
    if not values:
        return "Unknown"
    numbers = [n for n in (_number(v) for v in values) if n is not None]
    if len(numbers) < len(values):
        return "String"
    return "Integral" if all(n.is_integer() and "." not in v and "e" not in v.lower() for n, v in zip(numbers, values)) else "Fractional"


# -- data quality ------------------------------------------------------------------------------------
def _sketch(numbers: list[float]) -> kll_floats_sketch:

    sketch = kll_floats_sketch(SKETCH_K)
    for n in numbers:
        sketch.update(n)
    return sketch


def _kll(numbers: list[float]) -> dict[str, Any]:
    sketch = _sketch(numbers)
    low, high = min(numbers), max(numbers)
    width = (high - low) / BUCKETS or 1.0
    edges = [low + i * width for i in range(BUCKETS)] + [high]
    counts = Counter(min(int((n - low) / width), BUCKETS - 1) for n in numbers)
    buckets = [{"lower_bound": edges[i], "upper_bound": edges[i + 1], "count": float(counts.get(i, 0))} for i in range(BUCKETS)]
    levels: dict[int, list[float]] = {}
    for item, weight in sketch:  # the sketch's retained items, by level (weight 2^level)
        levels.setdefault(int(math.log2(weight)), []).append(item)
    data = [sorted(levels[level]) for level in sorted(levels)]
    return {"buckets": buckets, "sketch": {"parameters": {"c": SKETCH_C, "k": float(SKETCH_K)}, "data": data}}


def data_statistics(names: list[str], rows: list[list[str | None]]) -> dict[str, Any]:
    features = []
    for index, name in enumerate(names):
        present = [v for v in (r[index] for r in rows) if v is not None]
        kind = inferred_type(present)
        common = {"num_present": len(present), "num_missing": len(rows) - len(present)}
        feature: dict[str, Any] = {"name": name, "inferred_type": kind}
        if kind in ("Integral", "Fractional"):
            numbers = [float(v) for v in present]
            mean = sum(numbers) / len(numbers)
            feature["numerical_statistics"] = {
                "common": common,
                "mean": mean,
                "sum": sum(numbers),
                "std_dev": math.sqrt(sum((n - mean) ** 2 for n in numbers) / len(numbers)),
                "min": min(numbers),
                "max": max(numbers),
                "distribution": {"kll": _kll(numbers)},
            }
        else:
            counts = Counter(present)
            feature["string_statistics"] = {
                "common": common,
                "distinct_count": float(len(counts)),
                "distribution": {"categorical": {"buckets": [{"value": v, "count": float(c)} for v, c in counts.most_common()]}},
            }
        features.append(feature)
    return {"version": 0.0, "dataset": {"item_count": len(rows)}, "features": features}


def data_constraints(statistics: dict[str, Any]) -> dict[str, Any]:
    """The constraints the container suggests for a baseline."""
    features = []
    items = statistics["dataset"]["item_count"] or 1
    for feature in statistics["features"]:
        stats = feature.get("numerical_statistics") or feature.get("string_statistics")
        suggested: dict[str, Any] = {
            "name": feature["name"],
            "inferred_type": feature["inferred_type"],
            "completeness": stats["common"]["num_present"] / items,
        }
        if "numerical_statistics" in feature:
            suggested["num_constraints"] = {"is_non_negative": feature["numerical_statistics"]["min"] >= 0}
        elif stats["distinct_count"] <= DOMAIN_LIMIT:
            suggested["string_constraints"] = {"domains": sorted(b["value"] for b in stats["distribution"]["categorical"]["buckets"])}
        features.append(suggested)
    return {"version": 0.0, "features": features, "monitoring_config": MONITORING_CONFIG}


def data_violations(
    names: list[str],
    rows: list[list[str | None]],
    statistics: dict[str, Any],
    baseline_statistics: dict[str, Any] | None,
    baseline_constraints: dict[str, Any],
) -> list[dict[str, Any]]:
    config = {**MONITORING_CONFIG, **(baseline_constraints.get("monitoring_config") or {})}
    if config.get("evaluate_constraints", "Enabled") != "Enabled":
        return []
    found = []
    current = {f["name"]: f for f in statistics["features"]}
    expected = {f["name"]: f for f in baseline_constraints.get("features", [])}
    if len(current) < len(expected):
        found.append(
            _violation(
                "", "missing_column_check", f"There are missing columns: {len(current)} in the dataset, {len(expected)} in the baseline"
            )
        )
    if len(current) > len(expected):
        found.append(
            _violation("", "extra_column_check", f"There are extra columns: {len(current)} in the dataset, {len(expected)} in the baseline")
        )
    items = statistics["dataset"]["item_count"] or 1
    baseline_features = {f["name"]: f for f in (baseline_statistics or {}).get("features", [])}
    for name, constraint in expected.items():
        feature = current.get(name)
        if feature is None:
            continue
        column = [v for v in (r[names.index(name)] for r in rows) if v is not None]
        want = constraint.get("inferred_type")
        if want in ("Integral", "Fractional"):
            matching = sum(1 for v in column if _number(v) is not None and (want == "Fractional" or float(v).is_integer()))
            share = matching / len(column) if column else 1.0
            if share < config["datatype_check_threshold"]:
                found.append(
                    _violation(
                        name,
                        "data_type_check",
                        f"Data type match requirement is not met. Expected data type: {want}, Expected match: {config['datatype_check_threshold'] * 100:g}%. Observed: Only {share * 100:.4g}% of data is {want}.",
                    )
                )
        stats = feature.get("numerical_statistics") or feature.get("string_statistics")
        completeness = stats["common"]["num_present"] / items
        if completeness < constraint.get("completeness", 0):
            found.append(
                _violation(
                    name,
                    "completeness_check",
                    f"Data completeness requirement is not met. Expected: {constraint['completeness']:.4g}. Observed: {completeness:.4g}",
                )
            )
        domains = (constraint.get("string_constraints") or {}).get("domains")
        if domains:
            known = sum(1 for v in column if v in set(domains)) / len(column) if column else 1.0
            if known < config["domain_content_threshold"]:
                found.append(
                    _violation(
                        name,
                        "categorical_values_check",
                        f"Data content requirement is not met. Expected: {config['domain_content_threshold']:g} of values in the baseline's domain. Observed: {known:.4g}",
                    )
                )
        drift = config.get("distribution_constraints") or {}
        base = baseline_features.get(name, {}).get("numerical_statistics")
        if drift.get("perform_comparison", "Enabled") == "Enabled" and base and "numerical_statistics" in feature:
            distance = _cdf_distance(base["distribution"]["kll"]["buckets"], [float(v) for v in column if _number(v) is not None])
            if distance > drift.get("comparison_threshold", 0.1):
                found.append(
                    _violation(
                        name,
                        "baseline_drift_check",
                        f"Baseline drift distance: {distance:.4g} exceeds threshold: {drift.get('comparison_threshold', 0.1):g}",
                    )
                )
    return found


def _cdf_distance(baseline_buckets: list[dict[str, Any]], numbers: list[float]) -> float:
    """L-infinity distance between the baseline's CDF and the dataset's at the baseline's bucket edges."""
    if not numbers:
        return 0.0
    total = sum(b["count"] for b in baseline_buckets) or 1.0
    sketch = _sketch(numbers)
    distance, running = 0.0, 0.0
    for bucket in baseline_buckets:
        running += bucket["count"]
        observed = sketch.get_cdf([bucket["upper_bound"]])[0]
        distance = max(distance, abs(running / total - observed))
    return distance


def _violation(feature: str, check: str, description: str) -> dict[str, str]:
    return {"feature_name": feature, "constraint_check_type": check, "description": description}


# -- the job -----------------------------------------------------------------------------------------
def analyze(env: dict[str, str]) -> dict[str, Any]:
    """Write the reports into `output_path`; what was written and how many violations."""
    dataset_format = json.loads(env.get("dataset_format") or '{"csv": {"header": true}}')
    names, rows = read_rows(Path(env["dataset_source"]), dataset_format)
    if not rows:
        raise AnalysisError("the dataset has no records")
    out = Path(env["output_path"])
    out.mkdir(parents=True, exist_ok=True)
    model = env.get("analysis_type") == "MODEL_QUALITY"
    statistics = model_statistics(names, rows, env) if model else data_statistics(names, rows)
    constraints = model_constraints(statistics) if model else data_constraints(statistics)
    (out / "statistics.json").write_text(json.dumps(statistics, indent=2))
    (out / "constraints.json").write_text(json.dumps(constraints, indent=2))
    violations = None
    if env.get("baseline_constraints"):
        baseline = json.loads(Path(env["baseline_constraints"]).read_text())
        base_stats = json.loads(Path(env["baseline_statistics"]).read_text()) if env.get("baseline_statistics") else None
        violations = model_violations(statistics, baseline) if model else data_violations(names, rows, statistics, base_stats, baseline)
        (out / "constraint_violations.json").write_text(json.dumps({"violations": violations}, indent=2))
    return {"records": len(rows), "violations": violations}


def main() -> int:
    try:
        result = analyze(dict(os.environ))
    except (AnalysisError, OSError, ValueError, KeyError) as exc:
        print(f"ClientError: {exc}", file=sys.stderr)
        return 2
    print(f"analyzed {result['records']} records" + ("" if result["violations"] is None else f"; {len(result['violations'])} violation(s)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
