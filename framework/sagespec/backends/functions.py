"""What differs between a compiled Lambda function and a function's configuration as Lambda's
GetFunctionConfiguration answers it (CodeSha256, Handler, Runtime, Timeout, MemorySize, Role):
one comparison for both targets, for upsert (what to update) and diff (what would change)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sagespec.definition.diff import Change

if TYPE_CHECKING:
    from sagespec.compiler.compiled import LambdaFunction

# GetFunctionConfiguration's name -> the compiled function's attribute.
FIELDS = {
    "CodeSha256": "code_sha256",
    "Handler": "handler",
    "Runtime": "runtime",
    "Timeout": "timeout",
    "MemorySize": "memory_size",
    "Role": "role",
}


def wanted(function: LambdaFunction) -> dict[str, Any]:
    """The configuration the spec gives the function (an existing function named by ARN keeps its role)."""
    found = {key: getattr(function, attribute) for key, attribute in FIELDS.items()}
    if found["Role"] is None:
        del found["Role"]
    return found


def differences(function: LambdaFunction, current: dict[str, Any]) -> list[tuple[str, object, object]]:
    """(field, current, wanted) for every field that differs, CodeSha256 first."""
    return [(key, current.get(key), value) for key, value in wanted(function).items() if current.get(key) != value]


def changes(function: LambdaFunction, current: dict[str, Any] | None) -> list[Change]:
    """The function's changes as `diff` shows them (none when it is as the spec says)."""
    scope = f"function {function.arn} (step {function.step})"
    if current is None:
        return [Change(scope, "added", None, f"{function.runtime} {function.handler}")]
    return [Change(scope, key, old, new) for key, old, new in differences(function, current)]
