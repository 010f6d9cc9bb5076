"""How sagespec names what it creates, so a deployment can be read back from the endpoint alone:
the model of version N of a group is `<group>-v<N>` and its production variant `v<N>`; a model
package's ARN is its group's with `model-package/<group>/<N>`."""

from __future__ import annotations

import re
from typing import Any

from sagespec.aws import arns
from sagespec.diagnostics import UserError

INSTANCE_TYPE = "ml.m5.large"


def package_arn(group_arn: str, version: int) -> str:
    """The ARN of `version` in the model package group `group_arn`."""
    return group_arn.replace(":model-package-group/", ":model-package/", 1) + f"/{version}"


def package_arn_parts(arn: str) -> tuple[str, str, str, str, int]:
    """(partition, region, account, group, version) of a model package ARN."""
    parsed = arns.parse(arn)
    if parsed is None or not parsed.resource.startswith("model-package/") or parsed.resource.count("/") != 2:
        raise UserError(
            "E6017",
            f"'{arn}' is not a model package ARN",
            hint="arn:<partition>:sagemaker:<region>:<account>:model-package/<group>/<version>",
            exit_code=2,
        )
    _, group, version = parsed.resource.split("/")
    if not version.isdigit():
        raise UserError("E6017", f"'{arn}' does not end in a version number", exit_code=2)
    return parsed.partition, parsed.region, parsed.account, group, int(version)


def model_name(group: str, version: int) -> str:
    return f"{group}-v{version}"[:63]


def variant_name(version: int) -> str:
    return f"v{version}"


def variant_version(name: str) -> int:
    m = re.fullmatch(r"v(\d+)", name)
    if not m:
        raise UserError(
            "E7003",
            f"production variant '{name}' was not deployed by sagespec (expected v<version>)",
            hint="promote a version to replace the endpoint's configuration",
        )
    return int(m.group(1))


def production_variant(version: int, weight: float, group: str, instance_type: str = INSTANCE_TYPE) -> dict[str, Any]:
    return {
        "VariantName": variant_name(version),
        "ModelName": model_name(group, version),
        "InitialVariantWeight": weight,
        "InstanceType": instance_type,
        "InitialInstanceCount": 1,
    }
