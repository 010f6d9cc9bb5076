"""SageMaker's API for a job's own calls, answered by the local control plane.

A script or a Lambda handler that calls `boto3.client("sagemaker")` (CreateModel,
CreateEndpointConfig, CreateEndpoint, the registry's List/Describe/UpdateModelPackage, ...)
reaches the same local backends the CLI uses, as the job's role: each call is decided by
sagespec's IAM through those backends, so a missing grant fails here with AccessDenied.

SageMaker's API is AWS's JSON protocol (`X-Amz-Target: SageMaker.<Operation>`, JSON in and out,
errors as `{"__type": ..., "message": ...}`). Each response is cut to the operation's output
shape in botocore's service model (the same model sagespec's compiled steps are checked
against), timestamps as epoch seconds, so what a script reads is what SageMaker returns.
Written here because no library answers SageMaker's API over sagespec's SQLite control plane
(moto's SageMaker keeps its own state). An operation not in OPERATIONS is refused by name.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sagespec.accounts.places import Places
from sagespec.backends.local.access import LocalAccess
from sagespec.backends.local.hosting import LocalHosting
from sagespec.backends.local.registry import LocalRegistry
from sagespec.backends.records import ModelPackage, NotFound
from sagespec.diagnostics import UserError
from sagespec.iam import AccessDenied, Principal

WsgiResponse = tuple[int, list[tuple[str, str]], bytes]
Operation = Callable[["Call", dict[str, Any]], dict[str, Any]]
OPERATIONS: dict[str, Operation] = {}


def operation(name: str) -> Callable[[Operation], Operation]:
    def register(fn: Operation) -> Operation:
        OPERATIONS[name] = fn
        return fn

    return register


class Call:
    """One request's view of the control plane, as its caller."""

    def __init__(self, conn: sqlite3.Connection, workspace: Path, caller: Principal, places: Places):
        self.conn, self.workspace, self.caller, self.places = conn, workspace, caller, places

    @functools.cached_property
    def access(self) -> LocalAccess:
        return LocalAccess(self.conn)

    def arn(self, resource: str) -> str:
        """A SageMaker ARN of the caller's account, in the run's partition and region."""
        return self.places.aws.sagemaker(self.places.region, self.caller.account, resource)

    @functools.cached_property
    def hosting(self) -> LocalHosting:
        return LocalHosting(self.conn, self.workspace, self.caller, self.places)

    @functools.cached_property
    def registry(self) -> LocalRegistry:
        return LocalRegistry(self.conn, self.caller, self.places.region, self.places.aws)


def json_error(code: str, message: str, status: int = 400) -> WsgiResponse:
    body = json.dumps({"__type": code, "message": message}).encode()
    return status, [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", code)], body


@functools.lru_cache(maxsize=1)
def _service_model() -> Any:
    import botocore.session  # start-up: botocore's model only when a job calls SageMaker

    return botocore.session.get_session().get_service_model("sagemaker")


def _timestamp(value: object) -> object:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return value
    return value


def shaped(shape: Any, value: Any) -> Any:
    """`value` cut to a botocore output shape: unknown members dropped, timestamps as epoch seconds."""
    if value is None:
        return None
    if shape.type_name == "structure" and isinstance(value, dict):
        out = {}
        for name, member in shape.members.items():
            if value.get(name) is not None:
                out[name] = shaped(member, value[name])
        return out
    if shape.type_name == "list" and isinstance(value, list):
        return [shaped(shape.member, v) for v in value]
    if shape.type_name == "map" and isinstance(value, dict):
        return {k: shaped(shape.value, v) for k, v in value.items()}
    if shape.type_name == "timestamp":
        return _timestamp(value)
    return value


def respond(name: str, call: Call, params: dict[str, Any]) -> WsgiResponse:
    found = OPERATIONS.get(name)
    if found is None:
        served = ", ".join(sorted(OPERATIONS))
        return json_error("UnknownOperationException", f"the local SageMaker endpoint does not serve {name}; it serves {served}")
    try:
        result = found(call, params)
    except AccessDenied as exc:
        return json_error("AccessDeniedException", exc.message.split("\n")[0])
    except NotFound as exc:
        return json_error("ValidationException", exc.message[:1].upper() + exc.message[1:] + ".")
    except UserError as exc:
        return json_error("ValidationException", exc.message)
    except KeyError as exc:  # a required member missing
        return json_error(
            "ValidationException",
            f"1 validation error detected: Value null at '{exc.args[0]}' failed to satisfy constraint: Member must not be null",
        )
    except (TypeError, ValueError, AttributeError) as exc:  # a member of the wrong type
        return json_error("ValidationException", f"the request's members do not have their documented types: {exc}")
    body = json.dumps(shaped(_service_model().operation_model(name).output_shape, result) or {}).encode()
    return 200, [("Content-Type", "application/x-amz-json-1.1")], body


# -- hosting ---------------------------------------------------------------------------------
@operation("CreateModel")
def create_model(call: Call, p: dict[str, Any]) -> dict[str, Any]:
    containers = p.get("Containers") or ([p["PrimaryContainer"]] if p.get("PrimaryContainer") else [])
    if not containers:
        raise UserError("E7003", "CreateModel needs a PrimaryContainer or Containers")
    return {"ModelArn": call.hosting.create_model_of_containers(p["ModelName"], containers, p["ExecutionRoleArn"])}


@operation("DescribeModel")
def describe_model(call: Call, p: dict[str, Any]) -> dict[str, Any]:
    found = call.hosting.describe_model(p["ModelName"])
    if found is None:
        raise NotFound(f"model {p['ModelName']}")
    containers = found.get("PrimaryContainer")
    if isinstance(containers, list):
        found = {**found, "Containers": containers, "PrimaryContainer": None}
    return found


@operation("CreateEndpointConfig")
def create_endpoint_config(call: Call, p: dict[str, Any]) -> dict[str, Any]:
    return {"EndpointConfigArn": call.hosting.create_endpoint_config(p["EndpointConfigName"], p["ProductionVariants"])}


@operation("DescribeEndpointConfig")
def describe_endpoint_config(call: Call, p: dict[str, Any]) -> dict[str, Any]:
    return call.hosting.describe_endpoint_config(p["EndpointConfigName"])


@operation("CreateEndpoint")
def create_endpoint(call: Call, p: dict[str, Any]) -> dict[str, Any]:
    # SageMaker answers at once with the ARN and starts the endpoint (EndpointStatus Creating).
    return {"EndpointArn": call.hosting.create_endpoint(p["EndpointName"], p["EndpointConfigName"], wait=False)["EndpointArn"]}


@operation("DescribeEndpoint")
def describe_endpoint(call: Call, p: dict[str, Any]) -> dict[str, Any]:
    found = call.hosting.describe_endpoint(p["EndpointName"])
    if found is None:
        raise NotFound(f"endpoint {p['EndpointName']}")
    return found


@operation("UpdateEndpoint")
def update_endpoint(call: Call, p: dict[str, Any]) -> dict[str, Any]:
    return {"EndpointArn": call.hosting.update_endpoint(p["EndpointName"], p["EndpointConfigName"])["EndpointArn"]}


@operation("DeleteEndpoint")
def delete_endpoint(call: Call, p: dict[str, Any]) -> dict[str, Any]:
    call.hosting.delete_endpoint(p["EndpointName"])
    return {}


@operation("ListEndpoints")
def list_endpoints(call: Call, p: dict[str, Any]) -> dict[str, Any]:
    return {"Endpoints": call.hosting.list_endpoints()}


# -- the model registry ------------------------------------------------------------------------
def _package(package: ModelPackage) -> dict[str, Any]:
    return {
        "ModelPackageArn": package.arn,
        "ModelPackageGroupName": package.group_name,
        "ModelPackageVersion": package.version,
        "ModelPackageStatus": "Completed",
        "ModelApprovalStatus": package.status,
        "ApprovalDescription": package.approval_description,
        "ModelPackageDescription": package.description,
        "InferenceSpecification": package.inference_specification,
        "ModelMetrics": package.model_metrics,
        "CustomerMetadataProperties": package.customer_metadata or None,
        "DriftCheckBaselines": package.drift_check_baselines,
        "CreationTime": package.created_at,
        "LastModifiedTime": package.last_modified_at,
    }


@operation("ListModelPackageGroups")
def list_groups(call: Call, p: dict[str, Any]) -> dict[str, Any]:
    groups = call.registry.list_groups()
    return {
        "ModelPackageGroupSummaryList": [
            {
                "ModelPackageGroupName": g.name,
                "ModelPackageGroupArn": g.arn,
                "ModelPackageGroupDescription": g.description,
                "CreationTime": g.created_at,
                "ModelPackageGroupStatus": "Completed",
            }
            for g in groups
        ]
    }


@operation("DescribeModelPackageGroup")
def describe_group(call: Call, p: dict[str, Any]) -> dict[str, Any]:
    g = call.registry.describe_group(p["ModelPackageGroupName"])
    return {
        "ModelPackageGroupName": g.name,
        "ModelPackageGroupArn": g.arn,
        "ModelPackageGroupDescription": g.description,
        "CreationTime": g.created_at,
        "CreatedBy": {},
        "ModelPackageGroupStatus": "Completed",
    }


@operation("ListModelPackages")
def list_packages(call: Call, p: dict[str, Any]) -> dict[str, Any]:
    group = p.get("ModelPackageGroupName")
    if not group:
        raise UserError("E7003", "the local SageMaker endpoint lists the packages of one ModelPackageGroupName")
    packages = call.registry.list_packages(group, p.get("ModelApprovalStatus"))
    newest_first = p.get("SortOrder", "Ascending") == "Descending"  # SageMaker sorts ascending by default
    packages.sort(key=lambda pkg: (pkg.created_at or "", pkg.version), reverse=newest_first)
    limit = int(p.get("MaxResults") or 100)
    summaries = [{k: v for k, v in _package(pkg).items() if k != "InferenceSpecification"} for pkg in packages[:limit]]
    return {"ModelPackageSummaryList": summaries}


@operation("DescribeModelPackage")
def describe_package(call: Call, p: dict[str, Any]) -> dict[str, Any]:
    return _package(call.registry.describe(p["ModelPackageName"]))


@operation("UpdateModelPackage")
def update_package(call: Call, p: dict[str, Any]) -> dict[str, Any]:
    arn = p["ModelPackageArn"]
    if "ModelApprovalStatus" in p:
        arn = call.registry.update_status(arn, p["ModelApprovalStatus"], p.get("ApprovalDescription")).arn
    return {"ModelPackageArn": arn}


# -- pipeline executions -------------------------------------------------------------------------
def _execution(call: Call, arn: str, action: str) -> dict[str, Any]:
    call.access.require(call.caller, action, arn)
    row = call.conn.execute("SELECT * FROM executions WHERE arn = ?", (arn,)).fetchone()
    if row is None:
        raise NotFound(f"pipeline execution {arn}")
    return dict(row)


@operation("ListPipelineExecutions")
def list_executions(call: Call, p: dict[str, Any]) -> dict[str, Any]:
    name = p["PipelineName"].rsplit("/", 1)[-1]  # a name or the pipeline's ARN
    arn = p["PipelineName"] if p["PipelineName"].startswith("arn:") else call.arn(f"pipeline/{name}")
    call.access.require(call.caller, "sagemaker:ListPipelineExecutions", arn)
    order = "ASC" if p.get("SortOrder") == "Ascending" else "DESC"  # SageMaker lists the newest first by default
    rows = call.conn.execute(
        f"SELECT * FROM executions WHERE pipeline = ? AND substr(arn, 1, ?) = ? ORDER BY started_at {order}",
        (name, len(arn) + len("/execution/"), arn + "/execution/"),
    ).fetchall()  # the pipeline of the ARN decided on: the caller's account's, not a namesake elsewhere
    summaries = [
        {
            "PipelineExecutionArn": r["arn"],
            "StartTime": r["started_at"],
            "PipelineExecutionStatus": r["status"],
            "PipelineExecutionFailureReason": r["failure_reason"],
        }
        for r in rows[: int(p.get("MaxResults") or 50)]
    ]
    return {"PipelineExecutionSummaries": summaries}


@operation("DescribePipelineExecution")
def describe_execution(call: Call, p: dict[str, Any]) -> dict[str, Any]:
    row = _execution(call, p["PipelineExecutionArn"], "sagemaker:DescribePipelineExecution")
    return {
        "PipelineArn": row["arn"].split("/execution/")[0],
        "PipelineExecutionArn": row["arn"],
        "PipelineExecutionStatus": row["status"],
        "FailureReason": row["failure_reason"],
        "CreationTime": row["started_at"],
        "LastModifiedTime": row["ended_at"] or row["started_at"],
    }


@operation("ListPipelineExecutionSteps")
def list_execution_steps(call: Call, p: dict[str, Any]) -> dict[str, Any]:
    row = _execution(call, p["PipelineExecutionArn"], "sagemaker:ListPipelineExecutionSteps")
    order = "ASC" if p.get("SortOrder") == "Ascending" else "DESC"
    steps = call.conn.execute(
        f"SELECT * FROM execution_steps WHERE execution = ? ORDER BY started_at {order}, name {order}", (row["arn"],)
    ).fetchall()
    return {
        "PipelineExecutionSteps": [
            {
                "StepName": s["name"],
                "StepStatus": s["status"],
                "StartTime": s["started_at"],
                "EndTime": s["ended_at"],
                "FailureReason": s["failure_reason"],
                "AttemptCount": s["attempt_count"],
            }
            for s in steps
        ]
    }


@operation("ListPipelineParametersForExecution")
def list_execution_parameters(call: Call, p: dict[str, Any]) -> dict[str, Any]:
    row = _execution(call, p["PipelineExecutionArn"], "sagemaker:ListPipelineParametersForExecution")
    return {"PipelineParameters": [{"Name": k, "Value": str(v)} for k, v in json.loads(row["parameters"]).items()]}


# -- the runtime: InvokeEndpoint ----------------------------------------------------------------
def invoke_endpoint(call: Call, name: str, body: bytes, content_type: str, variant: str | None) -> WsgiResponse:
    """SageMaker Runtime's InvokeEndpoint (REST: POST /endpoints/<name>/invocations), answered by
    the local endpoint's server; the answer is JSON (the local runtimes' Accept). Errors as the
    runtime returns them: ValidationError for a missing or stopped endpoint, ModelError (424) when
    the model's container answered with an error."""
    try:
        invoked, payload = call.hosting.invoke(name, body, content_type or "application/octet-stream", variant)
    except AccessDenied as exc:
        return json_error("AccessDeniedException", exc.message.split("\n")[0], 403)
    except NotFound:
        return json_error("ValidationError", f"Endpoint {name} of account {call.caller.account} not found.")
    except UserError as exc:
        if exc.code == "E7004":
            return json_error("ModelError", f"Received client error from primary with message: {exc.message}", 424)
        return json_error("ValidationError", exc.message)
    headers = [("Content-Type", "application/json"), ("x-Amzn-Invoked-Production-Variant", invoked)]
    return 200, headers, payload
