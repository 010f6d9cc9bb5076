"""What the scripts that run the bundled pipelines share: a copy of the project on fewer rows (and
one network instead of an ensemble), and a spec's rendered steps, whose arguments and
hyperparameters a baseline passes to the same scripts as the local executor does.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from _timing import ROOT

# The preprocess arguments of every bundled template begin so; --max-rows goes in front.
PREPROCESS_ARGUMENTS = "\"{{ ['--seed', split_seed | string, "
_PARAM = re.compile(r"^\$\{params\.(\w+)\}$")


def project_copy(target: Path, max_rows: int | None = None, ensemble: int | None = None) -> Path:
    """The project's specs, templates, code and data copied to `target` (the accounts file names
    every spec, so they travel together); the templates' preprocess steps read only the first
    `max_rows` rows, and california_housing.yaml trains `ensemble` networks."""
    target.mkdir(parents=True, exist_ok=True)
    for name in ("pyproject.toml", "pipelines", "training_code", "xgboost_code", "sklearn_code"):
        source = ROOT / name
        shutil.copytree(source, target / name) if source.is_dir() else shutil.copy(source, target / name)
    if max_rows:
        for template in (target / "pipelines" / "templates").glob("*.yaml"):
            text = template.read_text()
            fewer = text.replace(PREPROCESS_ARGUMENTS, f"\"{{{{ ['--max-rows', '{max_rows}', '--seed', split_seed | string, ")
            if fewer == text:
                raise SystemExit(f"{template.name}: the preprocess arguments moved; update bench/_project.py")
            template.write_text(fewer)
    if ensemble:
        spec = target / "pipelines" / "california_housing.yaml"
        text = spec.read_text()
        changed = re.sub(r"(?m)^    ensemble: \d+$", f"    ensemble: {ensemble}", text)
        if changed == text and f"    ensemble: {ensemble}\n" not in text:
            raise SystemExit("california_housing.yaml: no `ensemble:` to change; update bench/_project.py")
        spec.write_text(changed)
    return target


def rendered_steps(spec: Path, root: Path = ROOT) -> tuple[dict, dict]:
    """(steps by name, parameter defaults) of a rendered spec."""
    from sagespec.spec.load import load_spec

    result = load_spec(spec, root)
    if not result.ok:
        raise SystemExit(f"{spec} does not validate: run `sagespec validate {spec}`")
    data = result.document.data
    return {s["name"]: s for s in data["steps"]}, {k: v.get("default") for k, v in (data.get("parameters") or {}).items()}


def resolved(value, parameters: dict) -> str:
    """A step argument as the executor passes it: `${params.X}` is the parameter's value."""
    match = _PARAM.match(str(value))
    return str(parameters[match[1]]) if match else str(value)


def arguments(step: dict, parameters: dict) -> list[str]:
    return [resolved(a, parameters) for a in step.get("arguments") or []]


def hyperparameters(step: dict, parameters: dict) -> list[str]:
    """`--name value` for each hyperparameter (SageMaker's script-mode command line)."""
    return [part for k, v in (step.get("hyperparameters") or {}).items() for part in (f"--{k}", resolved(v, parameters))]
