"""The Lambda functions a pipeline's Lambda steps bring the code of, created or updated before the
pipeline, as the SDK's `Lambda.upsert()` does when it builds a LambdaStep (CreateFunction with the
zipped script; when the function exists, UpdateFunctionCode), plus UpdateFunctionConfiguration
when the handler, runtime, role, timeout or memory changed (the SDK leaves those as they were:
here the spec says what the function is).

A step that names an existing function by ARN with a script updates that function's code; when
the function is absent, that is an error, as the SDK's `Lambda.update()` raises.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import botocore.exceptions

from sagespec.aws import arns
from sagespec.aws.sessions import aws_errors
from sagespec.backends.functions import changes as changes_of
from sagespec.backends.functions import differences, wanted
from sagespec.diagnostics import UserError

if TYPE_CHECKING:
    import boto3

    from sagespec.compiler.compiled import LambdaFunction
    from sagespec.definition.diff import Change as DiffChange


@dataclass(frozen=True)
class Change:
    function: LambdaFunction
    action: str  # create | missing (named by ARN, absent) | update code | update configuration | update code and configuration | unchanged
    differences: tuple[str, ...] = ()  # the configuration fields that differ ("CodeSha256" for the code)
    current: dict[str, Any] | None = None  # GetFunctionConfiguration's answer (None: absent)

    def __str__(self) -> str:
        detail = f" ({', '.join(self.differences)})" if self.differences else ""
        return f"{self.function.arn}: {self.action}{detail}"

    @property
    def done(self) -> str:
        """The change once made, as an upsert reports it (the local control plane's words too)."""
        return f"{self.function.arn}: {DONE[self.action]}"


DONE = {
    "create": "created",
    "update code": "code updated",
    "update configuration": "configuration updated",
    "update code and configuration": "code and configuration updated",
    "unchanged": "unchanged",
}


def _client(session: boto3.Session, function: LambdaFunction) -> Any:
    parsed = arns.parse(function.arn)
    return session.client("lambda", region_name=parsed.region if parsed else None)


def plan(session: boto3.Session, functions: list[LambdaFunction]) -> list[Change]:
    """What an upsert would do to each function (GetFunctionConfiguration only)."""
    changes = []
    for function in functions:
        client = _client(session, function)
        try:
            current = client.get_function_configuration(FunctionName=function.arn)
        except botocore.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                with aws_errors(f"reading Lambda function {function.arn}"):
                    raise
            changes.append(Change(function, "create" if function.create else "missing"))
            continue
        differing = tuple(key for key, _, _ in differences(function, current))
        code = tuple(k for k in differing if k == "CodeSha256")
        configured = tuple(k for k in differing if k != "CodeSha256")
        action = {
            (False, False): "unchanged",
            (True, False): "update code",
            (False, True): "update configuration",
            (True, True): "update code and configuration",
        }[(bool(code), bool(configured))]
        changes.append(Change(function, action, differing, current))
    return changes


def function_changes(session: boto3.Session, functions: list[LambdaFunction]) -> list[DiffChange]:
    """The functions' changes as `diff` shows them."""
    return [c for change in plan(session, functions) for c in changes_of(change.function, change.current)]


def upsert(session: boto3.Session, functions: list[LambdaFunction], account: str) -> list[Change]:
    """Create or update every function, as the caller `account`. A function is created in the
    caller's account, so one whose ARN names another account is refused before any call."""
    for function in functions:
        if function.create and arns.account_of(function.arn) != account:
            raise UserError(
                "E6010",
                f"Lambda function {function.arn} (step {function.step}) belongs to account {arns.account_of(function.arn)} "
                f"(its execution role's); you are calling as account {account}",
                hint="upsert as that account (--profile), or use an execution role of the calling account",
            )
    changes = plan(session, functions)
    for change in changes:
        if change.action == "missing":
            raise UserError(
                "E6005",
                f"Lambda function {change.function.arn} (step {change.function.step}) does not exist: "
                "the step updates an existing function's code",
                hint="create the function first, or name it with function_name and execution_role_arn so that upsert creates it",
            )
    for change in changes:
        function, client = change.function, _client(session, change.function)
        if change.action == "create":
            with aws_errors(f"creating Lambda function {function.name}"):
                client.create_function(
                    FunctionName=function.name,
                    Runtime=function.runtime,
                    Role=function.role,
                    Handler=function.handler,
                    Code={"ZipFile": function.code},
                    Timeout=function.timeout,
                    MemorySize=function.memory_size,
                )
                client.get_waiter("function_active_v2").wait(FunctionName=function.arn)
            continue
        if "CodeSha256" in change.differences:
            with aws_errors(f"updating the code of Lambda function {function.name}"):
                client.update_function_code(FunctionName=function.arn, ZipFile=function.code)
                # An update in progress refuses the next one (ResourceConflictException): wait for it.
                client.get_waiter("function_updated_v2").wait(FunctionName=function.arn)
        if set(change.differences) - {"CodeSha256"}:
            with aws_errors(f"updating the configuration of Lambda function {function.name}"):
                settings = {k: v for k, v in wanted(function).items() if k != "CodeSha256"}
                client.update_function_configuration(FunctionName=function.arn, **settings)
                client.get_waiter("function_updated_v2").wait(FunctionName=function.arn)
    return changes
