"""An uncached compile: the spec's code staged in a scratch folder, the SDK's offline session,
the build, and the definition JSON with the uploads it names.

The SDK is given the staged copy's paths. It names code uploads after a hash of the path
strings it is given; compiler.offline has it hash the paths as they are written in the spec
(relative to the project), so the keys, and so the definition, are the same on every machine and
in every scratch folder, and the working directory is never changed.
"""

from __future__ import annotations

import importlib
import json
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sagespec.compiler.clarify import with_fixed_keys
from sagespec.compiler.compiled import CompiledPipeline
from sagespec.compiler.functions import lambda_functions
from sagespec.compiler.images import with_images_resolved
from sagespec.compiler.offline import OfflineAws, OfflineCallError, default_region, quiet_sdk, shared_service_data
from sagespec.compiler.pipeline import StepRejected, build_pipeline
from sagespec.compiler.schedules import schedule_of
from sagespec.compiler.settings import max_parallel_steps
from sagespec.compiler.staging import code_paths, stage
from sagespec.compiler.v3.unsupported import HINT, problems
from sagespec.diagnostics import Diagnostic, DiagnosticError
from sagespec.spec.load import SpecResult

if TYPE_CHECKING:
    from sagespec.spec.source import SourceMap

# SDK -> its backend: the module that registers its builders and has its offline
# `pipeline_session` and its `finish` of the definition. Imported when a compile needs it (the
# SDK is only imported then, inside the region default_region offers).
BACKENDS = {"v2": "sagespec.compiler.v2.backend", "v3": "sagespec.compiler.v3.backend"}


def _unsupported(data: dict[str, Any], source: SourceMap, sdk: str) -> None:
    """Every spec feature the chosen backend does not build yet, one located E5010 each."""
    found = problems(data) if sdk == "v3" else []
    if found:
        raise DiagnosticError([Diagnostic("E5010", f"SDK v3: {message}", source.span(path), path, hint=HINT) for path, message in found])


def compile_uncached(result: SpecResult, sdk: str) -> CompiledPipeline:
    document, root = result.document, result.project_root
    assert document is not None and isinstance(document.data, dict) and root is not None, "a valid spec, loaded from its project"
    data, source = document.data, document.source
    _unsupported(data, source, sdk)
    session_spec = data["session"]
    code_uri = "s3://" + "/".join(p for p in (session_spec["default_bucket"], session_spec.get("default_bucket_prefix"), data["name"]) if p)
    with (
        tempfile.TemporaryDirectory(prefix="sagespec-compile-") as scratch,
        quiet_sdk(),
        default_region(session_spec["region"]),
        shared_service_data(),
    ):
        code_root = stage(root, code_paths(data), Path(scratch))
        offline = OfflineAws(region=session_spec["region"], buckets=(session_spec["default_bucket"],), staged=code_root)
        backend = importlib.import_module(BACKENDS[sdk])
        with backend.pipeline_session(offline, session_spec) as session:
            data = with_images_resolved(data, source, session_spec["region"], sdk)
            try:
                pipeline = build_pipeline(data, session, sdk, code_root)
                definition = backend.finish(json.loads(pipeline.definition()), offline, f"{code_uri}/code")
                functions = lambda_functions(data, code_root)
            except StepRejected as rejected:
                span = source.span(("steps", rejected.index, "name"))
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
                raise DiagnosticError([Diagnostic("E5003", str(exc), source.span(()))]) from None
            except (ValueError, TypeError, KeyError) as exc:
                raise DiagnosticError([Diagnostic("E5002", f"the SageMaker SDK rejected the pipeline: {exc}", source.span(()))]) from None
    return CompiledPipeline(
        name=data["name"],
        definition=definition,
        uploads=with_fixed_keys(sorted(offline.uploads.values(), key=lambda u: u.uri), definition),
        description=data.get("description"),
        tags=dict(data.get("tags") or {}),
        role=session_spec["role"],
        region=session_spec["region"],
        max_parallel_steps=max_parallel_steps(data),
        default_bucket=session_spec["default_bucket"],
        default_bucket_prefix=session_spec.get("default_bucket_prefix"),
        schedule=schedule_of(data, definition),
        sdk=sdk,
        functions=functions,
    )
