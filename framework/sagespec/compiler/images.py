"""Image URIs a spec asks the SDK for: `image_uri: {framework: xgboost, version: 1.0-1, ...}`.

The SDK examples write `image_uris.retrieve(framework="xgboost", region=region, version="1.0-1",
py_version="py3", instance_type="ml.m5.xlarge")` instead of typing an ECR URI. A spec's image_uri
(of a processor, an estimator, or a model it serves) may be that call's arguments; the compile
resolves it with the installed SDK's own image data for the spec's region (and so its partition),
before anything is built, and the definition holds the URI as the SDK script's would. An
argument that is a pipeline parameter is its default value, as the SDK's retrieve takes one
(sagemaker.workflow.utilities.override_pipeline_parameter_var: "the default_value of this
Parameter object will be used"); validation warns about it (W4005).
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from sagespec.compiler.sdk import sdk_class
from sagespec.diagnostics import Diagnostic, DiagnosticError
from sagespec.spec.references import RETRIEVE_ARGUMENTS, image_places, parameter_named

if TYPE_CHECKING:
    from sagespec.spec.source import SourceMap


def parameter_default(data: dict[str, Any], value: Any) -> Any:
    """`value`, or the default of the parameter it is (`${params.NAME}`, as the schema allows here)."""
    name = parameter_named(value)
    return value if name is None else (data.get("parameters") or {}).get(name, {}).get("default")


def with_images_resolved(data: dict[str, Any], source: SourceMap, region: str, sdk: str) -> dict[str, Any]:
    """`data` with each image_uri given as retrieve's arguments replaced by the URI the SDK
    retrieves; a framework or version it has no image for is a located E5001."""
    if not any(isinstance(holder.get("image_uri"), dict) for _, holder in image_places(data)):
        return data
    resolved, problems = copy.deepcopy(data), []
    image_uris = sdk_class(sdk, "image_uris")
    for path, holder in image_places(resolved):
        if not isinstance(holder.get("image_uri"), dict):
            continue
        asked = holder["image_uri"]
        arguments = {k: parameter_default(data, asked[k]) for k in RETRIEVE_ARGUMENTS if k in asked}
        try:
            holder["image_uri"] = image_uris.retrieve(framework=asked["framework"], region=region, **arguments)
        except (ValueError, KeyError, TypeError, OSError) as refused:  # OSError: no image data for that framework at all
            said = ", ".join(f"{k}={v}" for k, v in {"framework": asked["framework"], **arguments}.items())
            problems.append(
                Diagnostic(
                    "E5001",
                    f"the SageMaker SDK has no image for {said} in {region}: {refused}",
                    source.span((*path, "image_uri")),
                    (*path, "image_uri"),
                    hint="the support reference (docs/reference/support.md) lists each framework's image versions; or write the ECR URI",
                )
            )
    if problems:
        raise DiagnosticError(problems)
    return resolved
