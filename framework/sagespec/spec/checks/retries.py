"""Retry policies SageMaker would not apply as written ("Retry Policy for Pipeline Steps").

- create_model and register_model steps start no SageMaker job, so SageMaker.* exception types
  cannot occur there (the SDK's ModelStep refuses SageMakerJobStepRetryPolicy for them);
- the jobs of a tuning step retry internal errors themselves and "will not retry the
  SageMaker.JOB_INTERNAL_ERROR exception type, even if a retry policy is configured".
"""

from __future__ import annotations

from sagespec.spec.checks.base import CheckContext, rule

NO_JOB = ("create_model", "register_model", "emr")  # an EMR step runs on EMR, not as a SageMaker job


@rule
def retry_policies_apply(ctx: CheckContext) -> None:
    for i, step in ctx.steps():
        policies = step.get("retry")
        for j, policy in enumerate(policies if isinstance(policies, list) else []):
            listed = policy.get("exceptions") if isinstance(policy, dict) else None
            for k, exception in enumerate(listed if isinstance(listed, list) else []):
                where = ("steps", i, "retry", j, "exceptions", k)
                if step.get("kind") in NO_JOB and isinstance(exception, str) and exception.startswith("SageMaker."):
                    ctx.report(
                        "E4019",
                        f"step '{step['name']}' is a {step['kind']} step and starts no SageMaker job: {exception} cannot occur",
                        where,
                        hint="retry it on Step.SERVICE_FAULT or Step.THROTTLING",
                    )
                elif step.get("kind") == "tuning" and exception == "SageMaker.JOB_INTERNAL_ERROR":
                    ctx.report(
                        "W4003",
                        f"tuning step '{step['name']}': SageMaker does not retry {exception} for tuning jobs, whose training jobs retry it themselves",
                        where,
                    )
