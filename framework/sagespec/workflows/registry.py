"""Tasks on the model registry, as a caller (`as_`: an account of the topology, an account ID or a
role ARN locally; a profile on AWS): groups, versions, approval, lineage, group policies."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sagespec.backends.factory import open_registry
from sagespec.backends.records import ApprovalChange, LineageEntry, ModelPackage, ModelPackageGroup, check_status
from sagespec.context import Context
from sagespec.diagnostics import UserError

# The image a version registered by hand is served with unless one is named: the TensorFlow
# Serving CPU image the California housing model was trained for (AWS Deep Learning Containers,
# "Available Deep Learning Containers Images"), in the context's region.
DEFAULT_INFERENCE = ("tensorflow", "inference", "2.13", "2.13-cpu")


@dataclass(frozen=True)
class Registration:
    """What `models register` sends: CreateModelPackage's InferenceSpecification and ModelMetrics."""

    inference_specification: dict[str, Any]
    model_metrics: dict[str, Any] | None
    lineage: list[LineageEntry]


def registration(
    model_data: str, image: str | None, content_types: Sequence[str], response_types: Sequence[str], metrics_uri: str | None, region: str
) -> Registration:
    """A version registered by hand: one container serving `model_data`, optional model-quality metrics."""
    from sagespec.aws.images import framework_image  # start-up: the image table only for `models register`

    image = image or framework_image(*DEFAULT_INFERENCE[:3], region, DEFAULT_INFERENCE[3])
    if image is None:
        raise UserError("E6005", f"AWS publishes no TensorFlow Serving image in {region}", hint="name one with --image", exit_code=2)
    spec = {
        "Containers": [{"Image": image, "ModelDataUrl": model_data}],
        "SupportedContentTypes": list(content_types),
        "SupportedResponseMIMETypes": list(response_types),
    }
    metrics = {"ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": metrics_uri}}} if metrics_uri else None
    lineage = [LineageEntry("model", model_data)] + ([LineageEntry("metrics", metrics_uri)] if metrics_uri else [])
    return Registration(spec, metrics, lineage)


def groups(ctx: Context, as_: str | None) -> list[ModelPackageGroup]:
    """The model package groups the caller can see."""
    return open_registry(ctx, as_).list_groups()


def create_group(ctx: Context, as_: str | None, name: str, description: str | None = None) -> ModelPackageGroup:
    return open_registry(ctx, as_).create_group(name, description)


def register(
    ctx: Context,
    as_: str | None,
    group: str,
    model_data: str,
    image: str | None,
    content_types: Sequence[str],
    response_types: Sequence[str],
    metrics_uri: str | None,
    status: str,
    description: str | None,
    metadata: dict[str, str] | None,
) -> ModelPackage:
    """Register a version by hand (pipelines register through their register_model step)."""
    check_status(status)
    made = registration(model_data, image, content_types, response_types, metrics_uri, ctx.region)
    return open_registry(ctx, as_).register(
        group, made.inference_specification, status, made.model_metrics, metadata or None, description, made.lineage
    )


def versions(ctx: Context, as_: str | None, group: str, status: str | None = None, latest: bool = False) -> list[ModelPackage]:
    """Versions of GROUP (a name, or the ARN of a group in another account), newest first."""
    return open_registry(ctx, as_).list_packages(group, status, latest)


def describe(ctx: Context, as_: str | None, arn: str) -> tuple[ModelPackage, list[ApprovalChange]]:
    """A version and its approval history."""
    registry = open_registry(ctx, as_)
    return registry.describe(arn), registry.history(arn)


def set_status(ctx: Context, as_: str | None, arn: str, status: str, reason: str) -> ModelPackage:
    """Approve or reject a version, saying why (kept in its history)."""
    return open_registry(ctx, as_).update_status(arn, status, reason)


def lineage(ctx: Context, as_: str | None, arn: str) -> tuple[ModelPackage, list[LineageEntry]]:
    """Where a version came from: data -> execution -> model -> package (-> endpoints)."""
    registry = open_registry(ctx, as_)
    return registry.describe(arn), registry.lineage(arn)


def get_policy(ctx: Context, as_: str | None, group: str) -> dict[str, Any] | None:
    return open_registry(ctx, as_).get_policy(group)


def put_policy(ctx: Context, as_: str | None, group: str, policy: dict[str, Any]) -> None:
    open_registry(ctx, as_).put_policy(group, policy)
