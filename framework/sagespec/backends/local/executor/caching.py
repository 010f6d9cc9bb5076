"""The step cache's rules: which objects a step reads (their bytes are part of its key) and how
long a CacheConfig's ExpireAfter lasts."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sagespec.aws.durations import duration_seconds
from sagespec.definition.expressions import Context, EvaluationError

if TYPE_CHECKING:
    from sagespec.backends.local.objects import ObjectStore


def input_uris(arguments: dict[str, Any]) -> list[str]:
    """What a step reads (not where it writes): processing inputs, training channels, submitted code."""
    uris = [i.get("S3Input", {}).get("S3Uri") for i in arguments.get("ProcessingInputs", [])]
    uris += [c["DataSource"]["S3DataSource"]["S3Uri"] for c in arguments.get("InputDataConfig", [])]
    code = (arguments.get("HyperParameters") or {}).get("sagemaker_submit_directory")
    if isinstance(code, str):
        uris.append(code.strip('"'))
    return sorted({u for u in uris if isinstance(u, str) and u.startswith("s3://")})


def expire_after(text: str) -> timedelta:
    """ExpireAfter as a timedelta (30 days when it is not a duration)."""

    seconds = duration_seconds(text)
    return timedelta(days=30) if seconds is None else timedelta(seconds=seconds)


def cache_key(step: dict[str, Any], ctx: Context, objects: ObjectStore) -> str | None:
    """SageMaker's rule: same step type and resolved arguments (execution variables left as
    names) -> same result. Stricter: the bytes of every input object count too. None when the
    step does not cache or its arguments cannot be resolved yet."""
    config = step.get("CacheConfig") or {}
    if not config.get("Enabled"):
        return None
    symbolic = Context(ctx.parameters, {k: f"${{Execution.{k}}}" for k in ctx.execution}, dict(ctx.steps), ctx.read_property_file)
    try:
        arguments = symbolic.resolve(step["Arguments"])
    except EvaluationError:
        return None
    hashes = [(uri, objects.sha256(uri)) for prefix in input_uris(arguments) for uri in objects.list(prefix)]
    return hashlib.sha256(json.dumps([step["Type"], arguments, hashes], sort_keys=True).encode()).hexdigest()
