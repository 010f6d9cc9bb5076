"""A readable, step-by-step semantic diff between two pipeline definitions.

Steps are matched by name wherever they sit (top level or inside a condition's branches), so a
reordering is not a change and a moved step shows where it moved. Inside a step, changes are
listed by JSON path with old and new values; a changed code archive is named as such.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from sagespec.definition import parameters, walk_steps, without_branches

_CODE_HASH = re.compile(r"/code/([0-9a-f]{64})/")


@dataclass(frozen=True)
class Change:
    scope: str  # "parameter X", "step X (Type)", "pipeline"
    what: str  # "added", "removed", or a JSON path inside the scope
    old: object = None
    new: object = None


def _steps(definition: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """name -> (where, step) for every step, branches included."""
    return {placed.name: (placed.where, placed.step) for placed in walk_steps(definition)}


def _leaf_changes(old: object, new: object, path: str = "") -> list[tuple[str, object, object]]:
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[tuple[str, object, object]] = []
        for key in sorted(set(old) | set(new)):
            sub = f"{path}.{key}" if path else key
            if key not in old:
                out.append((sub, None, new[key]))
            elif key not in new:
                out.append((sub, old[key], None))
            else:
                out.extend(_leaf_changes(old[key], new[key], sub))
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        out = []
        for i, (a, b) in enumerate(zip(old, new)):
            out.extend(_leaf_changes(a, b, f"{path}[{i}]"))
        return out
    return [] if old == new else [(path, old, new)]


def diff(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    changes: list[Change] = []
    old_params, new_params = parameters(old), parameters(new)
    for name in sorted(set(old_params) | set(new_params)):
        scope = f"parameter {name}"
        if name not in old_params:
            changes.append(Change(scope, "added", None, new_params[name]))
        elif name not in new_params:
            changes.append(Change(scope, "removed", old_params[name], None))
        else:
            changes += [Change(scope, p, a, b) for p, a, b in _leaf_changes(old_params[name], new_params[name])]
    old_steps, new_steps = _steps(old), _steps(new)
    for name in list(old_steps) + [n for n in new_steps if n not in old_steps]:
        if name not in new_steps:
            changes.append(Change(f"step {name} ({old_steps[name][1].get('Type')})", "removed"))
            continue
        where, step = new_steps[name]
        scope = f"step {name} ({step.get('Type')})"
        if name not in old_steps:
            changes.append(Change(scope, "added", None, where))
            continue
        old_where, old_step = old_steps[name]
        if old_where != where:
            changes.append(Change(scope, "moved", old_where, where))
        changes += [Change(scope, p, a, b) for p, a, b in _leaf_changes(without_branches(old_step), without_branches(step))]
    for key in sorted((set(old) | set(new)) - {"Parameters", "Steps"}):
        changes += [Change("pipeline", p, a, b) for p, a, b in _leaf_changes({key: old.get(key)}, {key: new.get(key)})]
    return changes


def _show(value: object) -> str:
    if value is None:
        return "(none)"
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 120 else text[:117] + "..."


def format_text(changes: list[Change], old_label: str, new_label: str) -> str:
    if not changes:
        return f"no differences between {old_label} and {new_label}\n"
    lines = [f"--- {old_label}", f"+++ {new_label}"]
    scope = None
    for change in changes:
        if change.scope != scope:
            scope = change.scope
            lines.append(scope)
        if change.what == "added":
            lines.append("  + added" + (f" ({change.new})" if isinstance(change.new, str) else f": {_show(change.new)}"))
        elif change.what == "removed":
            lines.append("  - removed")
        elif change.what == "moved":
            lines.append(f"  ~ moved from {change.old} to {change.new}")
        else:
            old_hash, new_hash = _CODE_HASH.findall(json.dumps(change.old)), _CODE_HASH.findall(json.dumps(change.new))
            note = "  (code changed)" if old_hash and new_hash and old_hash != new_hash else ""
            lines.append(f"  ~ {change.what}: {_show(change.old)} -> {_show(change.new)}{note}")
    lines.append(f"{len(changes)} change(s)")
    return "\n".join(lines) + "\n"


def format_json(changes: list[Change]) -> str:
    return json.dumps([{"scope": c.scope, "what": c.what, "old": c.old, "new": c.new} for c in changes], indent=2) + "\n"
