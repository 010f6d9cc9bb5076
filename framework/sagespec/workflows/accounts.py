"""Tasks on the cross-account topology: render every account's policies, check them, apply them;
render the deployment account's CI/CD.

The roles are derived from the project's pipelines, as `accounts apply` derives them (every spec
the accounts file names, or every spec under pipelines/); PATHS only narrow which requests
`check --pipelines` decides, and a grant is unused only if no pipeline needs it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sagespec.accounts import check as matrix_check
from sagespec.accounts import coverage
from sagespec.accounts.changes import Change
from sagespec.accounts.cicd import render as render_cicd
from sagespec.accounts.files import policy_files, read_policy_files
from sagespec.accounts.render import render
from sagespec.backends.factory import open_policy_admin
from sagespec.compiler.cloudformation import template
from sagespec.context import Context
from sagespec.workflows.project_pipelines import compile_all, pipeline_needs


def render_policies(ctx: Context, output: str) -> dict[str, dict[str, Any]]:
    """Every account's policies (json: a file per policy and role; cloudformation: a template per
    account), by relative path."""
    topology = ctx.topology(validate=True)
    return policy_files(topology, output, pipeline_needs(ctx))


@dataclass
class Checked:
    cells: list[matrix_check.Cell]
    verdicts: list[coverage.Verdict] = field(default_factory=list)
    unused: list[coverage.Unused] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.cells) and all(v.allowed for v in self.verdicts)


def check(ctx: Context, with_pipelines: bool = False, paths: list[str] | None = None, policy_folder: Path | None = None) -> Checked:
    """The access matrix of the workflow; with `with_pipelines`, every request of every step of the
    pipelines (PATHS, default the accounts file's) decided, and the grants no pipeline uses."""
    topology = ctx.topology(validate=True)
    everything = pipeline_needs(ctx)
    asked = pipeline_needs(ctx, paths) if paths else everything
    policies = render(topology, needs=everything)
    if policy_folder is not None:
        policies = read_policy_files(policies, policy_folder)
    cells = matrix_check.matrix(topology, policies)
    if not with_pipelines:
        return Checked(cells)
    return Checked(cells, coverage.decide(asked, policies, topology), coverage.unused_grants(everything, policies))


def apply(ctx: Context, assume_role_name: str | None = None, dry_run: bool = False) -> list[Change]:
    """Apply the rendered policies (or, `dry_run`, only say what would change)."""
    admin = open_policy_admin(ctx, assume_role_name)
    changes = admin.plan(ctx.topology(validate=True), pipeline_needs(ctx))
    if not dry_run:
        admin.execute(changes)
    return changes


def cicd(ctx: Context, with_pipelines: bool = False) -> dict[str, dict[str, Any] | str]:
    """The promotion trigger, pipeline, workload deployer role, buildspec and workflow; with
    `with_pipelines`, each of the project's pipelines as a stack (pipeline.<name>.template.json)."""
    rendered: dict[str, dict[str, Any] | str] = dict(render_cicd(ctx.topology(validate=True)))
    if with_pipelines:
        for spec in compile_all(ctx):
            rendered[f"pipeline.{spec.pipeline.name}.template.json"] = template(spec.pipeline)
    return rendered
