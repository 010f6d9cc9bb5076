"""Compile a validated spec into a SageMaker SDK Pipeline (v2 or v3) and its definition JSON.

Every `sagemaker` import lives in this package, so commands that need no SDK start fast. The
installed SDK's major selects the backend (compiler.sdk); both build from the same spec through
one table of builders per SDK (compiler.builders.BUILDERS), v3's in compiler.v3, and what v3
does not build yet is one located error per feature (compiler.v3.unsupported). Compilation runs
offline (see `offline.py`) from a staged copy of the code (see `staging.py`), so the output is
byte-identical for the same inputs on any machine, with the same content-hash code keys a real
upsert uploads to.

The definition JSON is the contract: upsert sends it to SageMaker, diff compares it, and the
local executor runs it.
"""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from sagespec.aws import arns, partitions
from sagespec.aws.logs import quiet
from sagespec.compiler.offline import OfflineAws, OfflineCallError, Upload
from sagespec.definition import canonical_json
from sagespec.diagnostics import Diagnostic, DiagnosticError
from sagespec.spec import SpecResult

# Bump when the compiler's output changes for the same inputs (invalidates cached definitions).
COMPILER_FORMAT = 3

# SDK -> the module with its offline `pipeline_session` and its `finish` of the definition.
BACKENDS = {"v2": "sagespec.compiler.v2.session", "v3": "sagespec.compiler.v3.session"}


@dataclass
class CompiledPipeline:
    name: str
    definition: dict
    uploads: list[Upload] = field(default_factory=list)
    description: str | None = None
    tags: dict = field(default_factory=dict)
    role: str = ""
    region: str = ""
    max_parallel_steps: int | None = None  # ParallelismConfiguration: not in the definition, sent with it
    from_cache: bool = False
    default_bucket: str = ""
    default_bucket_prefix: str | None = None
    schedule: dict | None = None  # EventBridge Scheduler's CreateSchedule parts (compiler.schedules.schedule_of)
    sdk: str = "v2"  # the SageMaker Python SDK major that built it
    warnings: list[Diagnostic] = field(default_factory=list)  # the spec's warnings (not part of a cached entry)

    @property
    def definition_json(self) -> str:
        return canonical_json(self.definition)

    def pipeline_arn(self, account: str | None = None) -> str:
        """The pipeline's ARN in `account` (default: its execution role's account, where the
        accounts file runs its pipelines), in the partition of that role."""
        role = arns.parse(self.role)
        if role is None:
            raise ValueError(f"session.role {self.role} is not a role ARN")
        return partitions.partition(role.partition).sagemaker(self.region, account or role.account, f"pipeline/{self.name}")

    @property
    def definition_upload(self) -> Upload:
        """The definition as an S3 object at a content-hash key beside the code: what an upsert
        uploads and a CloudFormation template's PipelineDefinitionS3Location names."""
        import hashlib

        body = self.definition_json.encode()
        parts = [self.default_bucket_prefix, self.name, "definitions", f"{hashlib.sha256(body).hexdigest()}.json"]
        return Upload(self.default_bucket, "/".join(p for p in parts if p), body)


def build_order(steps: list[dict]) -> list[str]:
    """Names in an order where everything a step's constructor needs is built before it.

    A step needs the steps it references; a condition needs its branch steps (it takes them as
    objects), even though at run time those run after it.
    """
    from sagespec.spec.dependencies import edges

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


def _quiet_sdk():
    """The SDK logs INFO/WARNING chatter on every build; users see our diagnostics instead."""
    os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")  # the v2 deprecation banner
    quiet(("sagemaker", "sagemaker.config"), "ERROR")  # v3's own logging: compiler.v3.session
    quiet()  # the SDK configures logging; boto's INFO stays quiet
    warnings.filterwarnings("ignore", module=r"sagemaker(\..*)?")


def build_pipeline(data: dict, session, sdk: str = "v2"):
    """The SDK Pipeline object for validated, rendered spec data (the cwd holds the staged code)."""
    from sagespec.compiler import control, external, quality, transform, tuning  # noqa: F401  (register their builders)
    from sagespec.compiler.builders import BUILDERS, BuildContext
    from sagespec.compiler.expressions import Expressions
    from sagespec.compiler.sdk import sdk_class

    if sdk == "v3":
        from sagespec.compiler.v3 import jobs, models  # noqa: F401  (register their builders; transform is shared)
    kinds = {t: sdk_class(sdk, f"Parameter{t}") for t in ("String", "Integer", "Float", "Boolean")}
    parameters = {}
    for name, decl in (data.get("parameters") or {}).items():
        default = decl.get("default")
        if decl["type"] == "Float" and isinstance(default, int) and not isinstance(default, bool):
            default = float(default)  # YAML reads `1` as an integer; a Float parameter's default is 1.0
        kwargs = {"name": name, "default_value": default}
        if decl.get("enum"):
            kwargs["enum_values"] = decl["enum"]
        parameters[name] = kinds[decl["type"]](**kwargs)
    ctx = BuildContext(session=session, spec=data, expr=Expressions(parameters, {}, {}, {}, sdk), sdk=sdk)
    ctx.expr.steps = ctx.built
    by_name = {s["name"]: (i, s) for i, s in enumerate(data["steps"])}
    for name in build_order(data["steps"]):
        index, step = by_name[name]
        try:
            ctx.built[name] = BUILDERS[sdk][step["kind"]](ctx, step)
        except OfflineCallError:
            raise
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise _StepRejected(index, name, exc) from exc
    in_branch = {n for s in data["steps"] for key in ("if_steps", "else_steps") for n in s.get(key, [])}
    top_level = [ctx.built[s["name"]] for s in data["steps"] if s["name"] not in in_branch]
    from sagespec.compiler.settings import definition_config

    options = {"pipeline_definition_config": config} if (config := definition_config(data, sdk)) else {}
    Pipeline = sdk_class(sdk, "Pipeline")
    return Pipeline(name=data["name"], parameters=list(parameters.values()), steps=top_level, sagemaker_session=session, **options)


class _StepRejected(Exception):
    def __init__(self, index: int, name: str, cause: Exception):
        self.index, self.name, self.cause = index, name, cause


def _unsupported(result: SpecResult, sdk: str) -> None:
    """Every spec feature the chosen backend does not build yet, one located E5010 each."""
    if sdk != "v3":
        return
    from sagespec.compiler.v3.unsupported import HINT, problems

    found = problems(result.document.data)
    if found:
        source = result.document.source
        raise DiagnosticError([Diagnostic("E5010", f"SDK v3: {message}", source.span(path), path, hint=HINT) for path, message in found])


def _compile_uncached(result: SpecResult, sdk: str) -> CompiledPipeline:
    import importlib

    from sagespec.compiler.staging import code_paths, staged

    _unsupported(result, sdk)
    _quiet_sdk()
    data = result.document.data
    session_spec = data["session"]
    offline = OfflineAws(region=session_spec["region"], buckets=(session_spec["default_bucket"],))
    backend = importlib.import_module(BACKENDS[sdk])
    from sagespec.compiler.schedules import schedule_of
    from sagespec.compiler.settings import max_parallel_steps

    with (
        tempfile.TemporaryDirectory(prefix="sagespec-compile-") as scratch,
        staged(result.project_root, code_paths(data), Path(scratch)),
        backend.pipeline_session(offline, session_spec) as session,
    ):
        try:
            pipeline = build_pipeline(data, session, sdk)
            code_root = "/".join(p for p in (session_spec["default_bucket"], session_spec.get("default_bucket_prefix"), data["name"]) if p)
            definition = backend.finish(json.loads(pipeline.definition()), offline, f"s3://{code_root}/code")
        except _StepRejected as rejected:
            span = result.document.source.span(("steps", rejected.index, "name"))
            raise DiagnosticError(
                [
                    Diagnostic(
                        "E5001",
                        f"the SageMaker SDK rejected step '{rejected.name}': {rejected.cause}",
                        span,
                        ("steps", rejected.index),
                        hint="check framework versions, instance types and references of this step",
                    )
                ]
            ) from None
        except OfflineCallError as exc:
            raise DiagnosticError([Diagnostic("E5003", str(exc), result.document.source.span(()))]) from None
        except (ValueError, TypeError, KeyError) as exc:
            raise DiagnosticError(
                [Diagnostic("E5002", f"the SageMaker SDK rejected the pipeline: {exc}", result.document.source.span(()))]
            ) from None
    return CompiledPipeline(
        name=data["name"],
        definition=definition,
        uploads=sorted(offline.uploads.values(), key=lambda u: u.uri),
        description=data.get("description"),
        tags=dict(data.get("tags") or {}),
        role=session_spec["role"],
        region=session_spec["region"],
        max_parallel_steps=max_parallel_steps(data),
        default_bucket=session_spec["default_bucket"],
        default_bucket_prefix=session_spec.get("default_bucket_prefix"),
        schedule=schedule_of(data, definition),
        sdk=sdk,
    )


def compiled_before(result: SpecResult, cache_dir: Path) -> CompiledPipeline | None:
    """The definition compiled before from exactly these inputs, if the cache holds it (never
    builds, never imports the SDK); None for an invalid spec or a miss."""
    from sagespec.compiler import cache
    from sagespec.spec.files import UnsafePath

    if not result.ok:
        return None
    try:
        return cache.load(cache_dir, cache.input_key(result))
    except UnsafePath:
        return None


def compile_spec(result: SpecResult, cache_dir: Path | None = None, sdk: str | None = None) -> CompiledPipeline:
    """Compile a loaded spec. Raises DiagnosticError when the spec is invalid or the SDK rejects it.

    With `cache_dir`, a definition compiled before from identical inputs is reused without
    importing the SDK. `sdk` ("v2"/"v3", else SAGESPEC_SDK) must name the installed SDK's major:
    one environment holds one of them.
    """
    if not result.ok:
        raise DiagnosticError([d for d in result.diagnostics if d.severity == "error"])
    from sagespec.compiler import cache
    from sagespec.compiler.sdk import SdkUnavailable, choose
    from sagespec.spec.files import UnsafePath

    try:
        sdk = choose(sdk)
    except SdkUnavailable as refused:
        raise DiagnosticError([Diagnostic("E5011", str(refused), result.document.source.span(()))]) from None

    try:
        key = cache.input_key(result) if cache_dir else None
        if key:
            hit = cache.load(cache_dir, key)
            if hit is not None:
                return hit
        compiled = _compile_uncached(result, sdk)
    except UnsafePath as refused:  # a link or special file that appeared after validation
        raise DiagnosticError([Diagnostic("E4005", refused.message, result.document.source.span(()))]) from None
    if key:
        cache.store(cache_dir, key, compiled)
    return compiled
