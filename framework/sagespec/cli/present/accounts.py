"""The access matrix as a table."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sagespec.cli.console import console as make_console
from sagespec.cli.console import grid

if TYPE_CHECKING:
    from sagespec.accounts.check import Cell
    from sagespec.accounts.coverage import Unused, Verdict


def matrix_table(cells: list[Cell], show_all: bool = False) -> None:
    console = make_console()
    table = grid(("actor", "action", "resource", "expected", "actual", ""))  # ellipsis: never an ARN broken mid-word
    shown = [c for c in cells if show_all or c.expected or not c.ok or c.accepted]
    for c in shown:
        table.add_row(
            c.actor.replace("_", "-"),
            f"{c.action} ({c.context})" if c.context else c.action,
            c.resource,
            "allow" if c.expected else "deny",
            "allow" if c.allowed else "deny",
            (f"ok: {c.accepted}" if c.accepted else "ok") if c.ok else f"FAIL: {c.reason}",
        )
    console.print(table)
    failures = [c for c in cells if not c.ok]
    denied = sum(1 for c in cells if not c.expected and not c.allowed)
    console.print(
        f"{len(cells)} cells: {sum(c.expected and c.allowed for c in cells)} required allowed, "
        f"{denied} others denied, {len(failures)} wrong" + ("" if show_all else " (--all shows the denied cells)")
    )


def _short(arn: str) -> str:
    """A role by its account and name (the table is read by people; JSON keeps the ARN)."""
    if ":role/" in arn:
        return f"{arn.split(':')[4]}:{arn.rsplit('/', 1)[-1]}"
    return arn


def verdicts_table(verdicts: list[Verdict], unused: list[Unused]) -> None:
    """One table per pipeline: each request of each step, who makes it, and what decides it."""
    console = make_console()
    pipelines: dict[str, list[Verdict]] = {}
    for v in verdicts:
        pipelines.setdefault(v.need.pipeline, []).append(v)
    for pipeline, rows in pipelines.items():
        roles = sorted({v.need.role for v in rows if v.need.caller in ("pipeline role", "job role")})
        columns = (("step", 2), ("as", 2), ("action", 3), ("resource", 5), ("decided by", 3))
        table = grid(columns, f"{pipeline} (as {', '.join(roles)})", overflow="fold", expand=True)
        for v in rows:
            n = v.need
            action = n.action + "".join(f" ({k.split(':', 1)[1]}={val})" for k, val in n.context if k != "s3:prefix")
            who = n.caller if n.caller in ("pipeline role", "job role") else f"{n.caller} {_short(n.role)}"
            decided = f"allow: {v.statement} ({v.policy})" if v.allowed else f"DENIED: {v.reason}"
            table.add_row(n.step, who, action, n.resource, decided)
        console.print(table)
    denied = [v for v in verdicts if not v.allowed]
    steps = {(v.need.pipeline, v.need.step) for v in verdicts}
    console.print(f"{len(verdicts)} requests of {len(steps)} steps: {len(verdicts) - len(denied)} allowed, {len(denied)} denied")
    if unused:
        console.print(f"{len(unused)} granted actions no pipeline needs (least privilege: remove them):")
        for u in unused:
            console.print(f"  {_short(u.role)} {u.policy}/{u.statement}: {u.action} on {u.resource}")
    else:
        console.print("no granted action is unused")
