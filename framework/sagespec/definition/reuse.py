"""Which results of an earlier execution a new one takes over instead of running the step.

- A retry (`start --retry`, RetryPipelineExecution) keeps every step that succeeded there and whose
  definition is unchanged, and runs the rest again.
- A selective execution (`start --from-step`, SelectiveExecutionConfig), decided as the API
  reference and "Selective Execution for Pipeline Steps" describe it: only the selected steps run
  (1 to 50, every step on a path between two selected steps included); every other step keeps its
  result in the source execution, which must have ended Succeeded or Failed and must hold a
  succeeded result for each step a selected step needs.
"""

from __future__ import annotations

import json
from typing import Any

from sagespec.definition import step_needs, steps
from sagespec.diagnostics import UserError

MAX_SELECTED_STEPS = 50  # SelectiveExecutionConfig.SelectedSteps: 1 to 50 items
SOURCE_STATUSES = ("Succeeded", "Failed")


def _reach(start: str, edges: dict[str, set[str]]) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def retried(
    pipeline: str, previous: dict[str, Any], old_definition: dict[str, Any], current: dict[str, Any]
) -> dict[str, tuple[dict[str, Any], str]]:
    """The steps a retry of `previous` takes over: name -> (properties, the execution they came from)."""
    if previous["pipeline"] != pipeline:
        raise UserError("E6012", f"execution {previous['arn']} belongs to pipeline {previous['pipeline']}, not {pipeline}", exit_code=2)
    if previous["status"] == "Succeeded":
        raise UserError("E6012", f"execution {previous['arn']} succeeded; there is nothing to retry")
    old_steps, new_steps = steps(old_definition), steps(current)
    kept: dict[str, tuple[dict[str, Any], str]] = {}
    for step in previous["steps"]:
        same = json.dumps(old_steps.get(step["name"]), sort_keys=True) == json.dumps(new_steps.get(step["name"]), sort_keys=True)
        if step["status"] == "Succeeded" and same and step["type"] != "Condition":
            kept[step["name"]] = (step["properties"], step["cached_from"] or previous["arn"])
    return kept


def selected(
    pipeline: str, definition: dict[str, Any], selected: list[str], source: dict[str, Any] | None
) -> dict[str, tuple[dict[str, Any], str]]:
    """The steps taken from the source execution (name -> (properties, source ARN)); raises a
    UserError naming the step when the selection cannot run."""
    known = steps(definition)
    unknown = [s for s in selected if s not in known]
    if unknown:
        raise UserError(
            "E6005", f"pipeline {pipeline} has no step {', '.join(unknown)}", hint=f"its steps: {', '.join(known)}", exit_code=2
        )
    if not 1 <= len(selected) <= MAX_SELECTED_STEPS:
        raise UserError("E6012", f"a selective execution runs 1 to {MAX_SELECTED_STEPS} steps, not {len(selected)}", exit_code=2)
    needs = step_needs(definition)
    dependants: dict[str, set[str]] = {}
    for step, wanted in needs.items():
        for need in wanted:
            dependants.setdefault(need, set()).add(step)
    chosen = set(selected)
    for first in selected:
        downstream = _reach(first, dependants)
        for last in chosen & downstream:
            between = downstream & _reach(last, needs) - chosen
            if between:
                raise UserError(
                    "E6012",
                    f"steps {first} and {last} are selected but {', '.join(sorted(between))} between them is not",
                    hint="select every step on the paths between two selected steps (SelectiveExecutionConfig)",
                    exit_code=2,
                )
    outside = sorted({need for step in chosen for need in needs[step]} - chosen)
    if not outside:
        return {}
    if source is None:
        raise UserError(
            "E6012",
            f"the selected steps need {', '.join(outside)}, which they do not run: name a source execution",
            hint="--source-execution ARN (an execution of this pipeline that ended Succeeded or Failed)",
            exit_code=2,
        )
    if source["pipeline"] != pipeline:
        raise UserError("E6012", f"execution {source['arn']} belongs to pipeline {source['pipeline']}, not {pipeline}", exit_code=2)
    if source["status"] not in SOURCE_STATUSES:
        raise UserError("E6012", f"the source execution {source['arn']} is {source['status']}; it must have ended Succeeded or Failed")
    results = {s["name"]: s for s in source["steps"]}
    missing = [n for n in outside if (results.get(n) or {}).get("status") != "Succeeded"]
    if missing:
        raise UserError(
            "E6012",
            f"the selected steps need {', '.join(missing)}, which did not succeed in the source execution {source['arn']}",
            hint="select them too, or name another source execution",
            exit_code=2,
        )
    return {
        name: (results[name]["properties"], source["arn"])
        for name in known
        if name not in chosen and name in results and results[name]["status"] == "Succeeded"
    }
