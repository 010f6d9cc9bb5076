"""One handler per definition step type: Processing, RegisterModel, Model, Fail here; Lambda,
Training, Tuning and Transform in sagespec.backends.local.executor.lambda_function, .training,
.tuning and .transform.

A handler receives the step's JSON and a StepRun (resolver, work folder, object store, log) and
returns the step's properties, shaped like SageMaker's Describe* responses so `Get` paths work.
Scripts run with this environment's interpreter; container paths are mapped to work folders and
announced through the variables the scripts read (SM_CHANNEL_*, SM_MODEL_DIR, SM_PROCESSING_*).
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from packaging.requirements import InvalidRequirement, Requirement

from sagespec.aws import arns
from sagespec.aws.partitions import Partition
from sagespec.backends.local.aws_endpoint.server import LocalAwsEndpoint, without_aws_settings
from sagespec.backends.local.executor import container_config, docker
from sagespec.backends.local.executor.images import Runtime, is_framework_bootstrap, runtime_for, unrunnable
from sagespec.backends.local.executor.isolation import Mode, Mounts
from sagespec.backends.local.executor.metrics import LiveMetrics
from sagespec.backends.local.executor.retries import CAPACITY_ERROR, JOB_INTERNAL_ERROR, ExecutionFailed, StepFailed
from sagespec.backends.local.models import write_model
from sagespec.backends.local.registry import LocalRegistry
from sagespec.backends.records import LineageEntry
from sagespec.definition import referenced_steps
from sagespec.definition.expressions import Context
from sagespec.iam import Principal

if TYPE_CHECKING:
    import sqlite3

    from sagespec.backends.local.objects import ObjectStore

    # A step type's handler: (the step's JSON, its run) -> the step's properties.
    Handler: TypeAlias = Callable[[dict[str, Any], "StepRun"], dict[str, Any]]

HANDLERS: dict[str, Handler] = {}


def handler(step_type: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[step_type] = fn
        return fn

    return register


@dataclass
class StepRun:
    execution_id: str
    execution_arn: str
    region: str
    aws: Partition
    role_arn: str
    ctx: Context
    work: Path
    store: ObjectStore
    conn: sqlite3.Connection  # of this thread
    log_path: Path
    children: set[subprocess.Popen[bytes]] | None = None  # the execution's running script processes (stopped when it is interrupted)
    progress: Callable[[str], None] | None = None  # shows a running step's detail (its latest metrics)
    name: str | None = None  # the job's name when it is not the step's (a tuning job's training jobs)
    interrupted: Callable[[], bool] | None = None  # true once the execution is being stopped
    prefix: str | None = None  # the step's job name prefix, under PipelineDefinitionConfig(use_custom_job_prefix)
    isolation: Mode | None = None  # how a job sees its container paths (chosen once per run); None: the variables only
    job_role: str | None = None  # the role the step's job runs as (its RoleArn); None: the pipeline's role
    aws_endpoint: LocalAwsEndpoint | None = None  # where the job's own AWS calls go (the run's local AWS endpoint)

    def arn(self, account: str, resource: str) -> str:
        """A SageMaker ARN of this run's partition and region."""
        return self.aws.sagemaker(self.region, account, resource)

    @property
    def job_name(self) -> str:
        """SageMaker's generated `pipelines-<execution>-<step>` name, or, with a custom prefix,
        the prefix and the execution id (SageMaker appends its own suffix; this one is unique per
        execution too, so IAM scoped to `<prefix>*` decides the same)."""
        if self.name:
            return self.name
        return (f"{self.prefix}-{self.execution_id}" if self.prefix else f"pipelines-{self.execution_id}-{self.work.name}")[:63]

    def aws_environment(self, role: str, session: str) -> dict[str, str]:
        try:  # SageMaker validates the role when it creates the job
            return self.aws_endpoint.environment(role, session, self.work, self.log_path) if self.aws_endpoint else {}
        except ValueError as exc:
            raise StepFailed(f"ValidationException: the job's role {exc}") from None

    def log(self, text: str) -> None:
        with open(self.log_path, "a", encoding="utf-8") as handle:
            handle.write(text if text.endswith("\n") else text + "\n")

    def run_script(
        self,
        argv: list[str],
        env: dict[str, str],
        cwd: Path,
        label: str | None = None,
        max_runtime: int | None = None,
        metrics: Sequence[dict[str, Any]] = (),
        mounts: Mounts | None = None,
        as_role: str | None = None,
        session: str = "SageMaker",
    ) -> None:
        """Run one program of the job, its output into the step's log. `max_runtime` is the
        job's StoppingCondition (stopped past it, as SageMaker stops the job); `metrics`, its
        metric definitions, read from the log while it runs and shown through `progress`;
        `mounts`, the job's folders at their container paths, laid out by the run's isolation mode.
        Its AWS calls go to the run's AWS endpoint as `as_role` (default: its role) in `session`, never this machine's."""
        shown = argv
        aws = self.aws_environment(as_role or self.job_role or self.role_arn, session)
        path = {"PYTHONPATH": os.pathsep.join(filter(None, [aws.get("PYTHONPATH"), env.get("PYTHONPATH")]))}  # its guard first
        env = {**env, **aws, **(path if path["PYTHONPATH"] else {})}
        if mounts is not None and self.isolation is not None:
            try:
                launch = self.isolation.launch(argv, env, cwd, mounts, self.work)
            except ValueError as exc:
                raise StepFailed(f"ValidationException: {exc}") from None
            argv, env, cwd, shown = launch.argv, launch.env, launch.cwd, launch.shown
        self.log(f"$ {' '.join(shown)}")
        live = LiveMetrics(metrics, self.log_path) if metrics and self.progress else None
        deadline = time.monotonic() + max_runtime if max_runtime else None
        with open(self.log_path, "a", encoding="utf-8") as log:
            # Its own process group: a Ctrl-C at the terminal reaches the runner, which stops the
            # scripts itself and records that, instead of each script dying on its own.
            try:
                child = subprocess.Popen(
                    argv,
                    cwd=cwd,
                    env={**without_aws_settings(dict(os.environ)), **env},
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            except OSError as exc:
                if exc.errno in (errno.EAGAIN, errno.ENOMEM):
                    raise StepFailed(f"CapacityError: the job could not start: {exc.strerror}", CAPACITY_ERROR) from None
                raise
            if self.children is not None:
                self.children.add(child)
            if self.interrupted is not None and self.interrupted():
                # the execution was stopped while this job was starting: it missed the stop's signal
                _stop(child)
            try:
                while True:
                    try:
                        child.wait(timeout=POLL_SECONDS)
                        break
                    except subprocess.TimeoutExpired:
                        pass
                    if live and live.update() and self.progress:
                        self.progress(live.summary())
                    if deadline is not None and time.monotonic() > deadline:
                        _stop(child)
                        raise StepFailed(
                            f"MaxRuntimeExceeded: the job ran longer than its MaxRuntimeInSeconds ({max_runtime} s) and was stopped"
                        )
            finally:
                if self.children is not None:
                    self.children.discard(child)
        if live and live.update() and self.progress:
            self.progress(live.summary())
        if child.returncode != 0:
            tail = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-8:]
            name = label or Path(shown[1]).name
            stopped_here = self.interrupted is not None and self.interrupted()
            if child.returncode < 0 and not stopped_here:  # a signal sagespec did not send: the machine took the job away
                signame = (
                    signal.Signals(-child.returncode).name if -child.returncode in signal.valid_signals() else f"signal {-child.returncode}"
                )
                raise StepFailed(f"InternalServerError: {name} was killed by {signame} from outside the job", JOB_INTERNAL_ERROR)
            denied = self.aws_endpoint.denials(aws["AWS_ACCESS_KEY_ID"]) if self.aws_endpoint and aws else []
            why = f" (its AWS calls were denied: {denied[0]})" if denied else ""
            raise StepFailed(f"AlgorithmError: {name} exited with status {child.returncode}{why}: " + " | ".join(tail))

    def upload_folder(self, folder: Path, prefix: str) -> int:
        files = sorted(p for p in folder.rglob("*") if p.is_file())
        for path in files:
            self.store.put(f"{prefix.rstrip('/')}/{path.relative_to(folder).as_posix()}", path.read_bytes())
        return len(files)


def hyperparameter_value(value: object) -> Any:
    """A hyperparameter as the training toolkit reads it: JSON when it parses, else the string."""
    try:
        return json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return value


def env_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "_", name).upper()


POLL_SECONDS = 0.5
STOP_GRACE_SECONDS = 5  # SageMaker sends SIGTERM, then SIGKILL after a grace period


def _stop(child: subprocess.Popen[bytes]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(child.pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        try:
            child.wait(timeout=STOP_GRACE_SECONDS)
            return
        except subprocess.TimeoutExpired:
            continue


def runnable(step: dict[str, Any]) -> Runtime:
    """The step's runtime, or StepFailed naming what is missing (checked before the run too)."""
    runtime = runtime_for(step)
    assert runtime is not None, f"a {step['Type']} step runs no job"  # only the handlers of job steps ask
    why = unrunnable(runtime)
    if why:
        raise StepFailed(why)
    return runtime


def max_runtime_of(args: dict[str, Any]) -> int | None:
    seconds: int | None = (args.get("StoppingCondition") or {}).get("MaxRuntimeInSeconds")
    return seconds


@handler("Processing")
def processing(step: dict[str, Any], run: StepRun) -> dict[str, Any]:
    runtime = runnable(step)
    args = run.ctx.resolve(step["Arguments"])
    mapping: list[tuple[str, Path]] = []
    env: dict[str, str] = dict(args.get("Environment") or {})
    inputs: dict[str, Path] = {}
    for item in args.get("ProcessingInputs", []):
        local = run.work / "input" / item["InputName"]
        local.mkdir(parents=True, exist_ok=True)
        run.store.download(item["S3Input"]["S3Uri"], local)
        mapping.append((item["S3Input"]["LocalPath"], local))
        inputs[item["InputName"]] = local
        env[f"SM_PROCESSING_INPUT_{env_name(item['InputName'])}"] = str(local)
    outputs: dict[str, Any] = {}
    for item in args.get("ProcessingOutputConfig", {}).get("Outputs", []):
        local = run.work / "output" / item["OutputName"]
        local.mkdir(parents=True, exist_ok=True)
        mapping.append((item["S3Output"]["LocalPath"], local))
        env[f"SM_PROCESSING_OUTPUT_{env_name(item['OutputName'])}"] = str(local)
        outputs[item["OutputName"]] = item
    app = args["AppSpecification"]
    arguments = [str(a) for a in app.get("ContainerArguments", [])]
    if runtime.kind == "docker":
        argv = docker.processing_argv(runtime.image, run.job_name, run.work, args, mapping)
        run.run_script(argv, {}, run.work, label=f"container {runtime.image}", max_runtime=max_runtime_of(args))
    else:
        entry = [str(e) for e in app.get("ContainerEntrypoint") or []]
        flags, cwd = [], run.work
        if runtime.kind == "spark":  # `smspark-submit <app>`: the app under pyspark, on a local master
            env.setdefault("PYSPARK_SUBMIT_ARGS", "--master local[*] pyspark-shell")
            script = entry[-1]
        elif is_framework_bootstrap(entry):  # FrameworkProcessor: runproc.sh runs the script from the code folder
            script, cwd = _framework_bootstrap(inputs), inputs["code"]
        else:  # ScriptProcessor: its command, then the script
            flags, script = entry[1:-1], entry[-1]
        argv = [sys.executable, *flags, _local_path(script, mapping), *arguments]
        mounts = [(container_config.PROCESSING_CONFIG, container_config.processing(run.work, args, run.job_name)), *mapping]
        run.run_script(argv, env, cwd, max_runtime=max_runtime_of(args), mounts=mounts)
    for name, item in outputs.items():
        run.upload_folder(run.work / "output" / name, item["S3Output"]["S3Uri"])
    return {
        "ProcessingJobName": run.job_name,
        "ProcessingJobStatus": "Completed",
        "ProcessingOutputConfig": {"Outputs": outputs},
        "ProcessingInputs": args.get("ProcessingInputs", []),
    }


def _local_path(path: str, mapping: list[tuple[str, Path]]) -> str:
    for container, local in sorted(mapping, key=lambda m: -len(m[0])):
        if path.startswith(container.rstrip("/") + "/"):
            return str(local / path[len(container.rstrip("/")) + 1 :])
    return path


def _framework_bootstrap(inputs: dict[str, Path]) -> str:
    """What FrameworkProcessor's runproc.sh does before the script: unpack sourcedir.tar.gz in
    the code input and install requirements.txt (here: check it is met). Returns the script's
    container path, read from runproc.sh's last line (`{command} {script} "$@"`)."""

    code = inputs.get("code")
    runproc = next((p / "runproc.sh" for p in inputs.values() if (p / "runproc.sh").is_file()), None)
    if code is None or runproc is None or not (code / "sourcedir.tar.gz").is_file():
        raise StepFailed("a framework processor job needs its code input (sourcedir.tar.gz) and runproc.sh")
    with tarfile.open(code / "sourcedir.tar.gz", "r:gz") as tar:
        tar.extractall(code, filter="data")
    unmet = unmet_requirements(code / "requirements.txt")
    if unmet:
        raise StepFailed(
            f"requirements.txt asks for {', '.join(unmet)}, not installed here (on SageMaker runproc.sh pip-installs it; "
            "sagespec does not install into this environment: pip install it yourself)"
        )
    lines = [line for line in runproc.read_text(encoding="utf-8").splitlines() if line.strip()]
    words = shlex.split(lines[-1])
    script = words[-2] if words[-1] == "$@" else words[-1]
    return f"/opt/ml/processing/input/code/{script}"


def unmet_requirements(path: Path) -> list[str]:
    if not path.is_file():
        return []

    unmet = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            unmet.append(line)
            continue
        if requirement.marker and not requirement.marker.evaluate():
            continue
        try:
            installed = version(requirement.name)
        except PackageNotFoundError:
            unmet.append(line)
            continue
        if requirement.specifier and not requirement.specifier.contains(installed, prereleases=True):
            unmet.append(f"{line} ({installed} installed)")
    return unmet


def _v3_code_channel(props: dict[str, Any]) -> str | None:
    """SDK v3's ModelTrainer sends the code as the job's `code` channel, a folder (executor.training)."""
    for channel in props.get("InputDataConfig") or []:
        if channel.get("ChannelName") == "code":
            uri: str | None = (channel.get("DataSource") or {}).get("S3DataSource", {}).get("S3Uri")
            return uri
    return None


def _folder_sha256(run: StepRun, prefix: str) -> str | None:
    """A digest of a folder's objects (their keys and contents), or None when it holds none."""

    objects = run.store.describe(prefix.rstrip("/") + "/")  # one query: each object's uri and sha256, by uri
    if not objects:
        return None
    digest = hashlib.sha256()
    for row in objects:
        digest.update(f"{row['uri'][len(prefix) :]}\0{row['sha256']}\0".encode())
    return digest.hexdigest()


@handler("RegisterModel")
def register_model(step: dict[str, Any], run: StepRun) -> dict[str, Any]:
    """Into the local registry as the pipeline's role, through the group's resource policy."""

    args = run.ctx.resolve(step["Arguments"])
    role = run.role_arn
    registry = LocalRegistry(run.conn, Principal(arns.account_of(role), role), run.region, run.aws)
    lineage: list[LineageEntry] = []
    for name, value in run.ctx.parameters.items():
        if isinstance(value, str) and value.startswith("s3://") and run.store.exists(value):
            lineage.append(LineageEntry("dataset", value, run.store.sha256(value), {"parameter": name}))
    trained = [(name, "ModelArtifacts") for name in referenced_steps(step["Arguments"], "ModelArtifacts")]
    trained += [(name, "TrainingJobSummaries") for name in referenced_steps(step["Arguments"], "TrainingJobSummaries")]
    for training_step, read in sorted(trained):
        props = run.ctx.steps.get(training_step, {})
        if read == "TrainingJobSummaries":  # a tuning step's best training job
            hyperparameters = props.get("TrainingJobDefinition", {}).get("StaticHyperParameters", {})
            job, detail = props.get("BestTrainingJob", {}).get("TrainingJobName"), {"tuning_job": props.get("HyperParameterTuningJobName")}
        else:
            hyperparameters, job, detail = props.get("HyperParameters", {}), props.get("TrainingJobName"), {}
        code = hyperparameter_value(hyperparameters.get("sagemaker_submit_directory", "null"))
        if isinstance(code, str) and run.store.exists(code):
            lineage.append(LineageEntry("code", code, run.store.sha256(code)))
        elif folder := _v3_code_channel(props):
            lineage.append(LineageEntry("code", folder, _folder_sha256(run, folder)))
        lineage.append(LineageEntry("execution", run.execution_arn))
        lineage.append(LineageEntry("training_job", job, None, {"step": training_step, **detail}))
    for container in args["InferenceSpecification"].get("Containers", []):
        uri = container.get("ModelDataUrl")
        lineage.append(LineageEntry("model", uri, run.store.sha256(uri) if uri and run.store.exists(uri) else None))
    statistics = ((args.get("ModelMetrics") or {}).get("ModelQuality") or {}).get("Statistics") or {}
    if statistics.get("S3Uri") and run.store.exists(statistics["S3Uri"]):
        report = json.loads(run.store.get(statistics["S3Uri"]))
        metrics = {
            k: v["value"]
            for section in report.values()
            if isinstance(section, dict)
            for k, v in section.items()
            if isinstance(v, dict) and "value" in v
        }
        lineage.append(LineageEntry("metrics", statistics["S3Uri"], run.store.sha256(statistics["S3Uri"]), metrics))
    package = registry.register(
        args["ModelPackageGroupName"],
        args["InferenceSpecification"],
        args.get("ModelApprovalStatus", "PendingManualApproval"),
        args.get("ModelMetrics"),
        args.get("CustomerMetadataProperties"),
        args.get("ModelPackageDescription"),
        lineage,
        args.get("DriftCheckBaselines"),
    )
    return {
        "ModelPackageArn": package.arn,
        "ModelPackageVersion": package.version,
        "ModelApprovalStatus": package.status,
        "ModelPackageGroupName": package.group_name,
    }


@handler("Model")
def create_model(step: dict[str, Any], run: StepRun) -> dict[str, Any]:
    args = run.ctx.resolve(step["Arguments"])
    account = run.role_arn.split(":")[4]
    name = run.job_name
    arn = write_model(
        run.conn,
        account,
        name,
        run.arn(account, f"model/{name}"),
        args.get("PrimaryContainer") or args.get("Containers") or {},
        args.get("ExecutionRoleArn"),
        execution=run.execution_arn,
        replace=True,
    )
    served = {"PrimaryContainer": args["PrimaryContainer"]} if "PrimaryContainer" in args else {"Containers": args.get("Containers", [])}
    return {"ModelName": name, "ModelArn": arn, **served}


@handler("Fail")
def fail(step: dict[str, Any], run: StepRun) -> dict[str, Any]:
    raise ExecutionFailed(str(run.ctx.resolve(step.get("Arguments", {}).get("ErrorMessage", "Fail step reached"))))
