"""Before the first step: every step the local backend cannot run faithfully, with why, so a run
never starts what it would have to fake (issue 35: no placeholder outputs).

- job steps whose image has no local equivalent here, or lacks its extra (executor.images);
- EMR steps (executor.images: there is no EMR cluster here) and Clarify checks (no local analyzer);
- transforms whose model no local server can load (executor.servable);
- Lambda steps whose function's code is not in the project (executor.lambda_function);
- a step type with no local handler at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sagespec.backends.local.executor import servable
from sagespec.backends.local.executor.handlers import HANDLERS
from sagespec.backends.local.executor.images import problems
from sagespec.backends.local.executor.lambda_function import unservable

RUN_BY_THE_SCHEDULER = {"Condition"}  # evaluated by the execution itself (executor.execution)
REPORTED_BY_IMAGES = {"EMR", "ClarifyCheck"}


def unrunnable_steps(definition_steps: dict[str, dict[str, Any]], workspace: Path) -> list[tuple[str, str]]:
    """(step, why it cannot run here), in the definition's order."""
    found: dict[str, str] = {}
    for name, why in problems(definition_steps) + servable.problems(definition_steps):
        found.setdefault(name, why)
    for name, step in definition_steps.items():
        kind = step.get("Type")
        if name in found:
            continue
        if kind == "Lambda":
            function = unservable(step, workspace)
            if function:
                found[name] = function
        elif kind not in HANDLERS and kind not in RUN_BY_THE_SCHEDULER | REPORTED_BY_IMAGES:
            found[name] = f"the local backend has no runner for {kind} steps: upsert the pipeline to SageMaker"
    return [(name, found[name]) for name in definition_steps if name in found]
