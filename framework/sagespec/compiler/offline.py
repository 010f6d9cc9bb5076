"""An AWS session for compiling with no credentials and no network.

SDK v2 touches S3 while it builds steps: it checks the default bucket (ListBuckets) and uploads
code (PutObject, multipart for large archives) under content-hash keys. botocore lets a
`before-call` handler answer a call instead of sending it; this module answers those calls and
records each upload (bucket, key, bytes and the extra arguments the SDK chose) so an upsert can
replay exactly those uploads later. Any other AWS call is refused with a clear error: a compile
that needs more than this is a bug to see, not a request to send.
"""

from __future__ import annotations

import datetime
import itertools
from dataclasses import dataclass, field

# The SDK reads this key to decide about telemetry (sagemaker.telemetry.telemetry_logging).
SDK_CONFIG = {"SchemaVersion": "1.0", "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}}}

# Replayed on upsert: what the SDK asked S3 to store, minus the body itself.
_UPLOAD_ARGS = ("ContentType", "ServerSideEncryption", "SSEKMSKeyId", "ACL", "ExpectedBucketOwner")


class OfflineCallError(RuntimeError):
    """The SDK tried an AWS call that offline compilation does not answer."""


@dataclass
class Upload:
    bucket: str
    key: str
    body: bytes
    extra: dict = field(default_factory=dict)

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


@dataclass
class OfflineAws:
    region: str
    buckets: tuple[str, ...]
    uploads: dict[str, Upload] = field(default_factory=dict)
    _parts: dict[str, dict[int, bytes]] = field(default_factory=dict)
    _upload_ids: itertools.count = field(default_factory=itertools.count)

    def boto_session(self):
        import boto3

        session = boto3.Session(aws_access_key_id="offline", aws_secret_access_key="offline", region_name=self.region)
        session.events.register("before-parameter-build.s3.*", self._capture)
        session.events.register("before-call.*.*", self._answer)
        return session

    def _capture(self, params: dict, model, **_) -> None:
        op = model.name
        if op in ("PutObject", "UploadPart"):
            body = params.get("Body", b"")
            data = body.read() if hasattr(body, "read") else body.encode() if isinstance(body, str) else bytes(body or b"")
            if op == "PutObject":
                extra = {k: params[k] for k in _UPLOAD_ARGS if k in params}
                upload = Upload(params["Bucket"], params["Key"], data, extra)
                self.uploads[upload.uri] = upload
            else:
                self._parts.setdefault(params["UploadId"], {})[params["PartNumber"]] = data
        elif op == "CompleteMultipartUpload":
            parts = self._parts.pop(params["UploadId"], {})
            upload = Upload(params["Bucket"], params["Key"], b"".join(parts[n] for n in sorted(parts)))
            self.uploads[upload.uri] = upload

    def _answer(self, model, params, **_):
        from botocore.awsrequest import AWSResponse

        service, op = model.service_model.service_name, model.name
        ok = AWSResponse("https://offline.invalid", 200, {}, None)
        if service == "s3":
            if op == "ListBuckets":
                created = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)
                return ok, {"Buckets": [{"Name": b, "CreationDate": created} for b in self.buckets]}
            if op in ("PutObject", "UploadPart"):
                return ok, {"ETag": '"offline"'}
            if op == "CreateMultipartUpload":
                return ok, {"UploadId": f"offline-{next(self._upload_ids)}"}
            if op == "CompleteMultipartUpload":
                return ok, {}
        raise OfflineCallError(f"offline compile does not answer AWS {service}:{op}")


class sdk_speedups:
    """Within this context, skip work the SDK repeats without need while building one pipeline.

    - Config validation: the SDK checks the whole sagemaker_config against its JSON Schema at
      session start and on every config lookup (`sagemaker.utils.get_sagemaker_config_value`;
      ~0.2 s each, dozens per pipeline). SDK_CONFIG is our constant, and a test validates it with
      the SDK's own validator, so it is trusted; any other config is checked once.
    - Endpoint data: `sagemaker.utils._botocore_resolver` builds a new botocore loader, and so
      re-reads and decodes botocore's endpoint files, on every image URI lookup (~65 ms each).
      The data does not change during a compile, so one resolver serves all lookups.

    SDK v3 has the same two costs under other names: the config check is the static method
    `sagemaker.core.config.config_manager.SageMakerConfig.validate_sagemaker_config` (~0.18 s,
    70 lookups per California compile), the resolver `sagemaker.core.common_utils._botocore_resolver`.

    Each patch is optional: if a future SDK renames the function, the compile is only slower
    (a test pins that both apply to the SDK versions in constraints.txt and constraints-v3.txt).
    Originals are restored.
    """

    def __init__(self, sdk: str = "v2"):
        self.sdk = sdk
        self.applied: list[str] = []
        self._restore: list[tuple[object, str, object]] = []

    def _patch(self, module_name: str, attribute: str, make, owner: str | None = None) -> None:
        import importlib

        target = importlib.import_module(module_name)
        if owner is not None:  # a static method of a class in the module
            target = getattr(target, owner, None)
            if target is None:
                return
        original = target.__dict__.get(attribute) if owner else getattr(target, attribute, None)
        if original is None:
            return
        if isinstance(original, staticmethod):
            setattr(target, attribute, staticmethod(make(original.__func__)))
        else:
            setattr(target, attribute, make(original))
        self._restore.append((target, attribute, original))
        self.applied.append(".".join(p for p in (module_name, owner, attribute) if p))

    def __enter__(self):
        import functools
        import json

        checked = {json.dumps(SDK_CONFIG, sort_keys=True)}

        def validate_once(original):
            def validate(config):
                key = json.dumps(config, sort_keys=True, default=str)
                if key not in checked:
                    original(config)
                    checked.add(key)

            return validate

        if self.sdk == "v3":
            self._patch("sagemaker.core.config.config_manager", "validate_sagemaker_config", validate_once, owner="SageMakerConfig")
            self._patch("sagemaker.core.common_utils", "_botocore_resolver", functools.cache)
            return self
        for module in ("sagemaker.utils", "sagemaker.session"):
            self._patch(module, "validate_sagemaker_config", validate_once)
        self._patch("sagemaker.utils", "_botocore_resolver", functools.cache)
        return self

    def __exit__(self, *exc):
        for module, attribute, original in reversed(self._restore):
            setattr(module, attribute, original)
        return False
