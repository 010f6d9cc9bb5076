"""Transform steps whose model no local server can load, found before the first step runs.

A batch transform runs with the servers of local endpoints (sagespec.backends.local.serving). When
its model comes from a Model step of the same pipeline, that step's containers are known before
the run, so a model this machine cannot serve (an image no local server stands in for, a missing
extra) is refused up front, naming the transform and why, instead of failing it after the steps
before it ran.
"""

from __future__ import annotations

from typing import Any

from sagespec.backends.local.serving import server_for


def _model_step(model_name: object) -> str | None:
    """The Model step a transform's ModelName refers to (`{"Get": "Steps.<name>.ModelName"}`)."""
    if isinstance(model_name, dict) and isinstance(model_name.get("Get"), str):
        parts = model_name["Get"].split(".")
        if len(parts) == 3 and parts[0] == "Steps" and parts[2] == "ModelName":
            return str(parts[1])
    return None


def problems(definition_steps: dict[str, dict[str, Any]]) -> list[tuple[str, str]]:
    """(transform step, why its model cannot be served here) for every such step."""
    found = []
    for name, step in definition_steps.items():
        if step.get("Type") != "Transform":
            continue
        source = _model_step((step.get("Arguments") or {}).get("ModelName"))
        model = definition_steps.get(source or "") or {}
        arguments = model.get("Arguments") or {}
        containers = [arguments["PrimaryContainer"]] if arguments.get("PrimaryContainer") else list(arguments.get("Containers") or [])
        for container in containers:
            if not isinstance(container.get("Image"), str):
                continue  # an image chosen at run time is checked when the model loads
            try:
                server_for(container)
            except ValueError as exc:
                found.append((name, f"its model (step '{source}') cannot be served here: {exc}"))
                break
    return found
