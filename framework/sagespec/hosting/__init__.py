"""Hosting in a workload account: models, endpoint configs and endpoints, SageMaker's way.

Two implementations with the same methods, named after SageMaker's API: `SageMakerHosting`
(boto3 in the workload account, through its profile or an assumed role) and `LocalHosting`
(the control plane's database plus one HTTP server process per endpoint on 127.0.0.1).
Promotion talks to either through this interface only.

Naming, so a deployment can be read back from the endpoint alone: the model of version N of a
group is `<group>-v<N>` and its production variant is `v<N>`.
"""

from __future__ import annotations

import re
from typing import Protocol

from sagespec.diagnostics import UserError

INSTANCE_TYPE = "ml.m5.large"
# SageMaker's limit for a real-time invocation payload.
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024


class Hosting(Protocol):
    account: str

    def describe_model(self, name: str) -> dict | None: ...
    def create_model(self, name: str, package_arn: str, execution_role_arn: str) -> str: ...
    def create_endpoint_config(self, name: str, variants: list[dict]) -> str: ...
    def describe_endpoint_config(self, name: str) -> dict: ...
    def describe_endpoint(self, name: str) -> dict | None: ...
    def create_endpoint(self, name: str, config_name: str) -> dict: ...
    def update_endpoint(self, name: str, config_name: str) -> dict: ...
    def update_endpoint_weights_and_capacities(self, name: str, weights: dict[str, float]) -> dict: ...
    def delete_endpoint(self, name: str) -> None: ...
    def list_endpoints(self) -> list[dict]: ...
    def invoke(self, name: str, body: bytes, content_type: str, target_variant: str | None = None) -> tuple[str, bytes]: ...


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


def production_variant(version: int, weight: float, group: str, instance_type: str = INSTANCE_TYPE) -> dict:
    return {
        "VariantName": variant_name(version),
        "ModelName": model_name(group, version),
        "InitialVariantWeight": weight,
        "InstanceType": instance_type,
        "InitialInstanceCount": 1,
    }
