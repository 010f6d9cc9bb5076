"""The Lambda functions a spec's Lambda steps bring their code for, as the SDK's
`Lambda(function_name=..., execution_role_arn=..., script=..., handler=...)` describes them.

The SDK creates or updates such a function while it builds the definition (`LambdaStep.to_request`
calls `Lambda.upsert()`), which would make a compile reach AWS. Here the compile only describes
the function and writes the ARN CreateFunction would return; `upsert` creates or updates it before
the pipeline (sagespec.backends.sagemaker.functions) and a local run runs its handler.

The ARN is built in the execution role's account: Lambda runs a function as a role of its own
account (iam:PassRole passes only the caller's roles), in the spec's region and partition.
"""

from __future__ import annotations

import zipfile
from io import BytesIO
from pathlib import Path
from typing import Any

from sagespec.aws import arns, partitions
from sagespec.compiler.compiled import LambdaFunction

DEFAULT_TIMEOUT = 120  # the SDK's Lambda(timeout=120)
DEFAULT_MEMORY = 128  # the SDK's Lambda(memory_size=128)
DEFAULT_RUNTIME = "python3.12"  # the SDK's default, python3.8, is a deprecated runtime Lambda no longer creates ("Lambda runtimes")
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest a zip can hold: the package depends on the script's bytes only


def function_arn(step: dict[str, Any], region: str) -> str:
    """The FunctionArn the definition carries for a (validated) Lambda step."""
    if "function_arn" in step:
        return str(step["function_arn"])
    role = arns.parse(step["execution_role_arn"])
    assert role is not None, "validated: execution_role_arn is a role ARN"
    return partitions.partition(role.partition).arn("lambda", region, role.account, f"function:{step['function_name']}")


def package(script: Path) -> bytes:
    """The deployment package: the script alone at the zip's root, as the SDK's _zip_lambda_code
    puts it, with a fixed date and mode so the same script is the same package (and CodeSha256)."""
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo(script.name, ZIP_DATE)
        info.external_attr = 0o100644 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, script.read_bytes())
    return buffer.getvalue()


def lambda_functions(data: dict[str, Any], code_root: Path) -> list[LambdaFunction]:
    """Every function a Lambda step brings the code of (a step naming only an ARN brings none)."""
    found = []
    region = data["session"]["region"]
    for step in data.get("steps", []):
        if step.get("kind") != "lambda" or "script" not in step:
            continue
        found.append(
            LambdaFunction(
                step=step["name"],
                arn=function_arn(step, region),
                create="function_name" in step,
                role=step.get("execution_role_arn"),
                handler=step["handler"],
                runtime=step.get("runtime", DEFAULT_RUNTIME),
                timeout=step.get("timeout_seconds", DEFAULT_TIMEOUT),
                memory_size=step.get("memory_size", DEFAULT_MEMORY),
                script=Path(step["script"]).name,
                code=package(code_root / step["script"]),
            )
        )
    return found
