"""Run a job's own image through `docker`, with SageMaker's container contract.

Training ("How Amazon SageMaker Runs Your Training Image", "How Amazon SageMaker Provides
Training Information"): the container starts as `docker run <image> train`; hyperparameters
(every value a string), the input data config and the resource config are JSON files under
/opt/ml/input/config; each channel's data is under /opt/ml/input/data/<channel>; the program
writes its model to /opt/ml/model (packed into model.tar.gz afterwards) and may explain a failure
in /opt/ml/output/failure. Processing ("How Amazon SageMaker Processing Runs Your Processing
Container Image"): the container runs AppSpecification's ContainerEntrypoint and
ContainerArguments, with every input and output at its LocalPath and the job's request in
/opt/ml/config/processingjobconfig.json. Network isolation is `--network none`.

Only the docker client is called; nothing here pulls images (they live in ECR, behind your
credentials), so a missing image is reported with the commands that fetch it.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path
from typing import Any

from sagespec.backends.local.executor import container_config


@functools.cache
def engine_unavailable() -> str | None:
    """Why no Docker engine can run containers here, or None when one answers."""
    if shutil.which("docker") is None:
        return "docker is not installed (install Docker to run it here)"
    try:
        done = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"docker does not answer ({exc})"
    if done.returncode != 0:
        first = (done.stderr or done.stdout).strip().splitlines()
        return "no Docker engine answers (`docker info`: " + (first[0] if first else f"exit status {done.returncode}") + ")"
    return None


def unavailable(image: str) -> str | None:
    """Why `image` cannot run through docker here, or None when it can."""
    why = engine_unavailable()
    if why:
        return why
    done = subprocess.run(["docker", "image", "inspect", image], capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        registry = image.split("/", 1)[0]
        region = registry.split(".")[3] if registry.count(".") >= 3 else "<region>"
        return (
            "the image is not on this machine: pull it first "
            f"(aws ecr get-login-password --region {region} | docker login --username AWS --password-stdin {registry}; docker pull {image})"
        )
    return None


def _run(
    image: str, job_name: str, mounts: list[tuple[Path, str]], env: dict[str, Any], isolated: bool, entrypoint: str | None = None
) -> list[str]:
    argv = ["docker", "run", "--rm", "--name", job_name]
    if isolated:
        argv += ["--network", "none"]
    for key, value in sorted(env.items()):
        argv += ["--env", f"{key}={value}"]
    for local, container in mounts:
        argv += ["--volume", f"{local.resolve()}:{container}"]
    if entrypoint:
        argv += ["--entrypoint", entrypoint]
    return argv + [image]


def training_argv(
    image: str, job_name: str, work: Path, args: dict[str, Any], channels: dict[str, Path], model_dir: Path, output: Path
) -> list[str]:
    """The `docker run` of a training job; writes /opt/ml/input/config for it under `work`."""
    config = container_config.training(work, args)
    mounts = [(config, container_config.TRAINING_CONFIG), (model_dir, "/opt/ml/model"), (output, "/opt/ml/output")]
    mounts += [(local, f"/opt/ml/input/data/{name}") for name, local in channels.items()]
    env = {"TRAINING_JOB_NAME": job_name, **(args.get("Environment") or {})}
    return _run(image, job_name, mounts, env, bool(args.get("EnableNetworkIsolation"))) + ["train"]


def processing_argv(image: str, job_name: str, work: Path, args: dict[str, Any], mapping: list[tuple[str, Path]]) -> list[str]:
    """The `docker run` of a processing job; writes /opt/ml/config for it under `work`."""
    config = container_config.processing(work, args, job_name)
    app = args.get("AppSpecification") or {}
    entry = [str(e) for e in app.get("ContainerEntrypoint") or []]
    mounts = [(config, container_config.PROCESSING_CONFIG)] + [(local, container) for container, local in mapping]
    isolated = bool((args.get("NetworkConfig") or {}).get("EnableNetworkIsolation"))
    argv = _run(image, job_name, mounts, dict(args.get("Environment") or {}), isolated, entry[0] if entry else None)
    return argv + entry[1:] + [str(a) for a in app.get("ContainerArguments") or []]


def failure_reason(output: Path) -> str | None:
    """What the program wrote to /opt/ml/output/failure (SageMaker's FailureReason)."""
    failure = output / "failure"
    return failure.read_text(encoding="utf-8", errors="replace").strip()[:1024] or None if failure.is_file() else None
