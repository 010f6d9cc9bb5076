"""Where each value of a loaded document came from.

A `Document` holds plain Python data (dicts, lists, scalars: what JSON Schema and the compiler
want) beside a `SourceMap` from JSON paths to spans. Later stages report a path; the source map
turns it into file/line/column once, falling back to the nearest ancestor that has a span (a
required key that is missing points at the mapping that lacks it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeAlias

from sagespec.diagnostics import Span

# A JSON path into a document: mapping keys and sequence indexes, e.g. ("steps", 0, "name").
Path: TypeAlias = tuple[str | int, ...]


@dataclass
class SourceMap:
    file: str
    values: dict[Path, Span] = field(default_factory=dict)
    keys: dict[Path, Span] = field(default_factory=dict)

    def span(self, path: Path, *, key: bool = False) -> Span:
        """Span of the value at `path` (or of its key when `key`), else of the nearest ancestor."""
        if key and path in self.keys:
            return self.keys[path]
        probe = tuple(path)
        while probe:
            if probe in self.values:
                return self.values[probe]
            probe = probe[:-1]
        return self.values.get((), Span(self.file))

    def subtree(self, prefix: Path) -> SourceMap:
        """The entries under `prefix`, re-rooted so `prefix` becomes ()."""
        n = len(prefix)
        out = SourceMap(self.file)
        for table, target in ((self.values, out.values), (self.keys, out.keys)):
            for path, span in table.items():
                if path[:n] == prefix:
                    target[path[n:]] = span
        return out

    def graft(self, prefix: Path, other: SourceMap, via: str | None = None) -> None:
        """Copy `other`'s entries under `prefix`, optionally marking them with `via`."""
        for table, source in ((self.values, other.values), (self.keys, other.keys)):
            for path, span in source.items():
                # the constructor, not dataclasses.replace: grafting a template's map makes thousands
                table[prefix + path] = Span(span.file, span.line, span.col, via) if via and not span.via else span


@dataclass
class Document:
    data: object
    source: SourceMap

    @property
    def file(self) -> str:
        return self.source.file
