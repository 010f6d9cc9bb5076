"""Content-hash keys for the code SDK v3 uploads.

Three things v3 does at build time that an offline, deterministic compile must not:

- It resolves an AWS region while importing (compiler.offline.default_region offers the spec's).
- ModelTrainer checks the execution role with iam:SimulatePrincipalPolicy and
  iam:GetRole before building a job (sagemaker.core.helper.iam_role_resolver). sagespec
  decides what the role may do itself (`sagespec accounts render|check`), so the build asks it
  not to (compiler.offline.offline_build).
- ModelTrainer and FrameworkProcessor upload code under the job name they generate, which holds
  the clock (`<base job>-<timestamp>/input/code`, `<image>-<timestamp>/source/`), and the
  drivers channel carries the SDK's own `__pycache__` files (bytecode that differs between
  machines). `content_hash_keys` moves each such upload under
  `<prefix>/<pipeline>/code/<sha256 of its files>/`, beside the keys v2 and v3 already derive from
  content, and rewrites the definition's URI to match; bytecode caches are not uploaded.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
from typing import Any

from sagespec.compiler.compiled import Upload
from sagespec.compiler.offline import OfflineAws
from sagespec.definition import walk_steps

CACHES = ("/__pycache__/", ".pyc")


def _content_digest(members: list[tuple[str, Upload]]) -> str:
    """A hash of the files' names and contents; an archive counts by its members, since a
    tar.gz records the staging copy's timestamps."""
    digest = hashlib.sha256()
    for name, upload in sorted(members, key=lambda m: m[0]):
        digest.update(name.encode() + b"\0")
        if name.endswith(".tar.gz"):
            with tarfile.open(fileobj=io.BytesIO(upload.body), mode="r:gz") as tar:
                for member in sorted(tar.getmembers(), key=lambda m: m.name):
                    extracted = tar.extractfile(member) if member.isfile() else None
                    data = extracted.read() if extracted else b""
                    digest.update(member.name.encode() + b"\0" + data + b"\0")
        else:
            digest.update(upload.body + b"\0")
    return digest.hexdigest()


# The inputs the SDK itself fills with code: ModelTrainer's channels, FrameworkProcessor's inputs.
SDK_CHANNELS = ("code", "sm_drivers")
SDK_PROCESSING_INPUTS = ("code", "entrypoint")


def content_hash_keys(definition: dict[str, Any], offline: OfflineAws, code_root: str) -> dict[str, Any]:
    """Move the uploads behind the SDK's own code inputs (outside `code_root`,
    s3://bucket/prefix/pipeline/code) to content-hash keys under it, and point the definition there."""
    source = {uri: u for uri, u in offline.uploads.items() if not any(c in uri for c in CACHES)}
    result = dict(source)

    def relocate(uri: object) -> object:
        if not isinstance(uri, str) or not uri.startswith("s3://") or uri.startswith(code_root + "/"):
            return uri
        folder = uri.rstrip("/") + "/"
        if uri in source:  # one file: it keeps its name
            members = [(uri.rsplit("/", 1)[1], source[uri])]
        else:
            members = [(u[len(folder) :], up) for u, up in source.items() if u.startswith(folder)]
        if not members:
            return uri
        target = f"{code_root}/{_content_digest(members)}"
        bucket, _, root_key = target[len("s3://") :].partition("/")
        for name, upload in members:
            result.pop(upload.uri, None)
            relocated = Upload(bucket, f"{root_key}/{name}", upload.body, upload.extra)
            result[relocated.uri] = relocated
        if uri in source:
            return f"{target}/{members[0][0]}"
        return target + ("/" if uri.endswith("/") else "")

    for placed in walk_steps(definition):  # the definition's own dicts, branches included: rewritten in place
        args = placed.step.get("Arguments") or {}
        for channel in args.get("InputDataConfig") or []:
            s3 = (channel.get("DataSource") or {}).get("S3DataSource")
            if channel.get("ChannelName") in SDK_CHANNELS and s3:
                s3["S3Uri"] = relocate(s3.get("S3Uri"))
        for given in args.get("ProcessingInputs") or []:
            if given.get("InputName") in SDK_PROCESSING_INPUTS and given.get("S3Input"):
                given["S3Input"]["S3Uri"] = relocate(given["S3Input"].get("S3Uri"))
    offline.uploads = result
    return definition
