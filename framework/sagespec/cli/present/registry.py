"""How registry results are shown: rich tables for people, JSON for tools."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sagespec.cli.console import console as _console
from sagespec.cli.console import escape, printable
from sagespec.cli.console import table as _table

if TYPE_CHECKING:
    from sagespec.backends.records import ApprovalChange, LineageEntry, ModelPackage, ModelPackageGroup

LINEAGE_ORDER = ("dataset", "code", "execution", "training_job", "model", "metrics", "package", "endpoint")


def groups(items: list[ModelPackageGroup]) -> None:
    if not items:
        _console().print("no model package groups visible to this caller")
        return
    _console().print(
        _table(
            "Model package groups", ["name", "account", "description", "arn"], [[g.name, g.account, g.description, g.arn] for g in items]
        )
    )


def packages(items: list[ModelPackage], group: str) -> None:
    if not items:
        _console().print(f"no matching versions in {group}")
        return
    _console().print(
        _table(
            f"Versions of {items[0].group_arn} (ARN: .../model-package/{items[0].group_name}/<version>)",
            ["version", "status", "created (UTC)", "by account", "approval description"],
            [
                [p.version, p.status, (p.created_at or "")[:19].replace("T", " "), p.created_by_account, p.approval_description]
                for p in items
            ],
        )
    )


def package(p: ModelPackage, history: list[ApprovalChange]) -> None:
    console = _console()
    container = (p.inference_specification.get("Containers") or [{}])[0]
    fields = [
        ("arn", p.arn),
        ("group", p.group_arn),
        ("version", p.version),
        ("status", p.status),
        ("approval description", p.approval_description),
        ("description", p.description),
        ("image", container.get("Image")),
        ("model data", container.get("ModelDataUrl")),
        ("content types", ", ".join(p.inference_specification.get("SupportedContentTypes", []))),
        ("metrics", ((p.model_metrics or {}).get("ModelQuality", {}).get("Statistics", {}) or {}).get("S3Uri")),
        ("customer metadata", ", ".join(f"{k}={v}" for k, v in sorted(p.customer_metadata.items()))),
        ("stage", f"{p.stage} ({p.stage_status})" if p.stage and p.stage_status else p.stage),
        ("created", f"{p.created_at} by {p.created_by}"),
    ]
    for name, value in fields:
        if value not in (None, ""):
            console.print(f"[bold]{name:>20}[/bold]  {escape(printable(value))}")
    console.print(
        _table(
            "Approval history",
            ["when", "from", "to", "by", "why"],
            [[h.at[:19].replace("T", " "), h.from_status, h.to_status, h.by, h.reason] for h in history],
        )
    )


def lineage(p: ModelPackage, entries: list[LineageEntry]) -> None:
    rank = {k: i for i, k in enumerate(LINEAGE_ORDER)}
    rows = [
        [e.kind, e.uri or "", (e.sha256 or "")[:16], ", ".join(f"{k}={v}" for k, v in sorted(e.detail.items()))]
        for e in sorted(entries, key=lambda e: rank.get(e.kind, len(rank)))
    ]
    package_row = ["package", p.arn, "", f"version={p.version}, status={p.status}"]
    endpoints = [r for r in rows if r[0] == "endpoint"]
    rows = [r for r in rows if r[0] != "endpoint"] + [package_row] + endpoints
    _console().print(_table(f"Lineage of {p.arn}", ["", "what", "sha256", "detail"], rows))
    _console().print("  " + " -> ".join(dict.fromkeys(r[0] for r in rows)))
