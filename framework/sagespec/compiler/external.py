"""Steps whose work happens outside SageMaker: a callback to another system, an EMR step.

Their outputs are referenced like a Lambda step's (`${steps.S.outputs.NAME}`), so callback
outputs go into the same table of declared step outputs. Both build the same way on SDK v2 and v3.
"""

from __future__ import annotations

from typing import Any

from sagespec.compiler.build import BuildContext, builder, cache_config, declared_outputs
from sagespec.compiler.sdk import SdkObject


@builder("callback", ("v2", "v3"))
def callback(ctx: BuildContext, step: dict[str, Any]) -> SdkObject:
    return ctx.cls("CallbackStep")(
        step["name"],
        sqs_queue_url=step["queue_url"],
        inputs={k: ctx.expr.value(v) for k, v in (step.get("inputs") or {}).items()},
        outputs=declared_outputs(ctx, step, ctx.cls("CallbackOutput"), ctx.cls("CallbackOutputTypeEnum")),
        **ctx.common(step),
    )


@builder("emr", ("v2", "v3"))
def emr(ctx: BuildContext, step: dict[str, Any]) -> SdkObject:
    config = ctx.cls("EMRStepConfig")(
        jar=step["jar"],
        args=[ctx.expr.value(a) for a in step.get("args", [])] or None,
        main_class=step.get("main_class"),
        properties=[{"Key": k, "Value": v} for k, v in sorted((step.get("step_properties") or {}).items())] or None,
    )
    common = ctx.common(step)
    return ctx.cls("EMRStep")(
        step["name"],
        display_name=common.pop("display_name", None),
        description=common.pop("description", None),
        cluster_id=ctx.expr.value(step["cluster_id"]) if "cluster_id" in step else None,
        cluster_config=ctx.expr.nested(step.get("cluster_config")),
        step_config=config,
        cache_config=cache_config(step["cache"], ctx.sdk) if step.get("cache") else None,
        execution_role_arn=step.get("execution_role_arn"),
        **common,
    )
