"""Safe YAML loading that keeps every node's file, line and column.

Only plain data is accepted: mappings with string keys, sequences, and the core scalar tags.
Anything else (python/* tags, custom tags, binary) is a finding, not an exception. Duplicate keys
are errors (PyYAML silently keeps the last one). Aliases are expanded with a node budget so an
alias bomb stops early instead of eating memory. The loader never raises for bad input: it
returns diagnostics.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from sagespec.diagnostics import Diagnostic, Span
from sagespec.spec.files import UnsafePath, read_bytes
from sagespec.spec.source import Document, SourceMap
from sagespec.spec.source import Path as JsonPath

# libyaml's C parser is ~10x faster; its marks carry the same line/column.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# A spec has a few hundred nodes; this bound leaves room for big specs but stops alias bombs.
MAX_NODES = 100_000

_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_TAG + t for t in ("null", "bool", "int", "float", "str")}
_TIMESTAMP = _TAG + "timestamp"  # kept as the string the user wrote: specs are JSON-shaped
_MERGE = _TAG + "merge"
_MAP = _TAG + "map"
_SEQ = _TAG + "seq"


class _Abort(Exception):
    def __init__(self, diagnostic: Diagnostic):
        self.diagnostic = diagnostic


class _Converter:
    def __init__(self, file: str):
        self.file = file
        self.source = SourceMap(file)
        self.diagnostics: list[Diagnostic] = []
        self.constructor = SafeConstructor()
        self.budget = MAX_NODES
        self.active: set[int] = set()

    def span(self, node: Node) -> Span:
        return Span(self.file, node.start_mark.line, node.start_mark.column)

    def convert(self, node: Node, path: JsonPath) -> Any:
        self.budget -= 1
        if self.budget < 0:
            # Point at the top-level key whose value blew up, not deep inside the expansion.
            raise _Abort(
                Diagnostic(
                    "E0005",
                    f"document expands to more than {MAX_NODES} nodes (aliases repeating large anchors?)",
                    self.source.keys.get(path[:1]) or self.span(node),
                    path[:1],
                    hint="write the repeated part once, or use a template parameter instead of nested aliases",
                )
            )
        if id(node) in self.active:
            raise _Abort(Diagnostic("E0005", "an alias refers to a node that contains it", self.span(node), path))
        self.source.values[path] = self.span(node)
        if isinstance(node, ScalarNode):
            return self.scalar(node, path)
        if node.tag not in (_MAP, _SEQ):
            self.unsupported_tag(node, path)
        self.active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                return [self.convert(item, path + (i,)) for i, item in enumerate(node.value)]
            assert isinstance(node, MappingNode)  # the composer builds scalars, sequences and mappings only
            return self.mapping(node, path)
        finally:
            self.active.discard(id(node))

    def unsupported_tag(self, node: Node, path: JsonPath) -> None:
        tag = node.tag.replace(_TAG, "!!")
        self.diagnostics.append(
            Diagnostic(
                "E0004",
                f"tag {tag} is not allowed: a spec holds plain data only",
                self.span(node),
                path,
                hint="remove the tag; strings, numbers, booleans, lists and mappings need none",
            )
        )

    def scalar(self, node: ScalarNode, path: JsonPath) -> Any:
        if node.tag == _TIMESTAMP:
            return node.value
        if node.tag not in _SCALAR_TAGS:
            self.unsupported_tag(node, path)
            return node.value
        return self.constructor.construct_object(node)

    def mapping(self, node: MappingNode, path: JsonPath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        explicit: dict[str, Span] = {}
        merged: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                merged.update(self.merge_sources(value_node, path))
                continue
            if not isinstance(key_node, ScalarNode) or key_node.tag not in (_TAG + "str",):
                shown = key_node.value if isinstance(key_node, ScalarNode) else "a collection"
                self.diagnostics.append(
                    Diagnostic(
                        "E0007",
                        f"mapping key {shown!r} is not a string",
                        self.span(key_node),
                        path,
                        hint='quote the key, e.g. "1": or "yes":',
                    )
                )
                continue
            key = key_node.value
            key_span = self.span(key_node)
            if key in explicit:
                first = explicit[key]
                self.diagnostics.append(
                    Diagnostic(
                        "E0003",
                        f"duplicate key '{key}' (first defined at line {first.line + 1}, column {first.col + 1})",
                        key_span,
                        path + (key,),
                        hint="YAML would silently keep only the last value; remove or rename one of them",
                    )
                )
                continue
            explicit[key] = key_span
            self.source.keys[path + (key,)] = key_span
            result[key] = self.convert(value_node, path + (key,))
        # YAML merge keys: explicit keys win over merged ones.
        for key, value in merged.items():
            result.setdefault(key, value)
        return result

    def merge_sources(self, value_node: Node, path: JsonPath) -> dict[str, Any]:
        nodes = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
        merged: dict[str, Any] = {}
        for source in reversed(nodes):  # earlier mappings in a merge list take precedence
            if not isinstance(source, MappingNode):
                self.diagnostics.append(
                    Diagnostic("E0002", "a merge key (<<) needs a mapping or a list of mappings", self.span(source), path)
                )
                continue
            merged.update(self.mapping(source, path))
        return merged


def load_text(text: str, file: str) -> tuple[Document | None, list[Diagnostic]]:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line, mark.column) if mark else (0, 0)
        problem = exc.problem or "syntax error"
        if "expected a single document" in problem or "but found another document" in problem:
            return None, [Diagnostic("E0006", "a spec file holds exactly one YAML document", Span(file, line, col))]
        context = f" ({exc.context})" if exc.context else ""
        hint = None
        if exc.context_mark and exc.problem_mark and exc.context_mark.line != exc.problem_mark.line:
            opened = exc.context_mark
            hint = f"the construct it was parsing starts at line {opened.line + 1}, column {opened.column + 1}"
        return None, [Diagnostic("E0002", f"{problem}{context}", Span(file, line, col), hint=hint)]
    except yaml.YAMLError as exc:  # reader errors: bad bytes, control characters
        mark = getattr(exc, "mark", None) or getattr(exc, "problem_mark", None)
        line, col = (mark.line, mark.column) if mark else (0, 0)
        return None, [Diagnostic("E0002", str(exc).splitlines()[0], Span(file, line, col))]
    finally:
        loader.dispose()
    if node is None:
        return None, [Diagnostic("E0006", "the file is empty", Span(file))]
    converter = _Converter(file)
    try:
        data = converter.convert(node, ())
    except _Abort as abort:
        return None, converter.diagnostics + [abort.diagnostic]
    except RecursionError:
        return None, [Diagnostic("E0005", "the document nests too deeply", Span(file))]
    return Document(data, converter.source), converter.diagnostics


def load_file(
    path: str | os.PathLike[str], display: str | None = None, root: os.PathLike[str] | None = None
) -> tuple[Document | None, list[Diagnostic]]:
    """Load a YAML file; with `root`, only a regular file inside that project (see spec.files)."""

    shown = display or str(path)
    try:
        raw = read_bytes(Path(path), Path(root) if root is not None else None, shown)
    except UnsafePath as refused:
        return None, [Diagnostic(refused.code, refused.message, Span(shown))]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n")
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1)
        return None, [Diagnostic("E0001", f"file is not UTF-8 text ({exc.reason})", Span(shown, line, col))]
    return load_text(text, shown)
