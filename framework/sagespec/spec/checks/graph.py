"""The step graph must be acyclic, and each step may sit in at most one condition branch."""

from __future__ import annotations

from sagespec.spec.checks.base import CheckContext, rule
from sagespec.spec.dependencies import find_cycles


@rule
def no_cycles(ctx: CheckContext) -> None:
    steps = ctx.data.get("steps")
    if not isinstance(steps, list):
        return
    index = {name: i for name, (i, _) in ctx.steps_by_name.items()}
    for cycle in find_cycles(steps):
        members = cycle[:-1]
        if not all(m in index for m in members):
            continue
        # Start the cycle at the step written first in the file, and report it there.
        start = min(range(len(members)), key=lambda k: index[members[k]])
        members = members[start:] + members[:start]
        first = members[0]
        if len(members) == 1:  # ${...} self-references never become edges; these come from names
            ctx.report("E3003", f"step '{first}' waits for itself (depends_on, model or property file)", ("steps", index[first], "name"))
            continue
        shown = " -> ".join(members + [first])
        ctx.report(
            "E3003",
            f"dependency cycle: {shown}",
            ("steps", index[first], "name"),
            hint="'A -> B' means A waits for B (a reference, depends_on, model or branch); break one link",
        )


@rule
def one_branch_per_step(ctx: CheckContext) -> None:
    owner: dict[str, str] = {}
    for i, step in ctx.steps():
        for branch in ("if_steps", "else_steps"):
            for j, member in enumerate(step.get(branch) or []):
                path = ("steps", i, branch, j)
                if member == step["name"]:
                    ctx.report("E3003", f"condition step '{member}' lists itself in {branch}", path)
                    continue
                where = f"{branch} of '{step['name']}'"
                if member in owner:
                    ctx.report(
                        "E3007",
                        f"step '{member}' is in {where} and already in {owner[member]}",
                        path,
                        hint="a step runs in at most one branch; copy it under another name if both branches need it",
                    )
                else:
                    owner[member] = where
