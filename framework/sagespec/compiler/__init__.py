"""Compile a validated spec into a SageMaker SDK Pipeline (v2 or v3) and its definition JSON.

Every `sagemaker` import lives in this package, so commands that need no SDK start fast. The
installed SDK's major selects the backend (compiler.sdk); both build from the same spec through
one table of builders per SDK (compiler.build.BUILDERS), v2's in compiler.v2 and v3's in
compiler.v3, and what v3 does not build yet is one located error per feature
(compiler.v3.unsupported). Compilation runs offline (compiler.offline) from a staged copy of the
code (compiler.staging), so the output is byte-identical for the same inputs on any machine,
with the same content-hash code keys a real upsert uploads to.

The definition JSON is the contract: upsert sends it to SageMaker, diff compares it, and the
local executor runs it.
"""

from __future__ import annotations

from pathlib import Path

from sagespec.compiler import cache
from sagespec.compiler.compiled import CompiledPipeline
from sagespec.compiler.sdk import SdkUnavailable, choose
from sagespec.diagnostics import Diagnostic, DiagnosticError
from sagespec.spec.files import UnsafePath
from sagespec.spec.load import SpecResult


def compiled_before(result: SpecResult, cache_dir: Path) -> CompiledPipeline | None:
    """The definition compiled before from exactly these inputs, if the cache holds it (never
    builds, never imports the SDK); None for an invalid spec or a miss."""
    if not result.ok:
        return None
    try:
        return cache.load(cache_dir, cache.input_key(result))
    except UnsafePath:
        return None


def compile_spec(result: SpecResult, cache_dir: Path | None = None, sdk: str | None = None) -> CompiledPipeline:
    """Compile a loaded spec. Raises DiagnosticError when the spec is invalid or the SDK rejects it.

    With `cache_dir`, a definition compiled before from identical inputs is reused without
    importing the SDK. `sdk` ("v2"/"v3", else SAGESPEC_SDK) must name the installed SDK's major:
    one environment holds one of them.
    """
    document = result.document
    if not result.ok or document is None:  # an ok result has its document
        raise DiagnosticError([d for d in result.diagnostics if d.severity == "error"])
    source = document.source
    try:
        sdk = choose(sdk)
    except SdkUnavailable as refused:
        raise DiagnosticError([Diagnostic("E5011", str(refused), source.span(()))]) from None
    try:
        key = cache.input_key(result) if cache_dir else None
        if cache_dir and key:
            hit = cache.load(cache_dir, key)
            if hit is not None:
                return hit
        from sagespec.compiler.compilation import compile_uncached  # start-up: boto3 and the SDK only for a compile the cache misses

        compiled = compile_uncached(result, sdk)
    except UnsafePath as refused:  # a link or special file that appeared after validation
        raise DiagnosticError([Diagnostic("E4005", refused.message, source.span(()))]) from None
    if cache_dir and key:
        cache.store(cache_dir, key, compiled)
    return compiled
