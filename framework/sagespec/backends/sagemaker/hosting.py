"""Hosting in a workload account with boto3 (the session is that account's profile or assumed role)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, cast

import botocore.exceptions

from sagespec.aws.limits import MAX_PAYLOAD_BYTES
from sagespec.aws.sessions import aws_errors
from sagespec.diagnostics import UserError

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_sagemaker.type_defs import ProductionVariantTypeDef, WaiterConfigTypeDef
    from mypy_boto3_sagemaker_runtime.type_defs import InvokeEndpointInputTypeDef

WAITER: WaiterConfigTypeDef = {"Delay": 30, "MaxAttempts": 120}  # endpoints take minutes; give up after an hour


class SageMakerHosting:
    def __init__(self, session: boto3.Session, account: str, waiter: WaiterConfigTypeDef | None = None):
        self.session, self.account = session, account
        self.sm = session.client("sagemaker")
        self.waiter = waiter or WAITER

    def _described_or_none(self, what: str, call: Callable[..., Mapping[str, Any]], **request: str) -> Mapping[str, Any] | None:
        """A Describe* answer, or None where SageMaker says it "Could not find" the resource."""

        try:
            return call(**request)
        except botocore.exceptions.ClientError as exc:
            if f"Could not find {what}" in str(exc):
                return None
            with aws_errors(f"describing {what} {next(iter(request.values()))} in {self.account}"):
                raise

    def describe_model(self, name: str) -> dict[str, Any] | None:
        described = self._described_or_none("model", self.sm.describe_model, ModelName=name)
        if described is None:
            return None
        container = described.get("PrimaryContainer") or (described.get("Containers") or [{}])[0]
        return {**described, "ModelPackageName": container.get("ModelPackageName")}

    def create_model(self, name: str, package_arn: str, execution_role_arn: str) -> str:
        # SageMaker resolves image and model data from the (cross-account) package as the caller.
        with aws_errors(f"creating model {name} from {package_arn} in {self.account}"):
            return self.sm.create_model(
                ModelName=name, ExecutionRoleArn=execution_role_arn, Containers=[{"ModelPackageName": package_arn}]
            )["ModelArn"]

    def create_endpoint_config(self, name: str, variants: list[dict[str, Any]]) -> str:
        # The variants are CreateEndpointConfig's ProductionVariants (sagespec.backends.names.production_variant).
        production_variants = cast("list[ProductionVariantTypeDef]", variants)
        with aws_errors(f"creating endpoint config {name} in {self.account}"):
            return self.sm.create_endpoint_config(EndpointConfigName=name, ProductionVariants=production_variants)["EndpointConfigArn"]

    def describe_endpoint_config(self, name: str) -> dict[str, Any]:
        with aws_errors(f"describing endpoint config {name} in {self.account}"):
            return dict(self.sm.describe_endpoint_config(EndpointConfigName=name))

    def describe_endpoint(self, name: str) -> dict[str, Any] | None:
        described = self._described_or_none("endpoint", self.sm.describe_endpoint, EndpointName=name)
        return None if described is None else {**described, "Account": self.account}

    def _wait(self, name: str) -> dict[str, Any]:
        try:
            self.sm.get_waiter("endpoint_in_service").wait(EndpointName=name, WaiterConfig=self.waiter)
        except botocore.exceptions.WaiterError as exc:
            reason = (exc.last_response or {}).get("FailureReason") or str(exc)
            raise UserError("E7003", f"endpoint {name} in {self.account} did not become InService: {reason}") from None
        described = self.describe_endpoint(name)
        if described is None:  # deleted between the waiter's last look and this one
            raise UserError("E7003", f"endpoint {name} in {self.account} was deleted while waiting for it")
        return described

    def create_endpoint(self, name: str, config_name: str) -> dict[str, Any]:
        with aws_errors(f"creating endpoint {name} in {self.account}"):
            self.sm.create_endpoint(EndpointName=name, EndpointConfigName=config_name)
        return self._wait(name)

    def update_endpoint(self, name: str, config_name: str) -> dict[str, Any]:
        with aws_errors(f"updating endpoint {name} in {self.account}"):
            self.sm.update_endpoint(EndpointName=name, EndpointConfigName=config_name)
        return self._wait(name)

    def update_endpoint_weights_and_capacities(self, name: str, weights: dict[str, float]) -> dict[str, Any]:
        with aws_errors(f"updating the variant weights of {name} in {self.account}"):
            self.sm.update_endpoint_weights_and_capacities(
                EndpointName=name, DesiredWeightsAndCapacities=[{"VariantName": v, "DesiredWeight": w} for v, w in weights.items()]
            )
        return self._wait(name)

    def delete_endpoint(self, name: str) -> None:
        with aws_errors(f"deleting endpoint {name} in {self.account}"):
            self.sm.delete_endpoint(EndpointName=name)

    def list_endpoints(self) -> list[dict[str, Any]]:
        found = []
        with aws_errors(f"listing endpoints in {self.account}"):
            for page in self.sm.get_paginator("list_endpoints").paginate():
                found += [self.describe_endpoint(e["EndpointName"]) for e in page["Endpoints"]]
        return [e for e in found if e]

    def invoke(self, name: str, body: bytes, content_type: str, target_variant: str | None = None) -> tuple[str, bytes]:
        if len(body) > MAX_PAYLOAD_BYTES:
            raise UserError("E7004", f"a request of {len(body)} bytes exceeds SageMaker's 6 MB limit")
        request: InvokeEndpointInputTypeDef = {
            "EndpointName": name,
            "Body": body,
            "ContentType": content_type,
            "Accept": "application/json",
        }
        if target_variant:
            request["TargetVariant"] = target_variant
        with aws_errors(f"invoking endpoint {name} in {self.account}"):
            answer = self.session.client("sagemaker-runtime").invoke_endpoint(**request)
        return answer.get("InvokedProductionVariant", ""), answer["Body"].read()
