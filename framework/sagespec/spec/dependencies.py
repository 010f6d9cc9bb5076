"""The dependency graph of a spec's steps: which step waits for which, and why.

Edges come from references (${steps.X...}), property-file reads, model.training_step, a tuning
step's warm-start parents, a transform step's model_step, a register step's quality_checks,
depends_on, and condition branches (a branch step waits for its condition). The checks use it
to find cycles; `sagespec graph` draws it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sagespec.spec.references import model_sources, references_in


@dataclass(frozen=True)
class Edge:
    step: str  # the step that waits
    needs: str  # the step it waits for
    why: str  # reference | property_file | model | warm_start | quality_check | depends_on | if | else


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _json_gets(value: object) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        if {"step", "property_file", "json_path"} <= set(value):
            yield value
        for v in value.values():
            yield from _json_gets(v)
    elif isinstance(value, list):
        for v in value:
            yield from _json_gets(v)


def edges(steps: list[Any]) -> list[Edge]:
    found: dict[tuple[str, str, str], Edge] = {}

    def add(step: str, needs: object, why: str) -> None:
        if isinstance(needs, str):
            found.setdefault((step, needs, why), Edge(step, needs, why))

    for step in steps:
        if not isinstance(step, dict) or not isinstance(step.get("name"), str):
            continue
        name = step["name"]
        for text in _strings({k: v for k, v in step.items() if k not in ("if_steps", "else_steps", "depends_on")}):
            for ref in references_in(text):
                if ref.step and ref.step != name:
                    add(name, ref.step, "reference")
        for get in _json_gets(step):
            add(name, get["step"], "property_file")
        for _, model in model_sources(step):
            add(name, model.get("training_step"), "model")
        for parent in ((step.get("tuning") or {}).get("warm_start") or {}).get("parents") or []:
            add(name, parent, "warm_start")
        add(name, step.get("model_step"), "model")  # a transform step's model
        for check in step.get("quality_checks") or []:
            add(name, check, "quality_check")
        for needed in step.get("depends_on") or []:
            add(name, needed, "depends_on")
        for branch in ("if_steps", "else_steps"):
            for member in step.get(branch) or []:
                add(member, name, branch.split("_")[0])
    return list(found.values())


def find_cycles(steps: list[Any]) -> list[list[str]]:
    """Each elementary cycle found by DFS, as [a, b, ..., a], deduplicated by rotation."""
    graph: dict[str, list[str]] = {}
    for e in edges(steps):
        graph.setdefault(e.step, []).append(e.needs)
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    stack: list[str] = []
    cycles: dict[frozenset[str], list[str]] = {}

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, [])):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt) :] + [nxt]
                cycles.setdefault(frozenset(cycle), cycle)
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return list(cycles.values())
