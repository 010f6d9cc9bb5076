"""Everything SDK v3 builds a spec with: its builders (registered as this module is imported,
inside compiler.offline.default_region: v3 needs a region while importing), its offline
PipelineSession, and `finish`, which moves the code v3 uploads under content-hash keys."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sagemaker.core.workflow.pipeline_context import PipelineSession

from sagespec.compiler import clarify, control, external, quality, transform  # noqa: F401  (register the builders both SDKs share)
from sagespec.compiler.offline import SDK_CONFIG, OfflineAws, offline_build, sdk_speedups
from sagespec.compiler.v3 import jobs, models  # noqa: F401  (register v3's own builders)
from sagespec.compiler.v3.session import content_hash_keys


@contextmanager
def pipeline_session(offline: OfflineAws, session_spec: dict[str, Any]) -> Iterator[PipelineSession]:
    assert offline.staged is not None, "a build reads its code from the staged copy"
    with sdk_speedups("v3"), offline_build("v3", offline.staged):
        yield PipelineSession(
            boto_session=offline.boto_session(),
            default_bucket=session_spec["default_bucket"],
            default_bucket_prefix=session_spec.get("default_bucket_prefix"),
            sagemaker_config=SDK_CONFIG,
        )


finish = content_hash_keys
