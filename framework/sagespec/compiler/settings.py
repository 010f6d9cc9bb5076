"""Step retry policies and the pipeline's own settings, as the SDK's objects.

A spec policy lists exception types of both families; the SDK wants one class per family
(StepRetryPolicy for Step.*, SageMakerJobStepRetryPolicy for SageMaker.*), so one spec policy
becomes up to two SDK policies with the same timing. Definition shape and limits: "Retry Policy
for Pipeline Steps" in the SageMaker Developer Guide.
"""

from __future__ import annotations

from typing import Any

from sagespec.compiler.sdk import SdkObject, sdk_class


def retry_policies(declared: list[dict[str, Any]], sdk: str = "v2") -> list[SdkObject]:
    StepRetryPolicy, SageMakerJobStepRetryPolicy = sdk_class(sdk, "StepRetryPolicy"), sdk_class(sdk, "SageMakerJobStepRetryPolicy")
    StepExceptionTypeEnum, SageMakerJobExceptionTypeEnum = (
        sdk_class(sdk, "StepExceptionTypeEnum"),
        sdk_class(sdk, "SageMakerJobExceptionTypeEnum"),
    )

    step_types = {e.value: e for e in StepExceptionTypeEnum}
    job_types = {e.value: e for e in SageMakerJobExceptionTypeEnum}
    policies = []
    for policy in declared:
        timing = {
            "backoff_rate": float(policy.get("backoff_rate", 2.0)),
            "interval_seconds": policy.get("interval_seconds", 1),
            "max_attempts": policy.get("max_attempts"),
            "expire_after_mins": policy.get("expire_after_minutes"),
        }
        for_step = [step_types[e] for e in policy["exceptions"] if e in step_types]
        for_job = [job_types[e] for e in policy["exceptions"] if e in job_types]
        if for_step:
            policies.append(StepRetryPolicy(exception_types=for_step, **timing))
        if for_job:
            policies.append(SageMakerJobStepRetryPolicy(exception_types=for_job, **timing))
    return policies


def definition_config(spec: dict[str, Any], sdk: str = "v2") -> SdkObject | None:
    """PipelineDefinitionConfig, or None for the SDK's default (generated job names)."""

    if (spec.get("settings") or {}).get("custom_job_prefix"):
        return sdk_class(sdk, "PipelineDefinitionConfig")(use_custom_job_prefix=True)
    return None


def max_parallel_steps(spec: dict[str, Any]) -> int | None:
    steps: int | None = (spec.get("settings") or {}).get("max_parallel_steps")
    return steps
