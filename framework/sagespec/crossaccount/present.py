"""The access matrix as a table."""

from __future__ import annotations


def matrix_table(cells, show_all: bool = False) -> None:
    from rich import box
    from rich.table import Table

    from sagespec.console import console as make_console

    console = make_console()
    table = Table(box=box.SIMPLE_HEAD, header_style="bold")
    for column in ("actor", "action", "resource", "expected", "actual", ""):
        table.add_column(column, overflow="ellipsis")  # never an ARN broken mid-word
    shown = [c for c in cells if show_all or c.expected or not c.ok]
    for c in shown:
        table.add_row(
            c.actor.replace("_", "-"),
            f"{c.action} ({c.context})" if c.context else c.action,
            c.resource,
            "allow" if c.expected else "deny",
            "allow" if c.allowed else "deny",
            "ok" if c.ok else f"FAIL: {c.reason}",
        )
    console.print(table)
    failures = [c for c in cells if not c.ok]
    denied = sum(1 for c in cells if not c.expected and not c.allowed)
    console.print(
        f"{len(cells)} cells: {sum(c.expected and c.allowed for c in cells)} required allowed, "
        f"{denied} others denied, {len(failures)} wrong" + ("" if show_all else " (--all shows the denied cells)")
    )
