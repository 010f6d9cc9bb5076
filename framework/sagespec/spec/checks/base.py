"""What every semantic check is written against: the document in a CheckContext, `@rule` to
register a check, and `strings_in` to walk a document's string values."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sagespec.diagnostics import Diagnostic
from sagespec.spec.source import Document
from sagespec.spec.source import Path as JsonPath

CHECKS: list[Callable[[CheckContext], None]] = []


def rule(fn: Callable[[CheckContext], None]) -> Callable[[CheckContext], None]:
    CHECKS.append(fn)
    return fn


@dataclass
class CheckContext:
    document: Document
    project_root: Path
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def data(self) -> dict[str, Any]:
        return self.document.data if isinstance(self.document.data, dict) else {}

    def report(self, code: str, message: str, path: JsonPath, hint: str | None = None, key: bool = False) -> None:
        span = self.document.source.span(path, key=key)
        self.diagnostics.append(Diagnostic(code, message, span, path, hint))

    @property
    def parameters(self) -> dict[str, Any]:
        params = self.data.get("parameters")
        return params if isinstance(params, dict) else {}

    def steps(self) -> Iterator[tuple[int, dict[str, Any]]]:
        steps = self.data.get("steps")
        for i, step in enumerate(steps if isinstance(steps, list) else []):
            if isinstance(step, dict) and isinstance(step.get("name"), str):
                yield i, step

    @property
    def steps_by_name(self) -> dict[str, tuple[int, dict[str, Any]]]:
        found: dict[str, tuple[int, dict[str, Any]]] = {}
        for i, step in self.steps():
            found.setdefault(step["name"], (i, step))
        return found

    def named_items(self, step: dict[str, Any], key: str) -> list[tuple[int, dict[str, Any]]]:
        items = step.get(key)
        return [
            (j, it)
            for j, it in enumerate(items if isinstance(items, list) else [])
            if isinstance(it, dict) and isinstance(it.get("name"), str)
        ]


def strings_in(value: object, path: JsonPath) -> Iterator[tuple[JsonPath, str]]:
    """Every string value under `value` with its path (keys are not values)."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from strings_in(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from strings_in(v, path + (i,))
