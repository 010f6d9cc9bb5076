"""What every semantic check is written against: the document in a CheckContext, `@rule` to
register a check, and `strings_in` to walk a document's string values."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
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

    # Checks read the document and never change it: what is derived from it is derived once
    # (a rule that looks a step up by name inside a loop over steps stays linear).
    @cached_property
    def _named_steps(self) -> list[tuple[int, dict[str, Any]]]:
        steps = self.data.get("steps")
        return [
            (i, step)
            for i, step in enumerate(steps if isinstance(steps, list) else [])
            if isinstance(step, dict) and isinstance(step.get("name"), str)
        ]

    def steps(self) -> Iterator[tuple[int, dict[str, Any]]]:
        return iter(self._named_steps)

    @cached_property
    def steps_by_name(self) -> dict[str, tuple[int, dict[str, Any]]]:
        found: dict[str, tuple[int, dict[str, Any]]] = {}
        for i, step in self.steps():
            found.setdefault(step["name"], (i, step))
        return found

    @cached_property
    def strings(self) -> list[tuple[JsonPath, str]]:
        """Every string value of the document with its path (several rules read them all)."""
        return list(strings_in(self.data, ()))

    def step_strings(self, index: int) -> list[tuple[JsonPath, str]]:
        """The string values of step `index` (its paths start with ("steps", index))."""
        return self._strings_by_step.get(index, [])

    @cached_property
    def _strings_by_step(self) -> dict[int, list[tuple[JsonPath, str]]]:
        found: dict[int, list[tuple[JsonPath, str]]] = {}
        for path, text in self.strings:
            if len(path) > 1 and path[0] == "steps" and isinstance(path[1], int):
                found.setdefault(path[1], []).append((path, text))
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
