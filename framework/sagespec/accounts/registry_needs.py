"""What registry steps ask IAM for: a register step creates a version in its group (and what an
endpoint serving it will need, for the shared registry's groups); a quality check reads the
previous baseline, the latest approved version's DriftCheckBaselines.

Sources: the Service Authorization Reference (model-package ARNs, the sagemaker:ModelApprovalStatus
condition key of CreateModelPackage) and "Baseline calculation, drift detection and lifecycle with
ClarifyCheck and QualityCheck steps" for what a quality check reads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sagespec.accounts.needs import _Collector


def _group_owner(group: str, account: str) -> tuple[str, str]:
    """(owning account, group name) of a group name or a group ARN in another account."""
    if group.startswith("arn:"):
        parts = group.split(":")
        return parts[4], parts[5].split("/", 1)[1]
    return account, group


def register(c: _Collector, step: str, args: dict[str, Any], pipeline_role: str, account: str) -> None:
    """A register step: CreateModelPackage in its group (another account's, by ARN)."""
    owner, name = _group_owner(c.resolve(args.get("ModelPackageGroupName", "")), account)  # a parameter: its default or the run's value
    packages = c.arn("sagemaker:CreateModelPackage", owner, ModelPackageName=f"{name}/*")
    status = c.resolve(args.get("ModelApprovalStatus", "PendingManualApproval"))
    c.add(
        step,
        "pipeline role",
        pipeline_role,
        "sagemaker:CreateModelPackage",
        packages,
        "RegisterModelVersions",
        {"sagemaker:ModelApprovalStatus": status},
    )
    # What an endpoint serving the version needs (workload accounts): image, artifact, key, logs.
    # Only versions of the shared registry are promoted to the workloads.
    served = packages.replace(":model-package/", ":model-package-group/").rsplit("/", 1)[0] in c.places.served_groups
    for container in args.get("InferenceSpecification", {}).get("Containers", []) if served else []:
        artifact = c.resolve(container.get("ModelDataUrl", ""))
        for role in c.places.endpoint_roles:
            c.image(step, "endpoint role", role, container.get("Image", ""))
            c.read(step, "endpoint role", role, artifact, prefix=False, grant="ReadModelArtifacts")
            code = inference_code(container)
            if code:  # the scikit-learn and XGBoost containers download their script at start
                c.read(step, "endpoint role", role, c.resolve(code), prefix=False, grant="ReadModelArtifacts")
            c.logs(step, "endpoint role", role, "Endpoint")


def read_baselines(c: _Collector, step: str, definition_step: dict[str, Any], pipeline_role: str, account: str) -> None:
    """A quality check reads the previous baseline: the latest approved version's DriftCheckBaselines."""
    owner, name = _group_owner(c.resolve(definition_step["ModelPackageGroupName"]), account)
    for action in ("sagemaker:ListModelPackages", "sagemaker:DescribeModelPackage"):
        c.add(step, "pipeline role", pipeline_role, action, c.arn(action, owner, ModelPackageName=f"{name}/*"), "ReadBaselines")


def inference_code(container: dict[str, Any]) -> str | None:
    """The s3:// sourcedir.tar.gz a serving container downloads (SAGEMAKER_SUBMIT_DIRECTORY), if any."""
    code = (container.get("Environment") or {}).get("SAGEMAKER_SUBMIT_DIRECTORY")
    return code if isinstance(code, str) and code.startswith("s3://") else None
