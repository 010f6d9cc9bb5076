"""What every step builder shares: the table of builders by SDK and kind, the build context,
and the pieces steps of several kinds take (caching, retries, outputs, networks, processors).

Builders register themselves by kind (`@builder("processing")`), so adding a kind is adding a
function, not extending a type switch. Each receives the build context (session, role,
expressions, the steps built so far, where the code is staged) and the validated spec step.
Nothing here imports the SDK: classes that live in different places in v2 and v3 are looked up
through compiler.sdk. The SDK-specific builders are compiler.v2 and compiler.v3.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Literal, TypeAlias, TypeVar

from sagespec.compiler.expressions import Expressions
from sagespec.compiler.sdk import SdkObject, sdk_class
from sagespec.compiler.settings import retry_policies

# A builder: (the build context, the validated spec step) -> the SDK step it builds.
Builder: TypeAlias = "Callable[[BuildContext, dict[str, Any]], SdkObject]"
B = TypeVar("B", bound=Builder)

# SDK ("v2" or "v3") -> step kind -> builder. A kind missing for an SDK is a spec feature that
# SDK's backend does not build yet (compiler.v3.unsupported says so, located).
BUILDERS: dict[str, dict[str, Builder]] = {"v2": {}, "v3": {}}

DEFAULT_CACHE_EXPIRY = "P30D"
CONTAINER_MODEL_DIR = "/opt/ml/model"  # explicit: the SDK's default embeds a timestamped job name


def builder(kind: str, sdks: tuple[str, ...] = ("v2",)) -> Callable[[B], B]:
    def register(fn: B) -> B:
        for sdk in sdks:
            BUILDERS[sdk][kind] = fn
        return fn

    return register


@dataclass
class BuildContext:
    session: SdkObject  # PipelineSession
    spec: dict[str, Any]
    expr: Expressions
    built: dict[str, SdkObject] = field(default_factory=dict)  # step name -> SDK step
    # training or tuning step name -> (estimator, spec step)
    estimators: dict[str, tuple[SdkObject, dict[str, Any]]] = field(default_factory=dict)
    sdk: str = "v2"
    code_root: Path = Path(".")  # where the spec's code is staged (compiler.staging)

    def cls(self, name: str) -> SdkObject:
        """An SDK class this context's SDK keeps somewhere of its own (compiler.sdk.LOCATIONS)."""
        return sdk_class(self.sdk, name)

    def code(self, relative: str) -> str:
        """A code path of the spec (relative to the project) as the SDK is given it: the staged copy's."""
        return str(self.code_root / relative)

    @property
    def role(self) -> str:
        role: str = self.spec["session"]["role"]
        return role

    @property
    def region(self) -> str:
        region: str = self.spec["session"]["region"]
        return region

    def pipeline_uri(self, *parts: str) -> str:
        """s3://<default bucket>/<default prefix>/<pipeline>/<parts...>: where this pipeline's
        code and outputs go when the spec names no place."""
        session = self.spec["session"]
        keys = [session.get("default_bucket_prefix"), self.spec["name"], *parts]
        return f"s3://{session['default_bucket']}/" + "/".join(k for k in keys if k)

    def common(self, step: dict[str, Any], cacheable: bool = False) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        if step.get("display_name"):
            kwargs["display_name"] = step["display_name"]
        if step.get("description"):
            kwargs["description"] = step["description"]
        if step.get("depends_on"):
            kwargs["depends_on"] = [self.built[name] for name in step["depends_on"]]
        if cacheable and step.get("cache"):
            kwargs["cache_config"] = cache_config(step["cache"], self.sdk)
        if step.get("retry"):
            kwargs["retry_policies"] = retry_policies(step["retry"], self.sdk)
        return kwargs


def declared_outputs(ctx: BuildContext, step: dict[str, Any], output_class: SdkObject, types: SdkObject) -> list[SdkObject]:
    """A Lambda or callback step's outputs as the SDK's output objects, noted for `${steps.S.outputs.O}`."""
    outputs = []
    for declared in step.get("outputs", []):
        outputs.append(output_class(output_name=declared["name"], output_type=types[declared.get("type", "String")]))
        ctx.expr.declared_outputs[(step["name"], declared["name"])] = outputs[-1]
    return outputs


def cache_config(cache: Literal[True] | dict[str, Any], sdk: str = "v2") -> SdkObject:
    CacheConfig = sdk_class(sdk, "CacheConfig")

    if cache is True:
        return CacheConfig(enable_caching=True, expire_after=DEFAULT_CACHE_EXPIRY)
    return CacheConfig(enable_caching=cache.get("enabled", True), expire_after=cache["expire_after"])


def container_argument(value: object) -> object:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def tags_of(spec: dict[str, Any]) -> list[dict[str, str]] | None:
    return [{"Key": k, "Value": v} for k, v in (spec.get("tags") or {}).items()] or None


def network_config(spec: dict[str, Any], sdk: str = "v2") -> SdkObject | None:
    """A processing job's NetworkConfig (VPC, isolation, encryption), or None when nothing is set."""
    if not any(spec.get(k) for k in ("vpc", "enable_network_isolation", "encrypt_inter_container_traffic")):
        return None
    NetworkConfig = sdk_class(sdk, "NetworkConfig")

    vpc = spec.get("vpc") or {}
    return NetworkConfig(
        enable_network_isolation=spec.get("enable_network_isolation", False),
        security_group_ids=vpc.get("security_group_ids"),
        subnets=vpc.get("subnets"),
        encrypt_inter_container_traffic=spec.get("encrypt_inter_container_traffic"),
    )


def processor_arguments(ctx: BuildContext, spec: dict[str, Any], tags: list[SdkObject] | None) -> dict[str, Any]:
    """What every processor takes, on either SDK: role, resources, limits, environment, keys,
    network (`tags` in the SDK's own form: dicts on v2, Tag shapes on v3)."""
    return dict(
        role=ctx.role,
        instance_type=ctx.expr.value(spec["instance_type"]),
        instance_count=ctx.expr.value(spec.get("instance_count", 1)),
        volume_size_in_gb=ctx.expr.value(spec.get("volume_size_gb", 30)),
        max_runtime_in_seconds=ctx.expr.value(spec.get("max_runtime_seconds")),
        env=ctx.expr.mapping(spec.get("environment")),
        base_job_name=spec.get("base_job_name"),
        tags=tags,
        volume_kms_key=spec.get("volume_kms_key"),
        output_kms_key=spec.get("output_kms_key") or ctx.spec["session"].get("kms_key"),  # as training's
        network_config=network_config(spec, ctx.sdk),
        sagemaker_session=ctx.session,
    )


def property_files(ctx: BuildContext, step: dict[str, Any]) -> list[SdkObject] | None:
    """A processing step's PropertyFiles, noted for the JsonGet of `{step, property_file, json_path}`."""
    found = []
    for declared in step.get("property_files", []):
        prop = ctx.cls("PropertyFile")(name=declared["name"], output_name=declared["output"], path=declared["path"])
        ctx.expr.property_files[(step["name"], declared["name"])] = prop
        found.append(prop)
    return found or None


def run_framework_processor(
    ctx: BuildContext,
    processor: SdkObject,
    step: dict[str, Any],
    inputs: list[SdkObject],
    outputs: list[SdkObject],
    arguments: list[Any] | None,
) -> SdkObject:
    """`processor.run` of a FrameworkProcessor (both SDKs): with a source_dir, the script is named
    relative to it (validation keeps it directly inside)."""
    source_dir = step.get("source_dir")
    return processor.run(
        code=PurePosixPath(step["code"]).name if source_dir else ctx.code(step["code"]),
        source_dir=ctx.code(source_dir) if source_dir else None,
        inputs=inputs or None,
        outputs=outputs or None,
        arguments=arguments,
    )
