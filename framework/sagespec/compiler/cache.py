"""A cache of compiled definitions keyed by a hash of every input.

Inputs: the rendered spec, the name and bytes of every staged code file, the compiler format,
the sagespec and sagemaker versions, and the compiler's own source (an editable install changes
the compiler without changing the version: a stale definition would be served otherwise). Same key, same output: so a repeat compile of an
unchanged spec skips the SDK import (seconds) entirely. Entries are written atomically;
a corrupt or partial entry is treated as a miss.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import os
import tempfile
from importlib import metadata
from pathlib import Path

from sagespec import __version__
from sagespec.compiler.compiled import COMPILER_FORMAT, CompiledPipeline, LambdaFunction, Upload
from sagespec.compiler.staging import code_paths, fingerprint
from sagespec.spec.load import SpecResult


def _sdk_version() -> str:
    try:
        return metadata.version("sagemaker")
    except metadata.PackageNotFoundError:
        return "missing"


@functools.cache
def _compiler_source() -> str:
    digest = hashlib.sha256()
    root = Path(__file__).parent
    for path in sorted(root.rglob("*.py")):  # the v3 backend's subpackage too
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def input_key(result: SpecResult) -> str:
    document, root = result.document, result.project_root
    assert document is not None and isinstance(document.data, dict) and root is not None, "a valid spec, loaded from its project"
    data = document.data
    digest = hashlib.sha256()
    digest.update(json.dumps(data, sort_keys=True).encode())
    digest.update(fingerprint(root, code_paths(data)).encode())
    digest.update(f"{COMPILER_FORMAT}|{__version__}|{_sdk_version()}|{_compiler_source()}".encode())
    return digest.hexdigest()


def load(cache_dir: Path, key: str) -> CompiledPipeline | None:
    path = cache_dir / f"{key}.json"
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
        uploads = [
            Upload(u["bucket"], u["key"], base64.b64decode(u["body"]), u.get("extra", {}), u.get("fixed_key", False))
            for u in entry["uploads"]
        ]
        return CompiledPipeline(
            entry["name"],
            entry["definition"],
            uploads,
            entry.get("description"),
            entry.get("tags", {}),
            entry["role"],
            entry["region"],
            entry.get("max_parallel_steps"),
            from_cache=True,
            default_bucket=entry["default_bucket"],
            default_bucket_prefix=entry.get("default_bucket_prefix"),
            schedule=entry.get("schedule"),
            sdk=entry.get("sdk", "v2"),
            functions=[LambdaFunction.from_entry(f) for f in entry.get("functions", [])],
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def store(cache_dir: Path, key: str, compiled: CompiledPipeline) -> None:
    entry = {
        "name": compiled.name,
        "definition": compiled.definition,
        "uploads": [
            {"bucket": u.bucket, "key": u.key, "body": base64.b64encode(u.body).decode(), "extra": u.extra, "fixed_key": u.fixed_key}
            for u in compiled.uploads
        ],
        "description": compiled.description,
        "tags": compiled.tags,
        "role": compiled.role,
        "region": compiled.region,
        "max_parallel_steps": compiled.max_parallel_steps,
        "default_bucket": compiled.default_bucket,
        "default_bucket_prefix": compiled.default_bucket_prefix,
        "schedule": compiled.schedule,
        "sdk": compiled.sdk,
        "functions": [f.to_entry() for f in compiled.functions],
    }
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache_dir, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(entry, handle)
        os.replace(tmp, cache_dir / f"{key}.json")
    except OSError:
        pass  # a cache that cannot be written is only a slower next compile
