"""One diagnostics type shared by the loader, renderer, validator and compiler.

Every stage reports problems as `Diagnostic` values pointing at a `Span`; formatters in
`sagespec.diagnostics.formatters` turn them into text, JSON or GitHub annotations. Lines and
columns are stored 0-based (as YAML marks are) and shown 1-based only at output.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from sagespec.diagnostics.catalog import RULES
from sagespec.diagnostics.formatters import format_text
from sagespec.diagnostics.text import printable


@dataclass(frozen=True)
class Span:
    """A place in a source file. `via` says how the text got into a spec (template use)."""

    file: str
    line: int = 0
    col: int = 0
    via: str | None = None


@dataclass(frozen=True)
class Diagnostic:
    code: str
    message: str
    span: Span
    path: tuple[str | int, ...] = ()
    hint: str | None = None

    def __post_init__(self) -> None:
        if self.code not in RULES:
            raise ValueError(f"unknown diagnostic code {self.code}")
        object.__setattr__(self, "message", shorten_values(self.message))
        if self.hint:
            object.__setattr__(self, "hint", shorten_values(self.hint))

    @property
    def severity(self) -> str:
        return "warning" if self.code.startswith("W") else "error"

    @property
    def json_path(self) -> str:
        return json_path(self.path)


# A message quotes at most this many characters of any one value (a 100 KB string is not echoed).
QUOTE_LIMIT = 200
_LONG_RUN = re.compile(rf"\S{{{QUOTE_LIMIT + 1},}}")


def shorten_values(text: str) -> str:
    """`text` with every run of more than QUOTE_LIMIT non-space characters cut to QUOTE_LIMIT and an ellipsis."""
    return _LONG_RUN.sub(lambda m: m.group()[:QUOTE_LIMIT] + "…", text) if len(text) > QUOTE_LIMIT else text


def json_path(path: tuple[str | int, ...]) -> str:
    out = "$"
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.severity == "error" for d in diagnostics)


@dataclass
class DiagnosticError(Exception):
    """Raised by a stage that cannot go on; carries what it found."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    summary: str | None = None  # one closing line, e.g. "the accounts file pipelines/accounts.yaml is invalid"
    exit_code: int = 1

    def __str__(self) -> str:
        return format_text(self.diagnostics, color=False) + (f"\n{self.summary}" if self.summary else "")


class UserError(Exception):
    """A problem with what the user asked for that has no place in a file (AWS, resources, options).

    The CLI prints `error[CODE]: message` (and the hint) and exits with `exit_code`, never a traceback.
    """

    def __init__(self, code: str, message: str, hint: str | None = None, exit_code: int = 1):
        if code not in RULES:
            raise ValueError(f"unknown diagnostic code {code}")
        message = shorten_values(message)
        super().__init__(message)
        self.code, self.message, self.hint, self.exit_code = code, message, hint, exit_code

    def format(self) -> str:
        """What the CLI prints: user-supplied values in messages print as escapes."""
        # A hint may span lines (a log's tail): each line is printed escaped, indented under the hint.
        hint = "\n        ".join(printable(line) for line in self.hint.splitlines()) if self.hint else ""
        return f"error[{self.code}]: {printable(self.message)}" + (f"\n  hint: {hint}" if self.hint else "")
