"""The rich console and tables every text view prints with. rich is imported only when a table
or a live view is drawn: a command asked for `--output json` never loads it (start-up time)."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, is_dataclass
from typing import TYPE_CHECKING, Any

from sagespec.diagnostics.text import printable as printable  # re-exported: present.registry prints with it

if TYPE_CHECKING:
    from rich.console import Console
    from rich.live import Live
    from rich.table import Table


def console() -> Console:
    from rich.console import Console  # start-up: rich only when text is drawn

    # Off a terminal (pipes, CI logs) rich assumes 80 columns and folds every ARN; use a wide page.
    width = None if sys.stdout.isatty() else max(shutil.get_terminal_size((160, 24)).columns, 160)
    return Console(highlight=False, soft_wrap=True, width=width)


def grid(columns: Sequence[str | tuple[str, int]], title: str | None = None, overflow: str = "ellipsis", expand: bool = False) -> Table:
    """An empty left-titled table with a simple header rule; a column given as (name, ratio) takes
    that share of an expanded table's width."""
    from rich import box  # start-up: rich only when text is drawn
    from rich.table import Table  # (the same)

    result = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left", header_style="bold", expand=expand)
    for column in columns:
        name, ratio = column if isinstance(column, tuple) else (column, None)
        result.add_column(name, overflow=overflow, ratio=ratio)  # type: ignore[arg-type]
    return result


def table(title: str, columns: list[str], rows: Sequence[Sequence[object]]) -> Table:
    """A left-titled table; None cells print empty. Cells wrap between words only: a value longer
    than its column (an ARN, an S3 URI) is elided with an ellipsis, never broken mid-word into
    something that looks like another value. The whole value is in `--output json`."""
    result = grid(columns, title)
    for row in rows:
        result.add_row(*[printable(c) if c is not None else "" for c in row])
    return result


def escape(text: str) -> str:
    """`text` printed as written, not read as rich markup."""
    from rich.markup import escape as escaped  # start-up: rich only when text is drawn

    return escaped(text)


def live(get_renderable: Callable[[], Any]) -> Live:
    """A view redrawn from `get_renderable()` four times a second while it is entered."""
    from rich.live import Live  # start-up: rich only when text is drawn

    return Live(get_renderable(), console=console(), refresh_per_second=4, get_renderable=get_renderable)


def to_json(value: object) -> str:
    """Dataclasses, lists and dicts as indented JSON (what every `--output json` prints)."""

    def plain(v: object) -> object:
        if is_dataclass(v) and not isinstance(v, type):
            return asdict(v)
        if isinstance(v, list):
            return [plain(x) for x in v]
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        return v

    return json.dumps(plain(value), indent=2, default=str)
