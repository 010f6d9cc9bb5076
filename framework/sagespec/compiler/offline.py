"""An AWS session for compiling with no credentials and no network, and what the SDK is told
while it builds so that the output depends on nothing but the spec and its code.

SDK v2 touches S3 while it builds steps: it checks the default bucket (ListBuckets) and uploads
code (PutObject, multipart for large archives) under content-hash keys. botocore lets a
`before-call` handler answer a call instead of sending it; OfflineAws answers those calls and
records each upload (bucket, key, bytes and the extra arguments the SDK chose) so an upsert can
replay exactly those uploads later. Any other AWS call is refused with a clear error: a compile
that needs more than this is a bug to see, not a request to send.

The SDK is patched for the build only (every patch is undone after it):
- sdk_speedups: work it repeats without need (config validation, endpoint data).
- offline_build: code paths hashed as the spec writes them (the SDK is given the staged copy's
  paths), and, on v3, no IAM check of the execution role (sagespec decides access itself:
  `accounts render|check`).
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import importlib
import itertools
import json
import logging
import re
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import boto3
from botocore.awsrequest import AWSResponse
from botocore.loaders import Loader

from sagespec.aws.logs import quiet
from sagespec.compiler.compiled import Upload

if TYPE_CHECKING:
    from botocore.model import OperationModel

# The SDK reads this key to decide about telemetry (sagemaker.telemetry.telemetry_logging).
SDK_CONFIG = {"SchemaVersion": "1.0", "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}}}

# Replayed on upsert: what the SDK asked S3 to store, minus the body itself.
_UPLOAD_ARGS = ("ContentType", "ServerSideEncryption", "SSEKMSKeyId", "ACL", "ExpectedBucketOwner")


class OfflineCallError(RuntimeError):
    """The SDK tried an AWS call that offline compilation does not answer."""


@dataclass
class OfflineAws:
    region: str
    buckets: tuple[str, ...]
    staged: Path | None = None  # the staged code's root: never named in what is uploaded
    uploads: dict[str, Upload] = field(default_factory=dict)
    _parts: dict[str, dict[int, bytes]] = field(default_factory=dict)
    _upload_ids: Iterator[int] = field(default_factory=itertools.count)

    def boto_session(self) -> boto3.Session:
        session = boto3.Session(aws_access_key_id="offline", aws_secret_access_key="offline", region_name=self.region)
        session.events.register("before-parameter-build.s3.*", self._capture)
        session.events.register("before-call.*.*", self._answer)  # type: ignore[arg-type]  # what it returns answers the call
        return session

    def _record(self, upload: Upload) -> None:
        # SDK v3 writes the source folder it was given into sourcecode.json: the staged copy's
        # path there would make the object differ between compiles (and name this machine).
        if self.staged is not None:
            upload.body = upload.body.replace(f"{self.staged}/".encode(), b"")
        self.uploads[upload.uri] = upload

    def _capture(self, params: dict[str, Any], model: OperationModel, **_: object) -> None:
        op = model.name
        if op in ("PutObject", "UploadPart"):
            body = params.get("Body", b"")
            data = body.read() if hasattr(body, "read") else body.encode() if isinstance(body, str) else bytes(body or b"")
            if op == "PutObject":
                extra = {k: params[k] for k in _UPLOAD_ARGS if k in params}
                self._record(Upload(params["Bucket"], params["Key"], data, extra))
            else:
                self._parts.setdefault(params["UploadId"], {})[params["PartNumber"]] = data
        elif op == "CompleteMultipartUpload":
            parts = self._parts.pop(params["UploadId"], {})
            self._record(Upload(params["Bucket"], params["Key"], b"".join(parts[n] for n in sorted(parts))))

    def _answer(self, model: OperationModel, params: dict[str, Any], **_: object) -> tuple[AWSResponse, dict[str, Any]]:
        service, op = model.service_model.service_name, model.name
        ok = AWSResponse("https://offline.invalid", 200, {}, None)  # type: ignore[arg-type]  # botocore takes any mapping of headers
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


@contextmanager
def default_region(region: str) -> Iterator[None]:
    """SDK v3 makes boto3 clients in boto3's default session while importing, and raises
    NoRegionError without a region. Offline compiles name their region in the spec: it is offered
    to the default session for the build, never over a default session someone set up."""
    previous = boto3.DEFAULT_SESSION
    if previous is None:
        boto3.setup_default_session(region_name=region)
    try:
        yield
    finally:
        boto3.DEFAULT_SESSION = previous


# botocore's service data (models, endpoint rule sets, partitions), shared by every loader that
# reads the same search paths within a compile. Keyed by the paths: never another installation's.
_SERVICE_DATA: dict[tuple[object, ...], Any] = {}


@contextmanager
def shared_service_data() -> Iterator[None]:
    """Every botocore loader of a compile reads each data file once. botocore caches what a
    loader read on the loader, and each boto3 session has its own: SDK v2 makes three sessions
    (JumpStart's while importing, the default one, the pipeline session's), each creating six
    clients, so SageMaker's service model was decoded four times (~0.1 s each). The
    documents are read-only to botocore (one loader already hands the same dict to every
    client)."""
    originals = {name: vars(Loader)[name] for name in ("load_service_model", "load_data")}

    def shared(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def load(self: Loader, *args: Any, **kwargs: Any) -> Any:
            key = (name, tuple(self.search_paths), args, tuple(sorted(kwargs.items())))
            if key not in _SERVICE_DATA:
                _SERVICE_DATA[key] = original(self, *args, **kwargs)
            return _SERVICE_DATA[key]

        return load

    for name, original in originals.items():
        setattr(Loader, name, shared(name, original))
    try:
        yield
    finally:
        for name, original in originals.items():
            setattr(Loader, name, original)


@contextmanager
def quiet_sdk() -> Iterator[None]:
    """The SDK logs INFO/WARNING chatter and warns (v2's deprecation notice, a FutureWarning) on
    every build; users see sagespec's diagnostics instead (an error the SDK raises still reaches
    them as E5001/E5002). v3 calls logging.basicConfig while importing
    (sagemaker.core.experiments._metrics): the root logger is put back after."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    quiet(("sagemaker", "sagemaker.config"), "ERROR")
    quiet()  # the SDK configures logging; boto's INFO stays quiet
    logging.disable(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", module=r"sagemaker(\..*)?")
            warnings.filterwarnings("ignore", message=r".*SageMaker Python SDK v2", category=FutureWarning)
            yield
    finally:
        logging.disable(logging.NOTSET)
        for handler in [h for h in root.handlers if h not in handlers]:
            root.removeHandler(handler)
        root.setLevel(level)


class _Patches:
    """Module attributes of the SDK replaced within the context, restored after. Each patch is
    optional: if a future SDK renames the function, it is left alone (tests pin that every patch
    applies to the SDK versions in constraints.txt and constraints-v3.txt)."""

    def __init__(self, sdk: str = "v2"):
        self.sdk = sdk
        self.applied: list[str] = []
        self._restore: list[tuple[object, str, object]] = []

    def _patch(self, module_name: str, attribute: str, make: Callable[[Any], Any], owner: str | None = None) -> None:
        target: object = importlib.import_module(module_name)
        if owner is not None:  # a static method of a class in the module
            target = getattr(target, owner, None)
            if target is None:
                return
        original = vars(target).get(attribute) if owner else getattr(target, attribute, None)
        if original is None:
            return
        if isinstance(original, staticmethod):
            setattr(target, attribute, staticmethod(make(original.__func__)))
        else:
            setattr(target, attribute, make(original))
        self._restore.append((target, attribute, original))
        self.applied.append(".".join(p for p in (module_name, owner, attribute) if p))

    def __enter__(self) -> _Patches:
        return self

    def __exit__(self, *exc: object) -> Literal[False]:
        for target, attribute, original in reversed(self._restore):
            setattr(target, attribute, original)
        return False


class sdk_speedups(_Patches):
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
    """

    def __enter__(self) -> sdk_speedups:
        checked = {json.dumps(SDK_CONFIG, sort_keys=True)}

        def validate_once(original: Callable[[object], object]) -> Callable[[object], None]:
            def validate(config: object) -> None:
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


# Where each SDK hashes the paths it is given into code keys (`hash_files_or_dirs` calls it for
# every path), and the modules that check the execution role with IAM before building (v3).
HASH_MODULES = {"v2": "sagemaker.workflow.utilities", "v3": "sagemaker.core.workflow.utilities"}
ROLE_CHECKING_MODULES = ("sagemaker.train.defaults", "sagemaker.serve.model_builder", "sagemaker.mlops.workflow.pipeline")
# Where each SDK uploads a Clarify check's monitoring analysis config (ClarifyCheckStep, at build time).
CLARIFY_MONITOR_MODULES = {
    "v2": "sagemaker.model_monitor.clarify_model_monitoring",
    "v3": "sagemaker.core.model_monitor.clarify_model_monitoring",
}
# name_from_base's suffix: -YYYY-MM-DD-HH-MM-SS-mmm
_CLOCK_SUFFIX = re.compile(r"-\d{4}(-\d{2}){5}-\d{3}$")


class offline_build(_Patches):
    """What the SDK is told for an offline, reproducible build of a spec staged at `staged`.

    - Code keys: the SDK names code uploads after a hash of each path string it is given and of
      the files under it (`_hash_file_or_dir`), in the paths' sorted order. It is given the staged
      copy's paths; they are hashed, and sorted, as the spec writes them, relative to the project,
      so a key depends only on the code (the keys a build from the project's own folder gives).
    - SDK v3's ModelTrainer and ModelBuilder check the execution role with
      iam:SimulatePrincipalPolicy (sagemaker.core.helper.iam_role_resolver); they are asked not to
      (`validate_role=False`, the SDK's own switch): sagespec decides what the role may do itself.
    - Clarify's monitoring analysis config: the SDK uploads it to <output>/<name>-<time>/<uuid4>/
      analysis_config.json, so every build names another object; here <output>/<name>/<sha256 of
      the config>/analysis_config.json, the same object for the same config.
    - SDK v3's ProcessingStep and TransformStep make a LocalSagemakerClient only to read one of its
      method names, and that client makes a boto3 session from the environment, which refuses
      to start without a configured region; here it is made without one.
    """

    def __init__(self, sdk: str, staged: Path):
        super().__init__(sdk)
        self.staged = staged

    def __enter__(self) -> offline_build:
        module = importlib.import_module(HASH_MODULES[self.sdk])
        prefix = f"{self.staged}/"

        def as_written(original: Callable[[object, hashlib._Hash], hashlib._Hash]) -> Callable[[object, hashlib._Hash], hashlib._Hash]:
            def hash_file_or_dir(path: object, sha256: hashlib._Hash) -> hashlib._Hash:
                if isinstance(path, str) and not path.startswith(prefix) and "://" not in path and not Path(path).is_absolute():
                    # A bare name (a FrameworkProcessor's code, named inside its source_dir): the SDK
                    # looks it up from where it runs; here, from the project, not this process's folder.
                    path = f"{prefix}{path}"
                if not isinstance(path, str) or not path.startswith(prefix):
                    return original(path, sha256)
                sha256.update(path[len(prefix) :].encode())
                if Path(path).is_dir():
                    hashed: hashlib._Hash = module._hash_dir(path, sha256)
                elif Path(path).is_file():
                    hashed = module._hash_file(path, sha256)
                else:
                    hashed = sha256
                return hashed

            return hash_file_or_dir

        self._patch(HASH_MODULES[self.sdk], "_hash_file_or_dir", as_written)

        def sorted_as_written(original: Callable[[list[str]], str]) -> Callable[[list[str]], str]:
            # It hashes the paths in sorted order: sorted as written ("score.py" before "src"),
            # not as staged ("/tmp/.../src" first), the key is the one the SDK computes in the project.
            def hash_files_or_dirs(paths: list[str]) -> str:
                sha256 = hashlib.sha256()
                for path in sorted(paths, key=lambda p: p[len(prefix) :] if isinstance(p, str) and p.startswith(prefix) else p):
                    sha256 = module._hash_file_or_dir(path, sha256)
                return sha256.hexdigest()

            return hash_files_or_dirs

        self._patch(HASH_MODULES[self.sdk], "hash_files_or_dirs", sorted_as_written)
        monitoring = importlib.import_module(CLARIFY_MONITOR_MODULES[self.sdk])

        def content_named(original: Callable[..., str]) -> Callable[..., str]:
            def upload_analysis_config(
                monitor: Any, analysis_config: dict[str, Any], output_s3_uri: str, job_definition_name: str, kms_key: str | None
            ) -> str:
                body = json.dumps(analysis_config)
                name = _CLOCK_SUFFIX.sub("", job_definition_name)
                uri = monitoring.s3.s3_path_join(output_s3_uri, name, hashlib.sha256(body.encode()).hexdigest(), "analysis_config.json")
                uploaded: str = monitoring.s3.S3Uploader.upload_string_as_file_body(
                    body, desired_s3_uri=uri, sagemaker_session=monitor.sagemaker_session, kms_key=kms_key
                )
                return uploaded

            return upload_analysis_config

        self._patch(CLARIFY_MONITOR_MODULES[self.sdk], "_upload_analysis_config", content_named, owner="ClarifyModelMonitor")
        if self.sdk == "v3":
            for name in ROLE_CHECKING_MODULES:
                self._patch(name, "resolve_and_validate_role", lambda original: functools.partial(original, validate_role=False))
            self._patch("sagemaker.mlops.workflow.steps", "LocalSagemakerClient", _method_names_only)
        return self


def _method_names_only(client: type) -> type:
    class MethodNames(client):  # type: ignore[misc]  # subclassing a class known only at run time
        def __init__(self, *args: object, **kwargs: object) -> None:
            """Made to be asked its methods' names, never called: no session."""

    return MethodNames
