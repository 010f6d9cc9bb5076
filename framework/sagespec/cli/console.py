"""The rich console every table-printing command uses."""

from __future__ import annotations

import json
import shutil
import sys

from sagespec.diagnostics.text import printable


def console():
    from rich.console import Console

    # Off a terminal (pipes, CI logs) rich assumes 80 columns and folds every ARN; use a wide page.
    width = None if sys.stdout.isatty() else max(shutil.get_terminal_size((160, 24)).columns, 160)
    return Console(highlight=False, soft_wrap=True, width=width)


def table(title: str, columns: list[str], rows: list[list]):
    """A left-titled table; None cells print empty. Cells wrap between words only: a value longer
    than its column (an ARN, an S3 URI) is elided with an ellipsis, never broken mid-word into
    something that looks like another value. The whole value is in `--output json`."""
    from rich import box
    from rich.table import Table

    result = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left", header_style="bold")
    for column in columns:
        result.add_column(column, overflow="ellipsis")
    for row in rows:
        result.add_row(*[printable(c) if c is not None else "" for c in row])
    return result


def to_json(value) -> str:
    """Dataclasses, lists and dicts as indented JSON (what every `--output json` prints)."""
    from dataclasses import asdict, is_dataclass

    def plain(v):
        if is_dataclass(v):
            return asdict(v)
        if isinstance(v, list):
            return [plain(x) for x in v]
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        return v

    return json.dumps(plain(value), indent=2, default=str)
