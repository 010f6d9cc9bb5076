"""AWS managed policies sagespec can attach, as documents the evaluator can read.

Only AmazonSageMakerFullAccess (the blog's and the guide's choice, `access: managed` in the
accounts file). Its document is a dated copy (see the JSON's Provenance and DefaultVersionId):
AWS revises managed policies, so a check against it is as of that version.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent


@cache
def _load(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((HERE / f"{name}.json").read_text(encoding="utf-8"))
    return loaded


def managed_policy(arn: str) -> dict[str, Any]:
    """The document of an AWS managed policy ARN, in the partition the ARN names: the copies are of
    the `aws` partition's version, and AWS publishes the same policy in aws-cn and aws-us-gov with
    that partition's ARNs (arn:aws-cn:iam::aws:policy/AmazonSageMakerFullAccess)."""
    name = arn.rsplit("/", 1)[-1]
    if not (HERE / f"{name}.json").is_file():
        raise KeyError(f"sagespec has no copy of the managed policy {arn}")
    document: dict[str, Any] = _load(name)["Document"]
    partition = arn.split(":")[1] if arn.startswith("arn:") else ""
    return _in_partition(document, partition) if partition else document


def _in_partition(value: Any, partition: str) -> Any:
    """`value` with the partition of every ARN in it replaced."""
    if isinstance(value, str) and value.startswith("arn:"):
        head, _, rest = value[4:].partition(":")
        return f"arn:{partition}:{rest}" if head != partition else value
    if isinstance(value, list):
        return [_in_partition(item, partition) for item in value]
    if isinstance(value, dict):
        return {key: _in_partition(item, partition) for key, item in value.items()}
    return value
