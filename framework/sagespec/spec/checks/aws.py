"""AWS consistency: ARNs agree with the session's region and partition, and cross-account
registration has a KMS key the other accounts can use."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from sagespec.aws.arns import parse as parse_arn
from sagespec.diagnostics import DiagnosticError
from sagespec.spec.checks.base import CheckContext, rule
from sagespec.spec.checks.values import quoted
from sagespec.spec.references import RETRIEVE_ARGUMENTS, image_places, model_sources, parameter_named
from sagespec.spec.schema import load_schema
from sagespec.spec.topology import load_topology

if TYPE_CHECKING:
    from sagespec.spec.source import Path as JsonPath


def _session(ctx: CheckContext) -> dict[str, Any]:
    session = ctx.data.get("session")
    return session if isinstance(session, dict) else {}


def registration_group(ctx: CheckContext, i: int, step: dict[str, Any]) -> tuple[object, JsonPath]:
    """A register step's group as the checks see it, and where it is written: the literal, or,
    for ${params.NAME}, the parameter's default (what rendered policies and a default run use)."""
    name = parameter_named(step.get("model_package_group"))
    if name is None:
        return step.get("model_package_group"), ("steps", i, "model_package_group")
    parameter = ctx.parameters.get(name)
    parameter = parameter if isinstance(parameter, dict) else {}
    return parameter.get("default"), ("parameters", name, "default")


@rule
def group_parameters_name_a_group(ctx: CheckContext) -> None:
    """A group given as a parameter is a String whose default is a group name or ARN (the
    schema's modelPackageGroup): SageMaker resolves it when the step runs, so a wrong default
    would only fail there."""

    group = re.compile(load_schema()["$defs"]["modelPackageGroup"]["pattern"])
    for _, step in ctx.steps():
        name = parameter_named(step.get("model_package_group")) if step.get("kind") == "register_model" else None
        parameter = ctx.parameters.get(name) if name else None
        if not name or not isinstance(parameter, dict):
            continue  # not a parameter, or an unknown one (the reference check reports it)
        if parameter.get("type") != "String":
            ctx.report("E4016", f"parameter '{name}' names a model package group: it must be a String", ("parameters", name, "type"))
        elif not isinstance(parameter.get("default"), str) or not group.match(parameter["default"]):
            ctx.report(
                "E4016",
                f"parameter '{name}' names the model package group of step '{step['name']}': its default must be a group name or ARN",
                ("parameters", name, "default") if "default" in parameter else ("parameters", name),
                hint="a group name, or a group ARN: arn:<partition>:sagemaker:<region>:<account>:model-package-group/<name>",
            )


@rule
def approval_parameters_name_a_status(ctx: CheckContext) -> None:
    """An approval status given as a parameter (as the SDK's examples write it) is a String whose
    default is a ModelApprovalStatus: SageMaker would refuse another value only when the step runs."""
    statuses = load_schema()["$defs"]["registerModelStep"]["properties"]["approval_status"]["oneOf"][0]["enum"]
    for _, step in ctx.steps():
        name = parameter_named(step.get("approval_status")) if step.get("kind") == "register_model" else None
        parameter = ctx.parameters.get(name) if name else None
        if not name or not isinstance(parameter, dict):
            continue
        if parameter.get("type") != "String":
            ctx.report(
                "E4008",
                f"parameter '{name}' is the approval status of step '{step['name']}': it must be a String",
                ("parameters", name, "type"),
            )
        elif parameter.get("default") not in statuses:
            ctx.report(
                "E2004",
                f"{quoted(parameter.get('default'))} is not a ModelApprovalStatus (the default of parameter '{name}', step '{step['name']}')",
                ("parameters", name, "default") if "default" in parameter else ("parameters", name),
                hint="one of: " + ", ".join(statuses),
            )


def _kms_key_for(ctx: CheckContext, training_step: tuple[int, dict[str, Any]] | None) -> tuple[str | None, JsonPath]:
    if training_step and isinstance(training_step[1].get("output_kms_key"), str):
        return training_step[1]["output_kms_key"], ("steps", training_step[0], "output_kms_key")
    return _session(ctx).get("kms_key"), ("session", "kms_key")


@rule
def arns_match_session(ctx: CheckContext) -> None:
    session = _session(ctx)
    region = session.get("region")
    role = parse_arn(session.get("role"))
    partition = role.partition if role else None
    candidates: list[tuple[JsonPath, object]] = [(("session", "kms_key"), session.get("kms_key"))]
    for i, step in ctx.steps():
        for key in ("output_kms_key", "function_arn"):
            candidates.append((("steps", i, key), step.get(key)))
        if step.get("kind") == "register_model":
            group, where = registration_group(ctx, i, step)
            candidates.append((where, group))
    for path, value in candidates:
        arn = parse_arn(value)
        if arn is None:
            continue
        if partition and arn.partition != partition:
            ctx.report("E4007", f"{value} is in partition '{arn.partition}' but session.role is in '{partition}'", path)
        if isinstance(region, str) and arn.region and arn.region != region:
            ctx.report(
                "E4007",
                f"{value} is in region {arn.region}, but the pipeline runs in {region} (session.region)",
                path,
                hint="SageMaker pipelines use resources of their own region; use the ARN of the resource in that region",
            )


@rule
def cross_account_registration_needs_kms(ctx: CheckContext) -> None:
    role = parse_arn(_session(ctx).get("role"))
    if role is None:
        return
    steps = ctx.steps_by_name
    for i, step in ctx.steps():
        if step.get("kind") != "register_model":
            continue
        value, where = registration_group(ctx, i, step)
        group = parse_arn(value)
        if group is None or group.account == role.account:
            continue
        # Every container's artifact is shared with the other accounts (one per inference-pipeline container).
        trainings = {m.get("training_step") for _, m in model_sources(step)} or {None}
        for training in (steps.get(t) if isinstance(t, str) else None for t in sorted(trainings, key=str)):
            key, key_path = _kms_key_for(ctx, training)
            training_name = training[1]["name"] if training else "the training step"
            if not key:
                ctx.report(
                    "E4006",
                    f"step '{step['name']}' registers into account {group.account}, but the model artifact of "
                    f"'{training_name}' has no KMS key (the pipeline runs as account {role.account})",
                    where,
                    hint=f"set session.kms_key (or output_kms_key on '{training_name}') to a key that the deployment and "
                    "workload accounts may decrypt; cross-account deployment needs it",
                )
            elif parse_arn(key) is None:
                ctx.report(
                    "E4006",
                    f"'{key}' is a key ID or alias, which resolves only inside account {role.account}; "
                    f"step '{step['name']}' shares the model with account {group.account}",
                    key_path,
                    hint="use the full key ARN (arn:<partition>:kms:<region>:<account>:key/<id>) for cross-account use",
                )


@rule
def registration_groups_are_in_the_topology(ctx: CheckContext) -> None:
    """A register step's group must be one the accounts file names (SageMaker's CreateModelPackage
    needs the group to exist; the accounts file is where sagespec learns which ones do, and what
    `accounts apply` and a local run create)."""

    try:
        topology = load_topology(ctx.project_root)
    except DiagnosticError:
        return  # the accounts file reports its own problems
    if not topology.accounts:
        return  # no accounts file: nothing to compare with
    assert topology.source is not None  # accounts come from the accounts file
    role = parse_arn(_session(ctx).get("role"))
    for i, step in ctx.steps():
        if step.get("kind") != "register_model":
            continue
        group, where_written = registration_group(ctx, i, step)
        if not isinstance(group, str) or "${" in group or "{{" in group:
            continue
        arn = parse_arn(group)
        account, name = (arn.account, arn.resource.rsplit("/", 1)[-1]) if arn else (role.account if role else None, group)
        if account is None or topology.declares_group(account, name):
            continue
        owner = topology.by_id(account)
        where = f"accounts.{owner.name}.model_package_groups" if owner and owner.name != "shared_services" else "model_package_groups"
        ctx.report(
            "E4013",
            f"model package group '{name}' of account {account} is not in the accounts file ({topology.source.name})",
            where_written,
            hint=f"add it to {where}; `accounts apply` and local runs create the groups it lists",
        )


@rule
def no_self_approval(ctx: CheckContext) -> None:
    """Registering into another account's group as Approved: the group policy sagespec renders
    lets data science create versions only as PendingManualApproval (the deployment account
    approves), so SageMaker would refuse the step."""
    role = parse_arn(_session(ctx).get("role"))
    for i, step in ctx.steps():
        group = parse_arn(registration_group(ctx, i, step)[0]) if step.get("kind") == "register_model" else None
        status = step.get("approval_status")
        status_parameter = parameter_named(step.get("approval_status"))
        if status_parameter:
            status = (ctx.parameters.get(status_parameter) or {}).get("default")
        if role is None or group is None or group.account == role.account or status != "Approved":
            continue
        ctx.report(
            "W4002",
            f"step '{step['name']}' registers into account {group.account} as Approved; only the deployment account approves",
            ("steps", i, "approval_status"),
            hint="register as PendingManualApproval; `sagespec models approve` in the deployment account approves",
        )


@rule
def no_elastic_inference(ctx: CheckContext) -> None:
    """Amazon Elastic Inference: "Starting April 15, 2023, AWS will not onboard new customers to
    Amazon Elastic Inference" (the Elastic Inference API reference's notice), and the EC2 API
    reference's ElasticInferenceAccelerator now reads "Amazon Elastic Inference is no longer
    available". The SDK still takes accelerator_type, so the spec does too, with this warning."""
    for i, step in ctx.steps():
        accelerator = step.get("accelerator_type")
        if isinstance(accelerator, str) and isinstance(step.get("model"), list):
            ctx.report(
                "E4014",
                f"step '{step['name']}' serves an inference pipeline: the SDK's PipelineModel.create takes no accelerator_type",
                ("steps", i, "accelerator_type"),
                key=True,
            )
        elif isinstance(accelerator, str):
            ctx.report(
                "W4004",
                f"step '{step['name']}' asks for the Elastic Inference accelerator {accelerator}: Amazon Elastic Inference is no "
                "longer available, so an endpoint of this model with it will not start",
                ("steps", i, "accelerator_type"),
                hint="leave accelerator_type out and choose an inference instance type (ml.g4dn, ml.inf1/inf2) instead",
            )


@rule
def older_sdk_steps_serve_one_plain_model(ctx: CheckContext) -> None:
    """The SDK's older classes the examples use: CreateModelStep (sagemaker.workflow.steps) builds
    CreateModel's request from the model as it is, with no _RepackModelStep, and the RegisterModel
    step collection as sagespec builds it takes the training step's estimator. Each serves one model
    with no inference code of its own (RegisterModel: a trained or tuned one); the rest is ModelStep's."""
    for i, step in ctx.steps():
        older = step.get("sdk_step")
        if older not in ("CreateModelStep", "RegisterModel") or step.get("kind") not in ("create_model", "register_model"):
            continue
        model = step.get("model")
        what = None
        if isinstance(model, list):
            what = "an inference pipeline"
        elif isinstance(model, dict) and model.get("entry_point"):
            what = "a model with its own entry_point"
        elif isinstance(model, dict) and older == "RegisterModel" and not model.get("training_step"):
            what = "a model that no training step of the pipeline trained"
        elif isinstance(model, dict) and older == "RegisterModel" and set(model) - {"training_step"}:
            what = f"a model with its own {', '.join(sorted(set(model) - {'training_step'}))} (RegisterModel takes the estimator's)"
        if what:
            ctx.report(
                "E4014",
                f"step '{step['name']}' serves {what}: sagespec builds {older} for one trained model with no code of its own",
                ("steps", i, "sdk_step"),
                hint="leave sdk_step out (ModelStep)",
            )


@rule
def images_chosen_with_a_parameters_default(ctx: CheckContext) -> None:
    """The SDK's image_uris.retrieve takes a pipeline parameter and uses its default value
    (override_pipeline_parameter_var: "the default_value of this Parameter object will be used to
    override it"): the image is chosen once, when the pipeline is built, whatever an execution passes."""
    for path, holder in image_places(ctx.data):
        asked = holder.get("image_uri")
        if not isinstance(asked, dict):
            continue
        for key in RETRIEVE_ARGUMENTS:
            name = parameter_named(asked.get(key))
            if name is None:
                continue
            default = (ctx.parameters.get(name) or {}).get("default")
            where = (*path, "image_uri", key)
            if default is None:
                message = f"image_uri's {key} is {asked[key]}, a parameter with no default: the image is chosen with the default"
                ctx.report(
                    "E4008",
                    message + " when the pipeline compiles",
                    where,
                    hint=f"give parameter {name} a default, or write {key} as a literal",
                )
                continue
            ctx.report(
                "W4005",
                f"image_uri's {key} is {asked[key]}: the image is chosen with its default ({default}) when the pipeline "
                "compiles, as the SDK's image_uris.retrieve does; an execution that passes another value runs that image still",
                where,
                hint=f"write {key} as a literal (the image you mean), or keep the parameter's default the value the image is for",
            )
