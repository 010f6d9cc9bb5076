"""The rich console every table-printing command uses."""

from __future__ import annotations

import json
import re
import shutil
import sys

# C0 and C1 control characters (newline, carriage return, escape, NUL, DEL...) in user-supplied
# text: printed as escapes, so a value cannot start a line CI reads as a command ("::error")
# or move the terminal's cursor.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text) -> str:
    """`text` with every control character written as a visible escape (\\n, \\x1b, ...)."""
    text = str(text)
    return CONTROL_CHARACTERS.sub(lambda m: repr(m.group())[1:-1], text) if CONTROL_CHARACTERS.search(text) else text


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
