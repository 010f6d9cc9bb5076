"""Everything SDK v2 builds a spec with: its builders (registered as this module is imported),
its offline PipelineSession, and `finish` (a v2 definition needs no rewriting after the build:
v2 already derives every code key from content)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sagemaker.workflow.pipeline_context import PipelineSession

from sagespec.compiler import clarify, control, external, quality, transform  # noqa: F401  (register the builders both SDKs share)
from sagespec.compiler.offline import SDK_CONFIG, OfflineAws, offline_build, sdk_speedups
from sagespec.compiler.v2 import jobs, models, tuning  # noqa: F401  (register v2's own builders)


@contextmanager
def pipeline_session(offline: OfflineAws, session_spec: dict[str, Any]) -> Iterator[PipelineSession]:
    assert offline.staged is not None, "a build reads its code from the staged copy"
    with sdk_speedups(), offline_build("v2", offline.staged):
        yield PipelineSession(
            boto_session=offline.boto_session(),
            default_bucket=session_spec["default_bucket"],
            # The SDK's own default is None; its annotation says str.
            default_bucket_prefix=session_spec.get("default_bucket_prefix"),  # type: ignore[arg-type]
            sagemaker_config=SDK_CONFIG,
        )


def finish(definition: dict[str, Any], offline: OfflineAws, code_root: str) -> dict[str, Any]:
    return definition
