"""Tasks on pipelines: upsert a spec, start an execution (and follow it), run a spec here.

An upsert into an account makes sure the buckets it writes to exist first (or creates them as
the accounts file says). A bucket that is the accounts file's artifact bucket belongs to the
account that owns the artifacts: `--create-bucket` creates it only when called as that account,
with the same bucket policy `accounts render` gives it (the other accounts' grants and TLS
only); from any other account it says where to create it. Any other bucket is created in the
caller's account, TLS only.

A local run (`run`) is upsert + start + wait on the local control plane, with what the first
run of a project needs around it: the accounts file's policies for this pipeline's roles (the
ones `accounts render` derives from it, so the run is checked against what AWS would enforce)
and the bundled data of S3 parameters whose file lies under pipelines/data/.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sagespec.accounts.needs import Need, needs
from sagespec.accounts.render import render
from sagespec.aws import s3
from sagespec.backends.factory import open_pipelines, open_policy_admin, places
from sagespec.backends.protocols import Pipelines
from sagespec.backends.records import StepEvent, UpsertResult
from sagespec.compiler import compiled_before
from sagespec.compiler.compiled import CompiledPipeline
from sagespec.context import Context
from sagespec.definition import defaults
from sagespec.diagnostics import UserError
from sagespec.spec.load import load_spec
from sagespec.workflows.project_pipelines import pipeline_needs, scheduled_need, spec_files
from sagespec.workflows.specs import compiled

BUNDLED_DATA = Path("pipelines") / "data"
OnEvent = Callable[[StepEvent], None]


def _ignore(event: StepEvent) -> None:
    """No one is watching."""


# -- upsert ---------------------------------------------------------------------------------


@dataclass
class Upserted:
    result: UpsertResult
    pipeline: CompiledPipeline
    created: list[str] = field(default_factory=list)  # what was done to create missing buckets


def upsert(ctx: Context, spec: str, role: str | None = None, create_bucket: bool = False, upload_only: bool = False) -> Upserted:
    """Upload SPEC's code and definition and create or update its pipeline (`upload_only`: leave
    the pipeline to a CloudFormation stack)."""
    pipeline = compiled(ctx, spec)
    if ctx.region_option and ctx.region_option != pipeline.region:
        raise UserError(
            "E6003",
            f"the spec targets {pipeline.region} (session.region) but --region is {ctx.region_option}",
            hint="image URIs and ARNs in the definition are regional; change session.region in the spec",
        )
    pipelines = open_pipelines(ctx.for_region(pipeline.region))
    created: list[str] = []
    absent = pipelines.missing_buckets(pipeline)
    if absent and not create_bucket:
        bucket = absent[0]
        configuration = s3.create_bucket_configuration(pipeline.region)
        raise UserError(
            "E6020",
            f"bucket {bucket} does not exist: pipeline {pipeline.name} uploads its code and definition there (session.default_bucket)",
            hint=f"create it with `sagespec upsert SPEC --create-bucket`, or `aws s3api create-bucket --bucket {bucket}`"
            + (f" --create-bucket-configuration LocationConstraint={configuration['LocationConstraint']}" if configuration else ""),
        )
    for bucket in absent:
        created += _create_bucket(ctx, pipeline, pipelines, bucket)
    result = pipelines.upload(pipeline) if upload_only else pipelines.upsert(pipeline, role)
    return Upserted(result, pipeline, created)


def _create_bucket(ctx: Context, pipeline: CompiledPipeline, pipelines: Pipelines, bucket: str) -> list[str]:
    topology = ctx.topology()
    artifacts = topology.artifacts or {}
    policy = None
    if topology.accounts and bucket == artifacts.get("bucket"):
        owner = topology.artifacts_owner
        caller = pipelines.caller_account()
        if caller != owner.id:
            raise UserError(
                "E6020",
                f"bucket {bucket} is the artifact bucket of {topology.source.name if topology.source else 'the accounts file'},"
                f" owned by the {owner.name} account ({owner.id}); you are calling as account {caller}",
                hint=f"create it as {owner.name}: `sagespec upsert SPEC --create-bucket --profile {owner.profile or owner.name}`,"
                " or deploy its template from `sagespec accounts render --output cloudformation -o DIR`",
            )
        policy = next(p.document for a in render(topology, needs=pipeline_needs(ctx)) for p in a.resource_policies if p.kind == "s3-bucket")
    return pipelines.create_bucket(bucket, pipeline.region, artifacts.get("kms_key"), policy)


# -- executions -----------------------------------------------------------------------------


@dataclass
class Started:
    arn: str
    where: str  # the backend's label: "local" | "SageMaker"
    execution: dict[str, Any] | None = None  # the ended execution, when it ran in this process


def start(
    ctx: Context,
    name: str,
    overrides: dict[str, str],
    on_event: OnEvent = _ignore,
    retry: str | None = None,
    display_name: str | None = None,
    max_parallel_steps: int | None = None,
    selected_steps: list[str] | None = None,
    source_execution: str | None = None,
) -> Started:
    """Start an execution of pipeline NAME. The local control plane runs it here to its end,
    reporting each step to `on_event`; SageMaker only starts it (`follow` watches it)."""
    pipelines = open_pipelines(ctx)
    how: dict[str, Any] = {"max_parallel_steps": max_parallel_steps, "selected_steps": selected_steps, "source_execution": source_execution}
    how = {k: v for k, v in how.items() if v}
    result = pipelines.start(name, overrides, on_event=on_event, retry=retry, display_name=display_name, **how)
    return Started(result["arn"], pipelines.label, result if pipelines.runs_here else None)


def running_here(ctx: Context, name: str) -> str:
    """The header of a run on this machine: the pipeline and how its jobs see their container paths."""
    isolation = open_pipelines(ctx).isolation()
    return f"running pipeline {name} locally" + (f" ({isolation})" if isolation else "")


def latest_ended(ctx: Context, name: str) -> str | None:
    """The newest execution of `name` that ended Succeeded or Failed (a selective execution's source)."""
    listed = open_pipelines(ctx).list_executions(name)
    return next((e["arn"] for e in listed if e["status"] in ("Succeeded", "Failed")), None)


def follow(ctx: Context, arn: str, on_event: OnEvent = _ignore) -> dict[str, Any]:
    """Report each step change of an execution running elsewhere until it ends; the ended execution."""
    return open_pipelines(ctx).follow(arn, on_event)


# -- a local run ----------------------------------------------------------------------------


@dataclass
class Prepared:
    applied: int = 0  # policies the run changed in the control plane
    accounts_file: str | None = None
    seeded: list[tuple[str, str]] = field(default_factory=list)  # (s3 uri, bundled file relative to the project)
    uncovered: str | None = None  # the run's pipeline, when the accounts file does not derive its roles from it
    left_out: list[str] = field(default_factory=list)  # the accounts file's other specs not compiled here yet


@dataclass
class Ran:
    pipeline: CompiledPipeline
    stored: UpsertResult
    prepared: Prepared
    execution: dict[str, Any]
    isolation: str | None = None  # how the jobs see their container paths (the run's header)


def run(
    ctx: Context, spec: str, overrides: dict[str, str], on_event: OnEvent = _ignore, before: Callable[[Ran], None] | None = None
) -> Ran:
    """Compile SPEC (and nothing else), store it in the local control plane, prepare what its
    first run needs and run it here to its end. `before` sees what was stored and prepared
    before the first step starts."""
    local = ctx.with_target("local")
    pipeline = compiled(local, spec)
    local = local.for_region(pipeline.region)
    pipelines = open_pipelines(local)
    stored = pipelines.upsert(pipeline)
    prepared = prepare_local_run(local, pipeline, Path(spec), pipelines, overrides)
    ran = Ran(pipeline, stored, prepared, {}, pipelines.isolation())
    if before is not None:
        before(ran)
    ran.execution = pipelines.start(pipeline.name, overrides, on_event=on_event)
    return ran


def _needs_of(ctx: Context, pipeline: CompiledPipeline) -> list[Need]:
    found = needs(pipeline.name, pipeline.definition, pipeline.role, places(ctx))
    if pipeline.schedule:
        found.append(scheduled_need(pipeline.name, pipeline.role, pipeline.pipeline_arn()))
    return found


def prepare_local_run(ctx: Context, pipeline: CompiledPipeline, spec: Path, pipelines: Pipelines, overrides: dict[str, str]) -> Prepared:
    """The accounts file's policies and the bundled data its S3 parameters name, in the local
    control plane.

    The roles are rendered as `accounts apply` renders them, from what the accounts file's
    pipelines need, so the run is decided as AWS would decide it. Only this spec is compiled: the
    others count with the definitions compiled before from their current inputs (the compile
    cache); one not compiled in this workspace yet is left out, and named."""
    prepared = Prepared()
    topology = ctx.topology()
    if topology.accounts:
        found = _needs_of(ctx, pipeline)
        this = spec.resolve()
        listed = spec_files(ctx, None)
        for other in listed:
            if other.resolve() == this:
                continue
            before = compiled_before(load_spec(other, ctx.root), ctx.compile_cache)
            if before is None:
                prepared.left_out.append(str(other.relative_to(ctx.root)) if other.is_relative_to(ctx.root) else str(other))
            else:
                found += _needs_of(ctx, before)
        admin = open_policy_admin(ctx)
        changes = admin.plan(topology, found)
        admin.execute(changes)
        prepared.applied = sum(c.changes for c in changes)
        prepared.accounts_file = topology.source.name if topology.source else None
        if this not in {f.resolve() for f in listed}:
            prepared.uncovered = pipeline.name
    for name, default in defaults(pipeline.definition).items():
        value = overrides.get(name, default)
        if not isinstance(value, str) or not value.startswith("s3://"):
            continue
        bundled = ctx.root / BUNDLED_DATA / value.rsplit("/", 1)[-1]
        if bundled.is_file() and pipelines.seed(value, bundled):
            prepared.seeded.append((value, str(bundled.relative_to(ctx.root))))
    return prepared
