"""What runs a job's image on this machine: its local equivalent, or docker.

SageMaker's own images are recognised by repository, and only in the accounts that publish them
(sagespec.aws.images): an image called `pytorch-training` in your own account is your image, not AWS's. A framework image runs the
job's Python program with this interpreter and the framework's libraries, as the framework's
training or processing toolkit would; the built-in XGBoost algorithm runs
sagespec.backends.local.runtime.xgboost_builtin. Your own image with a Python program (an entry_point, or a
`python` command) runs that program here too. Anything else (your image with its own `train`
entrypoint, a non-Python command) has no local equivalent and runs through `docker` with
SageMaker's container contract (sagespec.backends.local.executor.docker), when a Docker engine answers.

Every job step is checked before an execution starts (`problems`), so a missing extra or a
missing engine is one located error naming the step, not a failure halfway through the run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sagespec.aws import images
from sagespec.backends.local.executor import docker

# SageMaker repository -> (what it is called, the modules its local equivalent imports, the extra
# that installs them; None: a core dependency of sagespec).
REPOSITORIES: dict[str, tuple[str, tuple[str, ...], str | None]] = {
    "sagemaker-scikit-learn": ("scikit-learn", ("sklearn",), None),
    "sagemaker-xgboost": ("XGBoost", ("xgboost",), "local"),
    "tensorflow-training": ("TensorFlow", ("tensorflow",), "local"),
    "pytorch-training": ("PyTorch", ("torch",), "local-torch"),
    "huggingface-pytorch-training": ("Hugging Face", ("torch", "transformers"), "local-huggingface"),
    "sagemaker-spark-processing": ("Spark", ("pyspark",), "local-spark"),
}


@dataclass(frozen=True)
class Runtime:
    kind: str  # python | xgboost-builtin | spark | docker
    image: str
    framework: str = ""  # e.g. PyTorch; "" for your own image
    modules: tuple[str, ...] = ()
    extra: str | None = None

    def missing_message(self) -> str | None:
        missing, install = images.missing_modules(self.modules, self.extra)
        if not missing:
            return None
        return f"its local equivalent of SageMaker's {self.framework} image needs {', '.join(missing)}, not installed here: {install}"


def sagemaker_repository(image: str) -> str | None:
    """The repository of a SageMaker-published image this module knows, else None."""
    return images.sagemaker_repository(image, REPOSITORIES)


def runtime_for(step: dict[str, Any]) -> Runtime | None:
    """How a Training, Tuning or Processing step's jobs run here (None for steps that run no job). The
    step's Arguments must name their image as a string (they always do: images are not parameters)."""
    args = step.get("Arguments") or {}
    if step.get("Type") in ("Training", "Tuning"):  # a tuning job's training jobs: its TrainingJobDefinition
        job = args.get("TrainingJobDefinition") or {} if step["Type"] == "Tuning" else args
        image = (job.get("AlgorithmSpecification") or {}).get("TrainingImage", "")
        python_program = "sagemaker_program" in (job.get("HyperParameters") or job.get("StaticHyperParameters") or {})
        # SDK v3's ModelTrainer: the code and its driver travel as channels (executor.training.v3_program)
        python_program = python_program or any(c.get("ChannelName") == "sm_drivers" for c in job.get("InputDataConfig") or [])
    elif step.get("Type") == "Processing":
        app = args.get("AppSpecification") or {}
        image = app.get("ImageUri", "")
        entry = list(app.get("ContainerEntrypoint") or [])
        python_program = bool(entry) and (Path(str(entry[0])).name.startswith("python") or is_framework_bootstrap(entry))
    else:
        return None
    repository = sagemaker_repository(image) if isinstance(image, str) else None
    if repository:
        framework, modules, extra = REPOSITORIES[repository]
        if repository == "sagemaker-spark-processing":
            return Runtime("spark", image, framework, modules, extra)
        if repository == "sagemaker-xgboost" and not python_program:
            return Runtime("xgboost-builtin", image, framework, modules, extra)
        if python_program:
            return Runtime("python", image, framework, modules, extra)
    if python_program:
        return Runtime("python", str(image))
    return Runtime("docker", str(image))


def is_framework_bootstrap(entry: Sequence[object]) -> bool:
    """FrameworkProcessor's bootstrap: `/bin/bash .../runproc.sh` unpacks the code and runs python."""
    return len(entry) >= 2 and Path(str(entry[0])).name in ("bash", "sh") and str(entry[1]).endswith("/runproc.sh")


def unrunnable(runtime: Runtime) -> str | None:
    """Why a job's runtime cannot run on this machine, or None when it can."""

    if runtime.kind == "docker":
        why = docker.unavailable(runtime.image)
        return f"image {runtime.image} has no local equivalent and {why}" if why else None
    return runtime.missing_message()


def problems(definition_steps: dict[str, dict[str, Any]]) -> list[tuple[str, str]]:
    """(step, why it cannot run here) for every job step of a definition, before a run starts."""
    found = []
    for name, step in definition_steps.items():
        runtime = runtime_for(step)
        why = unrunnable(runtime) if runtime else None
        if not why and step.get("Type") == "Tuning":  # the search itself: optuna's samplers
            missing, install = images.missing_modules(("optuna",), "local")
            why = f"its local tuning job needs {', '.join(missing)}, not installed here: {install}" if missing else None
        if step.get("Type") == "QualityCheck":  # Model Monitor's analyzer, run here with DataSketches
            missing, install = images.missing_modules(("datasketches",), "local")
            why = f"its local quality check needs {', '.join(missing)}, not installed here: {install}" if missing else None
        if step.get("Type") == "ClarifyCheck":
            why = (
                "SageMaker Clarify's analyzer (bias metrics, SHAP values, its report) has no local equivalent here: "
                "upsert the pipeline to SageMaker to run it"
            )
        if step.get("Type") == "EMR":
            cluster = (step.get("Arguments") or {}).get("ClusterId", "its cluster")
            why = f"an EMR step runs on an Amazon EMR cluster ({cluster if isinstance(cluster, str) else 'a referenced cluster'}); there is no EMR here"
            why += ": upsert the pipeline to SageMaker, or run the other steps with `start --from-step`"
        if why:
            found.append((name, why))
    return found
