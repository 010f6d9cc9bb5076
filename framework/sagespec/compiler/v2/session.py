"""The SDK v2 backend's session: an offline PipelineSession with v2's speed-ups (compiler.offline).

Its builders are the original ones (compiler.builders, tuning, transform, quality); a v2
definition needs no rewriting after the build, because v2 already derives every code key from
content.
"""

from __future__ import annotations

from contextlib import contextmanager

from sagespec.compiler.offline import SDK_CONFIG, OfflineAws, sdk_speedups


@contextmanager
def pipeline_session(offline: OfflineAws, session_spec: dict):
    from sagemaker.workflow.pipeline_context import PipelineSession

    with sdk_speedups():
        yield PipelineSession(
            boto_session=offline.boto_session(),
            default_bucket=session_spec["default_bucket"],
            default_bucket_prefix=session_spec.get("default_bucket_prefix"),
            sagemaker_config=SDK_CONFIG,
        )


def finish(definition: dict, offline: OfflineAws, code_root: str) -> dict:
    return definition
