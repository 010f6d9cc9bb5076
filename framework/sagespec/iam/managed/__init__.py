"""AWS managed policies sagespec can attach, as documents the evaluator can read.

Only AmazonSageMakerFullAccess (the blog's and the guide's choice, `access: managed` in the
accounts file). Its document is a dated copy (see the JSON's Provenance and DefaultVersionId):
AWS revises managed policies, so a check against it is as of that version.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

HERE = Path(__file__).parent


@cache
def _load(name: str) -> dict:
    return json.loads((HERE / f"{name}.json").read_text(encoding="utf-8"))


def managed_policy(arn: str) -> dict:
    """The document of an AWS managed policy ARN (any partition)."""
    name = arn.rsplit("/", 1)[-1]
    if not (HERE / f"{name}.json").is_file():
        raise KeyError(f"sagespec has no copy of the managed policy {arn}")
    return _load(name)["Document"]
