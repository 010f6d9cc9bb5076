"""IAM at each step of a local execution, as SageMaker would meet it on AWS.

Before a step runs, each request it makes (sagespec.accounts.needs: the pipeline service as the
pipeline role starting the job and passing its role, SageMaker assuming the role, the job as its
role pulling its image, reading its inputs, writing its outputs, using the key) is decided by
the control plane with the stored policies; the first denied fails the step with AWS's
AccessDenied text, so a policy mistake fails here at the step that needs the permission. The
requests are made concrete for the execution (its parameter values and execution ID). Steps
taken from the cache make no request, as on SageMaker. The endpoint role's needs are decided
when a version is deployed, not by the pipeline.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sagespec.accounts.needs import Need, needs
from sagespec.accounts.places import Places
from sagespec.backends.local.access import LocalAccess

if TYPE_CHECKING:
    import sqlite3


def step_requests(
    pipeline: str, definition: dict[str, Any], role: str, places: Places, parameters: dict[str, Any], execution_id: str
) -> list[Need]:
    return needs(pipeline, definition, role, places, {**parameters, "PipelineExecutionId": execution_id})


def authorize(requests: list[Need], step: str, conn: sqlite3.Connection) -> None:
    access = LocalAccess(conn)
    for need in requests:
        if need.step != step or need.caller == "endpoint role":
            continue
        access.require(need.principal, need.action, need.resource, need.context_dict(), hint=f"step {step} needs it, as the {need.caller}")
