"""What a compile produces: the definition JSON (the contract every backend consumes), the code
uploads it names, and the pipeline's settings sent beside it. Kept apart from the build so that
a cached compile is read back without importing the SDK or boto3."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from typing import Any

from sagespec.aws import arns, partitions
from sagespec.definition import canonical_json
from sagespec.diagnostics import Diagnostic

# Bump when the compiler's output changes for the same inputs (invalidates cached definitions).
COMPILER_FORMAT = 4


@dataclass
class Upload:
    """An object a compile put in S3 (offline: recorded, replayed by an upsert)."""

    bucket: str
    key: str
    body: bytes
    extra: dict[str, Any] = field(default_factory=dict)  # PutObject's other arguments
    # A key that does not name its content (a Clarify job's analysis config, where the SDK puts it):
    # an upsert puts it every time, as the SDK uploads it at every build; other keys are content hashes.
    fixed_key: bool = False

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


@dataclass(frozen=True)
class LambdaFunction:
    """A function a Lambda step brings the code of (sagespec.compiler.functions): what an upsert
    creates or updates before the pipeline, and what a local run invokes."""

    step: str
    arn: str  # FunctionArn, as the definition carries it
    create: bool  # function_name given: created when absent (else an existing function's code is updated)
    role: str | None  # execution_role_arn
    handler: str
    runtime: str
    timeout: int
    memory_size: int
    script: str  # the file name inside the package
    code: bytes  # the zip

    @property
    def name(self) -> str:
        return self.arn.split(":function:", 1)[1].split(":", 1)[0]

    @property
    def code_sha256(self) -> str:
        """Lambda's CodeSha256: the base64 of the package's SHA-256 (GetFunctionConfiguration)."""
        return base64.b64encode(hashlib.sha256(self.code).digest()).decode()

    def to_entry(self) -> dict[str, Any]:
        entry: dict[str, Any] = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "code"}
        return {**entry, "code": base64.b64encode(self.code).decode()}

    @classmethod
    def from_entry(cls, entry: dict[str, Any]) -> LambdaFunction:
        return cls(**{**entry, "code": base64.b64decode(entry["code"])})


@dataclass
class CompiledPipeline:
    name: str
    definition: dict[str, Any]
    uploads: list[Upload] = field(default_factory=list)
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    role: str = ""
    region: str = ""
    max_parallel_steps: int | None = None  # ParallelismConfiguration: not in the definition, sent with it
    from_cache: bool = False
    default_bucket: str = ""
    default_bucket_prefix: str | None = None
    schedule: dict[str, Any] | None = None  # EventBridge Scheduler's CreateSchedule parts (compiler.schedules.schedule_of)
    sdk: str = "v2"  # the SageMaker Python SDK major that built it
    functions: list[LambdaFunction] = field(default_factory=list)  # Lambda functions the spec brings the code of
    warnings: list[Diagnostic] = field(default_factory=list)  # the spec's warnings (not part of a cached entry)

    @property
    def definition_json(self) -> str:
        return canonical_json(self.definition)

    def pipeline_arn(self, account: str | None = None) -> str:
        """The pipeline's ARN in `account` (default: its execution role's account, where the
        accounts file runs its pipelines), in the partition of that role."""
        role = arns.parse(self.role)
        if role is None:
            raise ValueError(f"session.role {self.role} is not a role ARN")
        return partitions.partition(role.partition).sagemaker(self.region, account or role.account, f"pipeline/{self.name}")

    @property
    def definition_upload(self) -> Upload:
        """The definition as an S3 object at a content-hash key beside the code: what an upsert
        uploads and a CloudFormation template's PipelineDefinitionS3Location names."""
        body = self.definition_json.encode()
        parts = [self.default_bucket_prefix, self.name, "definitions", f"{hashlib.sha256(body).hexdigest()}.json"]
        return Upload(self.default_bucket, "/".join(p for p in parts if p), body)
