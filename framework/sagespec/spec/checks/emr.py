"""EMR steps SageMaker would refuse, found before the upsert.

A step's `cluster_config` is the cluster SageMaker launches for it: EMR's RunJobFlow request
without the parts SageMaker sets (Name, Steps, AutoTerminationPolicy; the SDK's EMRStep refuses
them, and KeepJobFlowAliveWhenNoSteps or TerminationProtected, which would keep the cluster
after the step), with exactly one of InstanceGroups and InstanceFleets. The rest of the request
is checked against botocore's own EMR service model, as EMR would check it. ExecutionRoleArn
goes with a running cluster only (the SDK's ERR_STR_WITH_EXEC_ROLE_ARN_AND_WITHOUT_CLUSTER_ID).
"""

from __future__ import annotations

from typing import Any

from sagespec.spec.checks.base import CheckContext, rule

SET_BY_SAGEMAKER = ("Name", "Steps", "AutoTerminationPolicy")
KEEPS_THE_CLUSTER = ("KeepJobFlowAliveWhenNoSteps", "TerminationProtected")


def _run_job_flow_problems(cluster_config: dict[str, Any]) -> list[str]:
    """botocore's validation of the RunJobFlow request the cluster_config makes (Name as SageMaker sets it)."""
    # botocore loads in ~0.2 s: only for a spec that launches a cluster, not for every validate.
    import botocore.session
    from botocore.validate import ParamValidator  # (loaded with botocore.session above)

    shape = botocore.session.get_session().get_service_model("emr").operation_model("RunJobFlow").input_shape
    assert shape is not None  # RunJobFlow takes a request
    report = ParamValidator().validate({**cluster_config, "Name": "set-by-sagemaker"}, shape)
    return [line.strip() for line in report.generate_report().splitlines() if line.strip()] if report.has_errors() else []


@rule
def emr_clusters_are_what_sagemaker_launches(ctx: CheckContext) -> None:
    for i, step in ctx.steps():
        config = step.get("cluster_config")
        if step.get("kind") != "emr" or not isinstance(config, dict):
            continue
        where = ("steps", i, "cluster_config")
        if "execution_role_arn" in step:
            ctx.report(
                "E4023",
                f"EMR step '{step['name']}' has an execution_role_arn and a cluster_config: a runtime role goes with a running cluster (cluster_id)",
                ("steps", i, "execution_role_arn"),
                key=True,
            )
        for key in SET_BY_SAGEMAKER:
            if key in config:
                ctx.report(
                    "E4023",
                    f"cluster_config of '{step['name']}' sets {key}: SageMaker sets it for the cluster it launches",
                    (*where, key),
                    key=True,
                )
        found = config.get("Instances")
        instances: dict[str, Any] = found if isinstance(found, dict) else {}
        for key in KEEPS_THE_CLUSTER:
            if key in instances:
                ctx.report(
                    "E4023",
                    f"cluster_config of '{step['name']}' sets Instances.{key}: the cluster SageMaker launches ends with its step",
                    (*where, "Instances", key),
                    key=True,
                )
        if ("InstanceGroups" in instances) == ("InstanceFleets" in instances):
            ctx.report(
                "E4023",
                f"cluster_config of '{step['name']}' needs Instances with exactly one of InstanceGroups and InstanceFleets",
                (*where, "Instances"),
                key=True,
            )
        for problem in _run_job_flow_problems({k: v for k, v in config.items() if k not in SET_BY_SAGEMAKER}):
            ctx.report("E4023", f"cluster_config of '{step['name']}' is not a RunJobFlow request EMR takes: {problem}", where, key=True)
