"""Steps that orchestrate rather than run a job: condition, fail, lambda.

They build the same way on SDK v2 and v3 (only the modules differ: compiler.sdk), so one
builder serves both.
"""

from __future__ import annotations

from typing import Any

from sagespec.compiler.build import BuildContext, builder, declared_outputs
from sagespec.compiler.functions import function_arn
from sagespec.compiler.sdk import SdkObject

BOTH = ("v2", "v3")


@builder("fail", BOTH)
def fail(ctx: BuildContext, step: dict[str, Any]) -> SdkObject:
    return ctx.cls("FailStep")(step["name"], error_message=ctx.expr.value(step["error_message"]), **ctx.common(step))


@builder("lambda", BOTH)
def lambda_step(ctx: BuildContext, step: dict[str, Any]) -> SdkObject:
    # The SDK is given the ARN only, never the script: with a script it would create or update the
    # function while writing the definition (compiler.functions does that part on upsert).
    return ctx.cls("LambdaStep")(
        step["name"],
        lambda_func=ctx.cls("Lambda")(function_arn=function_arn(step, ctx.region), session=ctx.session),
        inputs={k: ctx.expr.value(v) for k, v in (step.get("inputs") or {}).items()},
        outputs=declared_outputs(ctx, step, ctx.cls("LambdaOutput"), ctx.cls("LambdaOutputTypeEnum")),
        **ctx.common(step),
    )


def _condition(ctx: BuildContext, declared: dict[str, Any]) -> SdkObject:
    """The SDK condition of a spec condition: a comparison, in, or, not, nested as written."""
    c = ctx.cls("conditions")
    if "or" in declared:
        return c.ConditionOr(conditions=[_condition(ctx, member) for member in declared["or"]])
    if "not" in declared:
        return c.ConditionNot(expression=_condition(ctx, declared["not"]))
    if declared["operator"] == "in":
        return c.ConditionIn(value=ctx.expr.value(declared["value"]), in_values=[ctx.expr.value(v) for v in declared["values"]])
    left, right = ctx.expr.value(declared["left"]), ctx.expr.value(declared["right"])
    if declared["operator"] == "not_equals":
        return c.ConditionNot(expression=c.ConditionEquals(left=left, right=right))
    comparisons = {
        "equals": c.ConditionEquals,
        "greater_than": c.ConditionGreaterThan,
        "greater_than_or_equal_to": c.ConditionGreaterThanOrEqualTo,
        "less_than": c.ConditionLessThan,
        "less_than_or_equal_to": c.ConditionLessThanOrEqualTo,
    }
    return comparisons[declared["operator"]](left=left, right=right)


@builder("condition", BOTH)
def condition(ctx: BuildContext, step: dict[str, Any]) -> SdkObject:
    built = [_condition(ctx, declared) for declared in step["conditions"]]
    return ctx.cls("ConditionStep")(
        step["name"],
        conditions=built,
        if_steps=[ctx.built[n] for n in step.get("if_steps", [])],
        else_steps=[ctx.built[n] for n in step.get("else_steps", [])],
        **ctx.common(step),
    )
