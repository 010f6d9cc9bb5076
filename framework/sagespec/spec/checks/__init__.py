"""Semantic checks: what JSON Schema cannot express (references, graph, paths, AWS consistency).

Each check is a function `check(ctx)` registered with `@rule`; it reports through
`ctx.report(code, message, path, ...)` and the framework turns paths into locations. Checks read
the document defensively: when the schema already found errors a check may meet odd shapes, and
then it is skipped rather than allowed to crash.
"""

from __future__ import annotations

from pathlib import Path

from sagespec.diagnostics import Diagnostic

# The rule modules register their checks as they are imported (the order is the report order).
from sagespec.spec.checks import (  # noqa: F401
    aws,
    conditions,
    emr,
    estimators,
    functions,
    graph,
    names,
    paths,
    quality,
    references,
    retries,
    schedule,
    transform,
    tuning,
    types,
    values,
)
from sagespec.spec.checks.base import CHECKS, CheckContext
from sagespec.spec.source import Document


def run_checks(document: Document, project_root: Path, schema_ok: bool) -> list[Diagnostic]:
    ctx = CheckContext(document, project_root)
    for check in CHECKS:
        try:
            check(ctx)
        except (TypeError, KeyError, AttributeError, IndexError, ValueError):
            if schema_ok:
                raise
    return ctx.diagnostics
