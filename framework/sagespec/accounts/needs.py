"""What each step of a compiled pipeline definition needs from IAM, derived from its arguments.

Three callers make requests for a pipeline, and each is a need here:

    pipeline role   SageMaker Pipelines, as the pipeline's role, starts and watches each job
                    (Create* and Describe* of its type), passes the job's role to SageMaker
                    (iam:PassRole with iam:PassedToService), registers versions, creates models,
                    invokes Lambda functions and reads property files for JsonGet
                    (SageMaker guide, "IAM Access Management" for Pipelines).
    job role        the job, as the role in its arguments, pulls its image from ECR, reads its
                    inputs and code, writes its outputs under their prefix, uses the KMS key of
                    the data it touches, writes CloudWatch Logs and metrics
                    (API reference, CreateTrainingJob / CreateProcessingJob: RoleArn).
    endpoint role   a workload endpoint serving a registered version pulls the inference image,
                    reads the model artifact, decrypts it and writes logs
                    (API reference, CreateModel: ExecutionRoleArn).

Resource ARNs come from the Service Authorization Reference's formats (sagespec.iam.catalog);
what a definition computes at run time (an execution ID, a job name) becomes `*`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sagespec.accounts.external_needs import REQUESTS
from sagespec.accounts.registry_needs import inference_code, read_baselines, register
from sagespec.aws import images
from sagespec.definition import defaults, steps, walk_steps
from sagespec.iam import Principal, catalog
from sagespec.iam.conditions import glob_matches

if TYPE_CHECKING:
    from sagespec.accounts.places import Places

ECR_PULL = ("ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")
# The CloudWatch log group each job type writes to ("Log Amazon SageMaker AI events with CloudWatch").
# Endpoints write to a group per endpoint (/aws/sagemaker/Endpoints/<name>).
LOG_GROUPS = {
    "Processing": "/aws/sagemaker/ProcessingJobs",
    "QualityCheck": "/aws/sagemaker/ProcessingJobs",  # Model Monitor's analyzer is a processing job
    "ClarifyCheck": "/aws/sagemaker/ProcessingJobs",  # so is Clarify's
    "Training": "/aws/sagemaker/TrainingJobs",
    "Tuning": "/aws/sagemaker/TrainingJobs",  # a tuning job's training jobs log as training jobs
    "Transform": "/aws/sagemaker/TransformJobs",
    "Endpoint": "/aws/sagemaker/Endpoints/*",
}
NAMESPACES = {
    "Processing": "/aws/sagemaker/ProcessingJobs",
    "QualityCheck": "/aws/sagemaker/ProcessingJobs",  # Model Monitor's analyzer is a processing job
    "ClarifyCheck": "/aws/sagemaker/ProcessingJobs",
    "Training": "/aws/sagemaker/TrainingJobs",
    "Tuning": "/aws/sagemaker/TrainingJobs",
    "Transform": "/aws/sagemaker/TransformJobs",
    "Endpoint": "/aws/sagemaker/Endpoints",
}
JOBS = {
    "Processing": ("CreateProcessingJob", "DescribeProcessingJob", "processing-job"),
    "QualityCheck": ("CreateProcessingJob", "DescribeProcessingJob", "processing-job"),
    "ClarifyCheck": ("CreateProcessingJob", "DescribeProcessingJob", "processing-job"),
    "Training": ("CreateTrainingJob", "DescribeTrainingJob", "training-job"),
    # The pipeline reads a tuning step's TrainingJobSummaries with ListTrainingJobsForHyperParameterTuningJob.
    "Tuning": ("CreateHyperParameterTuningJob", "DescribeHyperParameterTuningJob", "hyper-parameter-tuning-job"),
}


@dataclass(frozen=True)
class Need:
    pipeline: str
    step: str
    caller: str  # "pipeline role" | "job role" | "endpoint role"
    role: str  # the role ARN the request is made as
    action: str
    resource: str
    grant: str  # which rendered statement covers it (its Sid)
    context: tuple[tuple[str, str], ...] = ()  # condition keys of the request, as (key, value) pairs

    @property
    def account(self) -> str:
        return self.role.split(":")[4]

    def context_dict(self) -> dict[str, str]:
        return dict(self.context)

    @property
    def principal(self) -> Principal:
        """Who makes the request: the SageMaker service (assuming a role) or the role itself."""
        return Principal.service(self.role) if self.caller == "SageMaker" else Principal(self.account, self.role)


def _resolve(value: object, by_name: dict[str, dict[str, Any]], known: dict[str, Any], seen: frozenset[str] = frozenset()) -> str:
    """A definition expression as text, with what only a run knows as `*`."""
    if isinstance(value, (str, int, float)):
        return str(value)
    if isinstance(value, dict) and "Std:Join" in value:
        join = value["Std:Join"]
        return str(join.get("On", "")).join(_resolve(v, by_name, known, seen) for v in join.get("Values", []))
    if isinstance(value, dict) and "Get" in value:
        path = value["Get"]
        if path.startswith(("Parameters.", "Execution.")):
            return str(known.get(path.split(".", 1)[1], "*"))
        if path.startswith("Steps.") and path not in seen:
            return _step_property(path, by_name, known, seen | {path})
    return "*"


def _step_property(path: str, by_name: dict[str, dict[str, Any]], known: dict[str, Any], seen: frozenset[str]) -> str:
    name, _, rest = path[len("Steps.") :].partition(".")
    step = by_name.get(name)
    if step is None:
        return "*"
    arguments = step.get("Arguments", {})
    output = re.match(r"ProcessingOutputConfig\.Outputs\['([^']+)'\]\.S3Output\.S3Uri", rest)
    if output:
        for candidate in arguments.get("ProcessingOutputConfig", {}).get("Outputs", []):
            if candidate.get("OutputName") == output.group(1):
                return _resolve(candidate["S3Output"]["S3Uri"], by_name, known, seen)
    if rest == "ModelArtifacts.S3ModelArtifacts":
        base = _resolve(arguments.get("OutputDataConfig", {}).get("S3OutputPath", "*"), by_name, known, seen)
        return base.rstrip("/") + "/*/output/model.tar.gz"
    return "*"


_CONTENT_HASH = re.compile(r"(?<=/)[0-9a-f]{64}(?=/|$)")  # a file under the hash, or the hash folder itself (SDK v3 channels)


def _s3(uri: str) -> tuple[str, str] | None:
    """(bucket, key) of an S3 URI. Staged code lives under its content hash (.../code/<sha256>/...):
    the hash becomes `*`, so the grant survives the next code change (as the IAM policy must)."""
    if not uri.startswith("s3://"):
        return None
    bucket, _, key = uri[5:].partition("/")
    return bucket, _CONTENT_HASH.sub("*", key)


class _Collector:
    def __init__(self, pipeline: str, places: Places, definition: dict[str, Any], run: dict[str, Any] | None = None):
        self.pipeline, self.places = pipeline, places
        self.by_name = steps(definition)  # every step, branches included, looked up by name once
        self.known = {**defaults(definition), **(run or {})}
        self.found: list[Need] = []
        self.written: list[tuple[str, str]] = []  # (object ARN pattern, KMS key it is written with)

    def add(self, step: str, caller: str, role: str, action: str, resource: str, grant: str, context: dict[str, str] | None = None) -> None:
        self.found.append(Need(self.pipeline, step, caller, role, action, resource, grant, tuple(sorted((context or {}).items()))))

    def arn(self, action: str, account: str, resource_type: str | None = None, **names: str) -> str:
        return catalog.resource_arn(action, self.places.aws.name, self.places.region, account, resource_type, **names)

    @property
    def sagemaker(self) -> str:
        """The SageMaker service principal, who assumes job roles and is passed them."""
        return self.places.aws.service_principal("sagemaker")

    def resolve(self, value: object) -> str:
        return _resolve(value, self.by_name, self.known)

    def pass_role(self, step: str, caller_role: str, passed: str) -> None:
        self.add(
            step, "pipeline role", caller_role, "iam:PassRole", passed, "PassRolesToSageMaker", {"iam:PassedToService": self.sagemaker}
        )

    def read(self, step: str, caller: str, role: str, uri: str, prefix: bool, grant: str = "ReadInputs") -> None:
        located = _s3(uri)
        if located is None:
            return
        bucket, key = located
        # S3Prefix: every object whose key starts with the prefix, found by listing it (Prefix=key).
        objects = key + "*" if prefix and not key.endswith("*") else key
        arn = self.places.aws.bucket(bucket, objects)
        self.add(step, caller, role, "s3:GetObject", arn, grant)
        if prefix:
            self.add(step, caller, role, "s3:ListBucket", self.places.aws.bucket(bucket), "ListInputPrefixes", {"s3:prefix": key})
        written_with = next((k for pattern, k in self.written if glob_matches(pattern, arn) or glob_matches(arn, pattern)), None)
        self.key_use(step, caller, role, bucket, ("kms:Decrypt",), written_with)

    def write(self, step: str, caller: str, role: str, uri: str, key_arn: str | None = None) -> None:
        located = _s3(uri)
        if located is None:
            return
        bucket, key = located
        arn = self.places.aws.bucket(bucket, f"{key.rstrip('/')}/*")
        self.add(step, caller, role, "s3:PutObject", arn, "WriteOutputs")
        if key_arn or self.places.bucket_keys.get(bucket):
            self.written.append((arn, key_arn or self.places.bucket_keys[bucket]))
        # Multipart uploads under SSE-KMS need Decrypt as well as GenerateDataKey (S3 guide, "Using SSE-KMS").
        self.key_use(step, caller, role, bucket, ("kms:GenerateDataKey", "kms:Decrypt"), key_arn)

    def key_use(self, step: str, caller: str, role: str, bucket: str, actions: Iterable[str], key_arn: str | None = None) -> None:
        key = key_arn or self.places.bucket_keys.get(bucket)
        if not key:
            return
        via = {"kms:ViaService": self.places.aws.endpoint_host("s3", self.places.region)}
        for action in actions:
            self.add(step, caller, role, action, key, "UseTheArtifactKeyThroughS3", via)

    def image(self, step: str, caller: str, role: str, image_uri: str) -> None:
        image = images.parse(self.resolve(image_uri))
        if not image:
            return
        repository = self.arn("ecr:BatchGetImage", image.account, RepositoryName=image.repository)
        repository = repository.replace(f":{self.places.region}:", f":{image.region}:")
        self.add(step, caller, role, "ecr:GetAuthorizationToken", "*", "AuthenticateToEcr")
        for action in ECR_PULL:
            self.add(step, caller, role, action, repository, "PullImages")

    def logs(self, step: str, caller: str, role: str, kind: str) -> None:
        account = role.split(":")[4]
        group = LOG_GROUPS[kind]
        self.add(step, caller, role, "logs:CreateLogGroup", self.arn("logs:CreateLogGroup", account, LogGroupName=group), "WriteLogs")
        stream = self.arn("logs:PutLogEvents", account, LogGroupName=group)
        for action in ("logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"):
            resource_type = "log-stream" if action != "logs:DescribeLogStreams" else "log-group"
            arn = stream if resource_type == "log-stream" else self.arn(action, account, "log-group", LogGroupName=group)
            self.add(step, caller, role, action, arn, "WriteLogs")
        # PutMetricData takes Resource "*"; the namespace condition key scopes it ("CloudWatch condition keys").
        self.add(step, caller, role, "cloudwatch:PutMetricData", "*", "PutMetrics", {"cloudwatch:namespace": NAMESPACES[kind]})


def needs(pipeline: str, definition: dict[str, Any], pipeline_role: str, places: Places, run: dict[str, Any] | None = None) -> list[Need]:
    """Every request running `definition` makes, by step, caller and role. `run` holds what one
    execution knows (its parameter values, PipelineExecutionId); without it those are `*`."""
    c = _Collector(pipeline, places, definition, run)
    account = pipeline_role.split(":")[4]
    for placed in walk_steps(definition):
        step, kind, args = placed.name, placed.type, placed.step.get("Arguments", {})
        if kind == "Tuning":  # its training jobs run as the role, image and channels of its TrainingJobDefinition
            args = {
                **args.get("TrainingJobDefinition", {}),
                "HyperParameters": args.get("TrainingJobDefinition", {}).get("StaticHyperParameters", {}),
            }
        if kind in JOBS:
            create, describe, resource_type = JOBS[kind]
            job = c.arn(f"sagemaker:{create}", account, resource_type)
            c.add(step, "pipeline role", pipeline_role, f"sagemaker:{create}", job, "StartAndWatchJobs")
            c.add(step, "pipeline role", pipeline_role, f"sagemaker:{describe}", job, "StartAndWatchJobs")
            if kind == "Tuning":
                list_jobs = "sagemaker:ListTrainingJobsForHyperParameterTuningJob"
                c.add(step, "pipeline role", pipeline_role, list_jobs, job, "StartAndWatchJobs")
            job_role = args.get("RoleArn", pipeline_role)
            c.pass_role(step, pipeline_role, job_role)
            c.add(step, "SageMaker", c.sagemaker, "sts:AssumeRole", job_role, "TrustSageMaker")
            c.logs(step, "job role", job_role, kind)
        if kind in JOBS:
            _job_settings(c, step, kind, args, pipeline_role, job_role)
        if kind in ("Processing", "QualityCheck", "ClarifyCheck"):
            c.image(step, "job role", job_role, args.get("AppSpecification", {}).get("ImageUri", ""))
            for item in args.get("ProcessingInputs", []):
                s3 = item.get("S3Input") or {}
                c.read(step, "job role", job_role, c.resolve(s3.get("S3Uri", "")), s3.get("S3DataType") == "S3Prefix")
            config = args.get("ProcessingOutputConfig", {})
            for item in config.get("Outputs", []):
                c.write(step, "job role", job_role, c.resolve(item.get("S3Output", {}).get("S3Uri", "")), config.get("KmsKeyId"))
        elif kind in ("Training", "Tuning"):
            c.image(step, "job role", job_role, args.get("AlgorithmSpecification", {}).get("TrainingImage", ""))
            for channel in args.get("InputDataConfig", []):
                source = channel.get("DataSource", {}).get("S3DataSource", {})
                c.read(step, "job role", job_role, c.resolve(source.get("S3Uri", "")), source.get("S3DataType") == "S3Prefix")
            code = str(args.get("HyperParameters", {}).get("sagemaker_submit_directory", "")).strip('"')
            c.read(step, "job role", job_role, code, prefix=False, grant="ReadCode")
            output = args.get("OutputDataConfig", {})
            c.write(step, "job role", job_role, c.resolve(output.get("S3OutputPath", "")), output.get("KmsKeyId"))
            # SageMaker Debugger's hook and profiler write where their configs say (by default the same place)
            for debugger in ("DebugHookConfig", "ProfilerConfig"):
                path = (args.get(debugger) or {}).get("S3OutputPath")
                if path and path != output.get("S3OutputPath"):
                    c.write(step, "job role", job_role, c.resolve(path), output.get("KmsKeyId"))
        elif kind == "Transform":
            _transform(c, step, args, pipeline_role, account)
        elif kind == "RegisterModel":
            register(c, step, args, pipeline_role, account)
        elif kind == "Model":
            model = c.arn("sagemaker:CreateModel", account)
            c.add(step, "pipeline role", pipeline_role, "sagemaker:CreateModel", model, "CreateModels")
            c.add(step, "pipeline role", pipeline_role, "sagemaker:DescribeModel", model, "CreateModels")
            if args.get("ExecutionRoleArn"):
                c.pass_role(step, pipeline_role, args["ExecutionRoleArn"])
        if kind == "ClarifyCheck" and placed.step.get("ModelName"):
            _shadow_endpoint(c, step, job_role, account)
        if kind in ("QualityCheck", "ClarifyCheck") and placed.step.get("ModelPackageGroupName"):
            read_baselines(c, step, placed.step, pipeline_role, account)
        elif kind in REQUESTS:
            REQUESTS[kind](c, step, placed.step, pipeline_role, account)
        elif kind == "Condition":
            for uri in _property_files(placed.step, c):
                c.read(step, "pipeline role", pipeline_role, uri, prefix=False, grant="ReadPropertyFiles")
    return _unique(c.found)


# A Clarify check of a model (model bias, explainability) serves it on an ephemeral "shadow
# endpoint" for the job's predictions, made, called and deleted with the job's role ("Configure a
# SageMaker Clarify Processing Job"; the analysis config's predictor, endpoint_name_prefix default
# "sm-clarify", which sagespec keeps).
SHADOW_ENDPOINT_ACTIONS = (
    "sagemaker:CreateEndpointConfig",
    "sagemaker:CreateEndpoint",
    "sagemaker:DescribeEndpoint",
    "sagemaker:InvokeEndpoint",
    "sagemaker:DeleteEndpoint",
    "sagemaker:DeleteEndpointConfig",
)
SHADOW_ENDPOINT_PREFIX = "sm-clarify"


def _shadow_endpoint(c: _Collector, step: str, job_role: str, account: str) -> None:
    names = {"EndpointName": f"{SHADOW_ENDPOINT_PREFIX}-*", "EndpointConfigName": f"{SHADOW_ENDPOINT_PREFIX}-*"}
    for action in SHADOW_ENDPOINT_ACTIONS:
        c.add(step, "job role", job_role, action, c.arn(action, account, **names), "ShadowEndpoints")
    # CreateEndpoint acts on the endpoint config it names too (the Service Authorization Reference)
    config = c.arn("sagemaker:CreateEndpoint", account, "endpoint-config", **names)
    c.add(step, "job role", job_role, "sagemaker:CreateEndpoint", config, "ShadowEndpoints")


# What a job in your VPC does with its role ("Give SageMaker access to resources in your Amazon
# VPC"): create and manage the network interfaces it attaches. EC2 takes Resource "*" for these.
VPC_ACTIONS = (
    "ec2:CreateNetworkInterface",
    "ec2:CreateNetworkInterfacePermission",
    "ec2:DeleteNetworkInterface",
    "ec2:DeleteNetworkInterfacePermission",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeVpcs",
    "ec2:DescribeDhcpOptions",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
)


def _job_settings(c: _Collector, step: str, kind: str, args: dict[str, Any], pipeline_role: str, job_role: str) -> None:
    """Requests a job's settings add: the volume key (the caller creates a grant for SageMaker,
    CreateTrainingJob's VolumeKmsKeyId), the VPC's network interfaces, the checkpoint prefix."""
    resources = (
        args.get("ResourceConfig")
        or args.get("HyperParameterTuningResourceConfig")
        or (args.get("ProcessingResources") or {}).get("ClusterConfig")
        or {}
    )
    volume_key = resources.get("VolumeKmsKeyId")
    if isinstance(volume_key, str) and volume_key.startswith("arn:"):
        c.add(
            step, "pipeline role", pipeline_role, "kms:CreateGrant", volume_key, "GrantTheVolumeKey", {"kms:GrantIsForAWSResource": "true"}
        )
    vpc = args.get("VpcConfig") or (args.get("NetworkConfig") or {}).get("VpcConfig")
    if vpc:
        for action in VPC_ACTIONS:
            c.add(step, "job role", job_role, action, "*", "AttachToTheVpc")
    checkpoint = (args.get("CheckpointConfig") or {}).get("S3Uri")
    if checkpoint:
        uri = c.resolve(checkpoint)
        c.write(step, "job role", job_role, uri)
        c.read(step, "job role", job_role, uri, prefix=True, grant="ReadCheckpoints")


def _transform(c: _Collector, step: str, args: dict[str, Any], pipeline_role: str, account: str) -> None:
    """A batch transform job runs as its model's role (CreateModel: ExecutionRoleArn; CreateTransformJob
    takes none): that role pulls the model's images, reads the input, writes the output and logs."""
    job = c.arn("sagemaker:CreateTransformJob", account)
    for action in ("sagemaker:CreateTransformJob", "sagemaker:DescribeTransformJob"):
        c.add(step, "pipeline role", pipeline_role, action, job, "StartAndWatchJobs")
    model = _model_step(args.get("ModelName"), c)
    role = (model.get("Arguments") or {}).get("ExecutionRoleArn") or pipeline_role
    c.add(step, "SageMaker", c.sagemaker, "sts:AssumeRole", role, "TrustSageMaker")
    for container in _containers(model.get("Arguments") or {}):
        c.image(step, "job role", role, container.get("Image", ""))
    source = (args.get("TransformInput", {}).get("DataSource") or {}).get("S3DataSource") or {}
    c.read(step, "job role", role, c.resolve(source.get("S3Uri", "")), source.get("S3DataType") != "ManifestFile")
    output = args.get("TransformOutput", {})
    c.write(step, "job role", role, c.resolve(output.get("S3OutputPath", "")), output.get("KmsKeyId"))
    c.logs(step, "job role", role, "Transform")


def _model_step(model_name: object, c: _Collector) -> dict[str, Any]:
    """The Model step whose ModelName a transform reads ({"Get": "Steps.X.ModelName"}), or {}."""
    if isinstance(model_name, dict) and str(model_name.get("Get", "")).endswith(".ModelName"):
        return c.by_name.get(model_name["Get"][len("Steps.") : -len(".ModelName")], {})
    return {}


def _containers(model_args: dict[str, Any]) -> list[dict[str, Any]]:
    return [model_args["PrimaryContainer"]] if "PrimaryContainer" in model_args else list(model_args.get("Containers") or [])


def _property_files(step: dict[str, Any], c: _Collector) -> list[str]:
    """The S3 objects JsonGet reads for a condition: each PropertyFile's output and file path."""
    found: list[str] = []
    text = json.dumps(step.get("Arguments", {}).get("Conditions", []))
    for name, file in re.findall(r'"Steps\.([^."]+)\.PropertyFiles\.([^"]+)"', text):
        producer = c.by_name.get(name, {})
        for prop in producer.get("PropertyFiles", []):
            if prop.get("PropertyFileName") != file:
                continue
            outputs = producer.get("Arguments", {}).get("ProcessingOutputConfig", {}).get("Outputs", [])
            for output in outputs:
                if output.get("OutputName") == prop.get("OutputName"):
                    found.append(c.resolve(output["S3Output"]["S3Uri"]).rstrip("/") + "/" + prop.get("FilePath", "*"))
    return found


def _unique(found: list[Need]) -> list[Need]:
    seen: set[Need] = set()
    out: list[Need] = []
    for need in found:
        if need not in seen:
            seen.add(need)
            out.append(need)
    return out


def endpoint_needs(endpoint: str, containers: list[dict[str, Any]], execution_role: str, places: Places) -> list[Need]:
    """What starting an endpoint's variant asks of IAM: SageMaker assuming the model's role, and
    that role pulling each container's image, reading and decrypting its model artifact and
    inference code, writing logs (CreateModel: ExecutionRoleArn). The same requests `needs` lists
    for a registered version."""
    c = _Collector(endpoint, places, {})
    c.add(endpoint, "SageMaker", c.sagemaker, "sts:AssumeRole", execution_role, "TrustSageMaker")
    for container in containers:
        c.image(endpoint, "endpoint role", execution_role, container.get("Image", ""))
        c.read(endpoint, "endpoint role", execution_role, container.get("ModelDataUrl", ""), prefix=False, grant="ReadModelArtifacts")
        code = inference_code(container)
        if code:
            c.read(endpoint, "endpoint role", execution_role, code, prefix=False, grant="ReadModelArtifacts")
    account = execution_role.split(":")[4]
    group = f"/aws/sagemaker/Endpoints/{endpoint}"
    c.add(
        endpoint,
        "endpoint role",
        execution_role,
        "logs:CreateLogGroup",
        c.arn("logs:CreateLogGroup", account, LogGroupName=group),
        "WriteLogs",
    )
    streams = c.arn("logs:PutLogEvents", account, LogGroupName=group)
    for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
        c.add(endpoint, "endpoint role", execution_role, action, streams, "WriteLogs")
    return _unique(c.found)
