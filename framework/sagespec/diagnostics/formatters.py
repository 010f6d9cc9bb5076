"""Formatters over `Diagnostic`: text (for people), json (for tools), github (annotations)."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, TextIO

from sagespec.diagnostics.text import printable

if TYPE_CHECKING:
    from sagespec.diagnostics import Diagnostic


def _location(d: Diagnostic) -> str:
    return f"{d.span.file}:{d.span.line + 1}:{d.span.col + 1}"


def format_text(diagnostics: list[Diagnostic], color: bool = False) -> str:
    def paint(text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if color else text

    lines = []
    for d in diagnostics:
        level = paint(d.severity, "1;31" if d.severity == "error" else "1;33")
        lines.append(f"{paint(printable(_location(d)), '1')}: {level}[{d.code}]: {printable(d.message)}")
        if d.hint:
            lines.append(f"  {paint('hint', '36')}: {printable(d.hint)}")
        if d.span.via:
            lines.append(f"  {paint('note', '36')}: {printable(d.span.via)}")
    return "\n".join(lines)


def to_dict(d: Diagnostic) -> dict[str, str | int | None]:
    return {
        "file": d.span.file,
        "line": d.span.line + 1,
        "column": d.span.col + 1,
        "severity": d.severity,
        "code": d.code,
        "message": d.message,
        "path": d.json_path,
        "hint": d.hint,
        "via": d.span.via,
    }


def format_json(diagnostics: list[Diagnostic]) -> str:
    return json.dumps([to_dict(d) for d in diagnostics], indent=2)


def _escape_github(text: str, property_value: bool = False) -> str:
    # GitHub workflow commands need %, CR and LF escaped; properties also : and ,. Other control
    # characters are written as visible escapes so nothing in a value can act on the log.
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    text = printable(text)
    if property_value:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def format_github(diagnostics: list[Diagnostic]) -> str:
    lines = []
    for d in diagnostics:
        message = d.message + (f"\nhint: {d.hint}" if d.hint else "") + (f"\nnote: {d.span.via}" if d.span.via else "")
        props = ",".join(
            [
                f"file={_escape_github(d.span.file, True)}",
                f"line={d.span.line + 1}",
                f"col={d.span.col + 1}",
                f"title={_escape_github(d.code, True)}",
            ]
        )
        lines.append(f"::{d.severity} {props}::{_escape_github(message)}")
    return "\n".join(lines)


FORMATTERS = {"text": format_text, "json": format_json, "github": format_github}


def color_wanted(choice: str, stream: TextIO) -> bool:
    """--color auto|always|never, honouring NO_COLOR (https://no-color.org) in auto mode."""
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    return hasattr(stream, "isatty") and stream.isatty()
