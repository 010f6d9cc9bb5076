"""Batch transform jobs SageMaker would refuse, found before the upsert.

Sources: the API reference's CreateTransformJob (BatchStrategy "to enable the batch strategy, you
must set SplitType to Line, RecordIO, or TFRecord"; MaxPayloadInMB at most 100, and
MaxConcurrentTransforms x MaxPayloadInMB at most 100 too) and DataProcessing (InputFilter and
OutputFilter are JSONPath expressions, "Associate Prediction Results with Input Records").
"""

from __future__ import annotations

from sagespec.spec.checks.base import CheckContext, rule

MAX_PAYLOAD_TIMES_CONCURRENCY_MB = 100


def _jsonpath_problem(path: str) -> str | None:
    if not path.startswith("$"):
        return "a JSONPath starts with $"
    from jsonpath_ng.parser import parse  # start-up: only for a spec with transform filters, not for every validate

    try:
        parse(path)
    except Exception as exc:  # jsonpath-ng raises bare Exceptions for some syntax
        return str(exc).splitlines()[0]
    return None


@rule
def transform_jobs_are_valid(ctx: CheckContext) -> None:
    for i, step in ctx.steps():
        if step.get("kind") != "transform":
            continue
        where = ("steps", i)
        for key in ("input_filter", "output_filter"):
            if isinstance(step.get(key), str):
                problem = _jsonpath_problem(step[key])
                if problem:
                    ctx.report("E4018", f"{key} {step[key]!r} of step '{step['name']}' is not a JSONPath: {problem}", where + (key,))
        split = (step.get("input") or {}).get("split_type", "None") if isinstance(step.get("input"), dict) else "None"
        if step.get("strategy") and split == "None":
            ctx.report(
                "E4018",
                f"strategy {step['strategy']} of step '{step['name']}' needs input.split_type (Line, RecordIO or TFRecord)",
                where + ("strategy",),
                hint="records come from splitting each object: input: {..., split_type: Line}",
            )
        payload, concurrent = step.get("max_payload_mb"), step.get("max_concurrent_transforms")
        if isinstance(payload, int) and isinstance(concurrent, int) and payload * concurrent > MAX_PAYLOAD_TIMES_CONCURRENCY_MB:
            ctx.report(
                "E4018",
                f"max_concurrent_transforms x max_payload_mb is {payload * concurrent} MB; SageMaker allows at most 100",
                where + ("max_payload_mb",),
            )
