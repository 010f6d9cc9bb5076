"""Building the SDK Pipeline of a validated spec: its parameters, then each step by its kind's
builder, in an order where everything a step's constructor needs is built before it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sagespec.compiler.build import BUILDERS, BuildContext
from sagespec.compiler.expressions import Expressions
from sagespec.compiler.offline import OfflineCallError
from sagespec.compiler.sdk import SdkObject, sdk_class
from sagespec.compiler.settings import definition_config
from sagespec.spec.dependencies import edges


class StepRejected(Exception):
    """The SDK refused to build a step (its message says why)."""

    def __init__(self, index: int, name: str, cause: Exception):
        super().__init__(str(cause))
        self.index, self.name, self.cause = index, name, cause


def build_order(steps: list[dict[str, Any]]) -> list[str]:
    """Names in an order where everything a step's constructor needs is built before it.

    A step needs the steps it references; a condition needs its branch steps (it takes them as
    objects), even though at run time those run after it.
    """
    names = [s["name"] for s in steps]
    needs: dict[str, set[str]] = {n: set() for n in names}
    for e in edges(steps):
        if e.why in ("if", "else"):
            needs[e.needs].add(e.step)
        else:
            needs[e.step].add(e.needs)
    order: list[str] = []
    done: set[str] = set()
    while len(order) < len(names):
        ready = [n for n in names if n not in done and needs[n] <= done]
        if not ready:  # validation rejects cycles; this is a guard, not a path
            raise ValueError(f"cannot order steps: {sorted(set(names) - done)}")
        order.append(ready[0])
        done.add(ready[0])
    return order


def build_pipeline(data: dict[str, Any], session: SdkObject, sdk: str, code_root: Path) -> SdkObject:
    """The SDK Pipeline object for validated, rendered spec data, its code staged at `code_root`
    (the SDK's builders are registered: compiler.v2.backend, compiler.v3.backend)."""
    kinds = {t: sdk_class(sdk, f"Parameter{t}") for t in ("String", "Integer", "Float", "Boolean")}
    parameters: dict[str, SdkObject] = {}
    for name, decl in (data.get("parameters") or {}).items():
        default = decl.get("default")
        if decl["type"] == "Float" and isinstance(default, int) and not isinstance(default, bool):
            default = float(default)  # YAML reads `1` as an integer; a Float parameter's default is 1.0
        kwargs: dict[str, Any] = {"name": name, "default_value": default}
        if decl.get("enum"):
            kwargs["enum_values"] = decl["enum"]
        parameters[name] = kinds[decl["type"]](**kwargs)
    ctx = BuildContext(session=session, spec=data, expr=Expressions(parameters, {}, {}, {}, sdk), sdk=sdk, code_root=code_root)
    ctx.expr.steps = ctx.built
    by_name = {s["name"]: (i, s) for i, s in enumerate(data["steps"])}
    for name in build_order(data["steps"]):
        index, step = by_name[name]
        try:
            ctx.built[name] = BUILDERS[sdk][step["kind"]](ctx, step)
        except OfflineCallError:
            raise
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise StepRejected(index, name, exc) from exc
    in_branch = {n for s in data["steps"] for key in ("if_steps", "else_steps") for n in s.get(key, [])}
    top_level = [ctx.built[s["name"]] for s in data["steps"] if s["name"] not in in_branch]
    options = {"pipeline_definition_config": config} if (config := definition_config(data, sdk)) else {}
    Pipeline = sdk_class(sdk, "Pipeline")
    return Pipeline(name=data["name"], parameters=list(parameters.values()), steps=top_level, sagemaker_session=session, **options)
