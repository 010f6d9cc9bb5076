"""Every ${...} reference and every step name must resolve to something that exists and is produced."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sagespec.diagnostics.suggest import did_you_mean
from sagespec.spec import references as syntax
from sagespec.spec.checks.base import CheckContext, rule
from sagespec.spec.references import TRAINING_KINDS
from sagespec.spec.schema import load_schema

if TYPE_CHECKING:
    from sagespec.spec.source import Path as JsonPath

# Top-level SageMaker properties per step kind (DescribeProcessingJob, DescribeTrainingJob, ...).
PROPERTIES = {
    "processing": {
        "ProcessingJobName",
        "ProcessingJobArn",
        "ProcessingJobStatus",
        "ProcessingOutputConfig",
        "ProcessingInputs",
        "ProcessingResources",
        "ExitMessage",
        "FailureReason",
        "AppSpecification",
    },
    "training": {
        "TrainingJobName",
        "TrainingJobArn",
        "TrainingJobStatus",
        "ModelArtifacts",
        "FinalMetricDataList",
        "HyperParameters",
        "OutputDataConfig",
        "ResourceConfig",
        "AlgorithmSpecification",
        "TrainingTimeInSeconds",
        "BillableTimeInSeconds",
        "FailureReason",
    },
    # DescribeTransformJob.
    "transform": {
        "TransformJobName",
        "TransformJobArn",
        "TransformJobStatus",
        "ModelName",
        "TransformInput",
        "TransformOutput",
        "TransformResources",
        "DataProcessing",
        "FailureReason",
    },
    # DescribeHyperParameterTuningJob and ListTrainingJobsForHyperParameterTuningJob (best first).
    "tuning": {
        "HyperParameterTuningJobName",
        "HyperParameterTuningJobArn",
        "HyperParameterTuningJobStatus",
        "HyperParameterTuningJobConfig",
        "TrainingJobDefinition",
        "BestTrainingJob",
        "OverallBestTrainingJob",
        "TrainingJobSummaries",
        "TrainingJobStatusCounters",
        "ObjectiveStatusCounters",
        "FailureReason",
    },
    "register_model": {
        "ModelPackageArn",
        "ModelPackageName",
        "ModelPackageGroupName",
        "ModelPackageVersion",
        "ModelApprovalStatus",
        "ModelPackageStatus",
        "CreationTime",
    },
    "create_model": {"ModelName", "ModelArn", "PrimaryContainer", "ExecutionRoleArn"},
    "lambda": set(),
    "callback": set(),
    "quality_check": {
        "CalculatedBaselineStatistics",
        "CalculatedBaselineConstraints",
        "BaselineUsedForDriftCheckStatistics",
        "BaselineUsedForDriftCheckConstraints",
    },
    "clarify_check": {"CalculatedBaselineConstraints", "BaselineUsedForDriftCheckConstraints"},
    "emr": {"ClusterId", "StepId"},  # what DescribeStep of the EMR API returns as the step's identity
    "condition": {"Outcome"},
    "fail": set(),
}


def _check_reference(ctx: CheckContext, ref: syntax.Reference, path: JsonPath) -> None:
    if ref.form == "params":
        if ref.name not in ctx.parameters:
            ctx.report(
                "E3002",
                f"{ref.text} refers to an unknown parameter '{ref.name}'",
                path,
                hint=did_you_mean(ref.name, ctx.parameters) or f"declared parameters: {', '.join(ctx.parameters) or 'none'}",
            )
        return
    if ref.form == "execution":
        return
    steps = ctx.steps_by_name
    if ref.name not in steps:
        ctx.report(
            "E3001",
            f"{ref.text} refers to an unknown step '{ref.name}'",
            path,
            hint=did_you_mean(ref.name, steps) or f"steps: {', '.join(steps)}",
        )
        return
    step = steps[ref.name][1]
    kind = step.get("kind")
    if kind not in step_kinds():
        return  # the schema reports the unknown kind at the step itself; nothing is known of what it offers
    if ref.form == "outputs":
        if kind in ("processing", "lambda", "callback"):
            names = [o["name"] for _, o in ctx.named_items(step, "outputs")]
        else:
            ctx.report(
                "E3005",
                f"{ref.text}: step '{ref.name}' is a {kind} step and has no outputs",
                path,
                hint="outputs exist on processing, lambda and callback steps; a training step offers ${steps.NAME.model_artifacts}",
            )
            return
        if ref.attribute not in names:
            ctx.report(
                "E3005",
                f"{ref.text}: step '{ref.name}' has no output '{ref.attribute}'",
                path,
                hint=did_you_mean(ref.attribute, names) or f"its outputs: {', '.join(names) or 'none'}",
            )
    elif ref.form == "model_artifacts" and kind == "tuning":
        ctx.report(
            "E3005",
            f"{ref.text}: step '{ref.name}' is a tuning step; it runs many training jobs",
            path,
            hint=f"the best job's model is ${{steps.{ref.name}.best_model_artifacts}}",
        )
    elif ref.form == "model_artifacts" and kind != "training":
        ctx.report("E3005", f"{ref.text}: step '{ref.name}' is a {kind} step; only training steps produce model artifacts", path)
    elif ref.form == "best_model_artifacts" and kind != "tuning":
        hint = f"a training step's model is ${{steps.{ref.name}.model_artifacts}}" if kind == "training" else None
        ctx.report("E3005", f"{ref.text}: step '{ref.name}' is a {kind} step; only tuning steps have a best model", path, hint=hint)
    elif ref.form == "monitoring_analysis_config_uri" and kind != "clarify_check":
        ctx.report(
            "E3005",
            f"{ref.text}: step '{ref.name}' is a {kind} step; only clarify_check steps have a monitoring analysis config",
            path,
        )
    elif ref.form == "properties":
        known = PROPERTIES.get(kind, set()) if isinstance(kind, str) else set()
        assert ref.attribute is not None  # the properties form always has its path
        head = ref.attribute.split(".")[0].split("[")[0]
        if head not in known:
            ctx.report(
                "E3005",
                f"{ref.text}: a {kind} step has no property '{head}'",
                path,
                hint=did_you_mean(head, known) or (f"its properties: {', '.join(sorted(known))}" if known else None),
            )


@rule
def references_resolve(ctx: CheckContext) -> None:
    for i, step in ctx.steps():
        for path, text in ctx.step_strings(i):
            if "${" not in text:
                continue
            parts, problems = syntax.parse(text)
            for problem in problems:
                ctx.report("E3004", problem.message, path, hint=problem.hint)
            for part in parts:
                if isinstance(part, syntax.Reference):
                    if part.step == step["name"]:
                        ctx.report("E3003", f"step '{step['name']}' refers to itself: {part.text}", path)
                        continue
                    _check_reference(ctx, part, path)


def _check_step_name(ctx: CheckContext, name: object, path: JsonPath, what: str) -> None:
    steps = ctx.steps_by_name
    if isinstance(name, str) and name not in steps:
        ctx.report("E3001", f"{what} names an unknown step '{name}'", path, hint=did_you_mean(name, steps) or f"steps: {', '.join(steps)}")


@rule
def step_names_resolve(ctx: CheckContext) -> None:
    steps = ctx.steps_by_name
    for i, step in ctx.steps():
        for key in ("depends_on", "if_steps", "else_steps"):
            for j, name in enumerate(step.get(key) or []):
                _check_step_name(ctx, name, ("steps", i, key, j), f"{key} of step '{step['name']}'")
        model_step = step.get("model_step") if step.get("kind") == "transform" else None
        if isinstance(model_step, str):
            path: JsonPath = ("steps", i, "model_step")
            _check_step_name(ctx, model_step, path, f"model_step of step '{step['name']}'")
            if model_step in steps and steps[model_step][1].get("kind") != "create_model":
                kind = steps[model_step][1].get("kind")
                ctx.report(
                    "E3005",
                    f"model_step of step '{step['name']}' names '{model_step}', a {kind} step",
                    path,
                    hint="name a create_model step",
                )
        for below, model in syntax.model_sources(step):
            if not isinstance(model.get("training_step"), str):
                continue
            target = model["training_step"]
            path = ("steps", i, *below, "training_step")
            _check_step_name(ctx, target, path, f"model.training_step of step '{step['name']}'")
            if target in steps and steps[target][1].get("kind") not in TRAINING_KINDS:
                ctx.report(
                    "E3005",
                    f"model.training_step of step '{step['name']}' names '{target}', a {steps[target][1].get('kind')} step",
                    path,
                    hint="name the training step whose model artifact should be used (or a tuning step: its best job's)",
                )


def step_kinds() -> list[str]:
    """The step kinds the schema knows (its `step` definition's kind enum)."""
    kinds: list[str] = load_schema()["$defs"]["step"]["properties"]["kind"]["enum"]
    return kinds
