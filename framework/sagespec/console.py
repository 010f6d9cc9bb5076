"""The rich console every table-printing command uses."""

from __future__ import annotations

import shutil
import sys


def console():
    from rich.console import Console

    # Off a terminal (pipes, CI logs) rich assumes 80 columns and folds every ARN; use a wide page.
    width = None if sys.stdout.isatty() else max(shutil.get_terminal_size((160, 24)).columns, 160)
    return Console(highlight=False, soft_wrap=True, width=width)


def table(title: str, columns: list[str], rows: list[list]):
    """A left-titled table; None cells print empty, long values fold instead of being cut."""
    from rich import box
    from rich.table import Table

    result = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left", header_style="bold")
    for column in columns:
        result.add_column(column, overflow="fold")
    for row in rows:
        result.add_row(*[str(c) if c is not None else "" for c in row])
    return result
