"""How promotion plans, deployments, endpoints and QA results are shown."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sagespec.cli.console import console as _console
from sagespec.cli.console import table as _table

if TYPE_CHECKING:
    from sagespec.backends.records import Deployment
    from sagespec.spec.topology import Account
    from sagespec.workflows.promotion.promoter import Plan
    from sagespec.workflows.promotion.qa import VariantResult


def traffic(variants: list[dict[str, Any]]) -> str:
    total = sum(v["weight"] or 0 for v in variants) or 1.0
    return ", ".join(f"{v['name']} {100 * (v['weight'] or 0) / total:.0f}%" for v in variants) or "-"


def endpoint_traffic(described: dict[str, Any]) -> str:
    return traffic([{"name": v["VariantName"], "weight": float(v.get("CurrentWeight", 0))} for v in described["ProductionVariants"]])


def plan(p: Plan) -> None:
    console = _console()
    verb = {"deploy": "promote", "canary": "canary", "finalize": "finalize", "rollback": "roll back to"}[p.action]
    console.print(
        f"{verb} {p.package.group_name} version {p.package.version} in {p.stage} "
        f"(account {p.account.name} {p.account.id}, endpoint {p.endpoint})"
    )
    console.print(f"  now:   {traffic(p.current) if p.current else 'no endpoint yet'}")
    console.print(f"  after: {traffic(p.target)}" + ("  (variant weights only)" if p.weights_only else ""))
    for note in p.notes:
        console.print(f"  note:  {note}")


def deployments(items: list[Deployment], group: str) -> None:
    if not items:
        _console().print(f"no deployments of {group} yet")
        return
    rows = []
    for d in items:
        if d.action == "qa-test":
            what = (
                f"{_metric_label(d.detail['metric'])} {d.detail['endpoint']:.4f} vs {d.detail['registered']:.4f} on {d.detail['rows']} rows"
                if "metric" in d.detail
                else d.outcome
            )
        else:
            what = traffic(d.variants)
        rows.append(
            [
                (d.at or "")[:19].replace("T", " "),
                d.stage,
                d.action,
                d.version,
                "" if d.previous_version is None else d.previous_version,
                what,
                d.outcome,
                d.by.rsplit("/", 1)[-1] if d.by else "",
                d.reason,
            ]
        )
    _console().print(
        _table(
            f"Deployments of {group}",
            ["when (UTC)", "stage", "action", "version", "from", "traffic / result", "outcome", "by", "reason"],
            rows,
        )
    )


def endpoints(items: list[tuple[Account, dict[str, Any]]]) -> None:
    if not items:
        _console().print("no endpoints")
        return
    rows = [
        [
            account.name,
            account.id,
            e["EndpointName"],
            e["EndpointStatus"],
            endpoint_traffic(e),
            e.get("Url") or "",
            e.get("EndpointConfigName"),
        ]
        for account, e in items
    ]
    _console().print(_table("Endpoints", ["stage", "account", "endpoint", "status", "traffic", "url", "config"], rows))


def _metric_label(metric: str) -> str:
    """regression_metrics.mse -> MSE; binary_classification_metrics.accuracy -> accuracy."""
    name = metric.rsplit(".", 1)[-1]
    return name.upper() if name in ("mse", "rmse", "mae", "auc") else name


def qa_results(results: list[VariantResult], endpoint: str) -> None:
    label = _metric_label(results[0].metric) if results and len({r.metric for r in results}) == 1 else "metric"
    rows = [
        [
            r.variant,
            r.version,
            r.rows,
            f"{r.endpoint_value:.6f}",
            f"{r.registered_value:.6f}",
            f"{100 * r.difference:.4f}%",
            f"{100 * r.tolerance:g}%",
            "passed" if r.passed else "FAILED",
        ]
        for r in results
    ]
    _console().print(
        _table(
            f"QA test of {endpoint}",
            ["variant", "version", "rows", f"endpoint {label}", f"registered {label}", "difference", "tolerance", "result"],
            rows,
        )
    )
