"""A local run: the compiled pipeline in the local control plane, with what it needs around it.

Before the first local run of a project its control plane has no policies and no data. So a
run applies the accounts file's rendered policies (the same ones `accounts apply` writes, so
the run is checked against what AWS would enforce) and seeds S3 parameters whose file is
bundled under pipelines/data/ (the California housing archive).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sagespec.definition import defaults

BUNDLED_DATA = Path("pipelines") / "data"


@dataclass
class Prepared:
    applied: int = 0  # policies the run changed in the control plane
    accounts_file: str | None = None
    seeded: list[tuple[str, str]] = field(default_factory=list)  # (s3 uri, bundled file relative to the project)
    uncovered: str | None = None  # the run's pipeline, when the accounts file's roles are not derived from it
    unbuildable: list[str] = field(default_factory=list)  # specs the installed SDK cannot compile, left out of the roles


def prepare_local_run(project, compiled, pipelines, overrides: dict[str, str]) -> Prepared:
    from sagespec.crossaccount.apply import apply_local
    from sagespec.crossaccount.pipelines import pipeline_needs

    prepared = Prepared()
    topology = project.topology()
    if topology.accounts:
        # The roles are derived from every pipeline of the project, as `accounts apply` does. A
        # pipeline outside them gets its grants here too, and the run says `accounts apply` lacks them.
        from sagespec.permissions import needs, places_of

        skipped: list[Path] = []
        # A local run needs the roles of its own pipeline; one that the installed SDK cannot build
        # (E5010 on SDK v3) is left out of them here and named, where `accounts render` refuses.
        found = pipeline_needs(project, skipped=skipped)
        prepared.unbuildable = [str(p.relative_to(project.root)) if p.is_relative_to(project.root) else str(p) for p in skipped]
        if compiled.name not in {n.pipeline for n in found}:
            prepared.uncovered = compiled.name
            found += needs(compiled.name, compiled.definition, compiled.role, places_of(topology))
        prepared.applied = sum(c.changes for c in apply_local(topology, project.workspace, found))
        prepared.accounts_file = topology.source.name if topology.source else None
    for name, default in defaults(compiled.definition).items():
        value = overrides.get(name, default)
        if not isinstance(value, str) or not value.startswith("s3://"):
            continue
        bundled = project.root / BUNDLED_DATA / value.rsplit("/", 1)[-1]
        if bundled.is_file() and pipelines.seed(value, bundled):
            prepared.seeded.append((value, str(bundled.relative_to(project.root))))
    return prepared
