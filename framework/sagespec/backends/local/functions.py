"""Lambda functions in the local control plane: what `upsert` (and `run`) store for the Lambda
steps that bring their code, and what a local run invokes by FunctionArn.

Each function is a folder of the workspace, `functions/<account>/<region>/<name>/`, holding its
deployment package (`package.zip`) and its configuration (the fields of Lambda's
GetFunctionConfiguration the local runtime uses). A step naming a function this store does not
hold (an ARN only: its code is not in the project) cannot run here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sagespec.aws import arns

if TYPE_CHECKING:
    from sagespec.compiler.compiled import LambdaFunction


@dataclass(frozen=True)
class StoredFunction:
    arn: str
    configuration: dict[str, Any]  # FunctionName, Handler, Runtime, Timeout, MemorySize, Role, CodeSha256
    package: Path


class LocalFunctions:
    def __init__(self, workspace: Path):
        self.root = workspace / "functions"

    def _folder(self, arn: str) -> Path:
        parsed = arns.parse(arn)
        assert parsed is not None, "a FunctionArn"
        name = parsed.resource.split(":")[1]  # function:<name>[:qualifier]
        return self.root / parsed.account / parsed.region / name

    def put(self, function: LambdaFunction) -> str:
        """Store `function`; what changed: created | code updated | configuration updated | unchanged."""
        folder = self._folder(function.arn)
        configuration = {
            "FunctionName": function.name,
            "FunctionArn": function.arn,
            "Handler": function.handler,
            "Runtime": function.runtime,
            "Timeout": function.timeout,
            "MemorySize": function.memory_size,
            "Role": function.role,
            "CodeSha256": function.code_sha256,
        }
        before = self.get(function.arn)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "package.zip").write_bytes(function.code)
        (folder / "configuration.json").write_text(json.dumps(configuration, indent=2, sort_keys=True), encoding="utf-8")
        if before is None:
            return "created"
        if before.configuration.get("CodeSha256") != function.code_sha256:
            return "code updated"
        return "unchanged" if before.configuration == configuration else "configuration updated"

    def get(self, arn: str) -> StoredFunction | None:
        """The function `arn` names (an unqualified ARN or $LATEST), or None."""
        folder = self._folder(arn)
        try:
            configuration = json.loads((folder / "configuration.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return StoredFunction(arn, configuration, folder / "package.zip")
