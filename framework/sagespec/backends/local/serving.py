"""Which serving container a model's image is, and whether a local endpoint can stand in for it.

A local endpoint serves a model the way its SageMaker inference image would, by the image's
repository (only in the accounts that publish SageMaker's images, sagespec.aws.images):

    tensorflow-inference     TensorFlow Serving: the SavedModel's serving signature
                             (sagespec.backends.local.runtime.tf_serving)
    sagemaker-scikit-learn   the inference toolkit contract: model_fn/input_fn/predict_fn/output_fn
    sagemaker-xgboost        from SAGEMAKER_PROGRAM, with each framework's default handlers
    pytorch-inference        (sagespec.backends.local.runtime.inference_toolkit); sagemaker-xgboost
                             with no program is the built-in algorithm's own server (XGBoostAlgorithm)

This module imports no framework, so hosting can ask before it starts anything.
"""

from __future__ import annotations

import io
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sagespec.aws import images

# repository -> (the server, what it is called, the modules it imports, the extra that installs them)
SERVERS: dict[str, tuple[str, str, tuple[str, ...], str | None]] = {
    "tensorflow-inference": ("tf_serving", "TensorFlow Serving", ("tensorflow",), "local"),
    "sagemaker-scikit-learn": ("sklearn", "scikit-learn", ("sklearn",), None),
    "sagemaker-xgboost": ("xgboost", "XGBoost", ("xgboost",), "local"),
    "pytorch-inference": ("pytorch", "PyTorch", ("torch",), "local-torch"),
}


@dataclass(frozen=True)
class Server:
    kind: str  # a key of sagespec.backends.local.runtime.inference_toolkit.FRAMEWORKS, or tf_serving
    framework: str
    modules: tuple[str, ...]
    extra: str | None


def server_for(container: dict[str, Any]) -> Server:
    """The local server of a model container, or a ValueError saying why none stands in for it."""
    image = container.get("Image") or ""
    repository = images.sagemaker_repository(image, SERVERS)
    if repository is None:
        known = ", ".join(sorted(SERVERS))
        raise ValueError(f"{image or 'no image'} is not one of SageMaker's inference images that local endpoints serve ({known})")
    kind, framework, modules, extra = SERVERS[repository]
    environment = container.get("Environment") or {}
    if kind == "xgboost" and not environment.get("SAGEMAKER_PROGRAM"):
        kind = "xgboost-algorithm"  # no program: the container serves in algorithm mode
    missing, install = images.missing_modules(modules, extra)
    if missing:
        raise ValueError(f"serving {framework} models here needs {', '.join(missing)}, not installed: {install}")
    return Server(kind, framework, modules, extra)


class BadRequest(Exception):
    """A request the container refuses: its HTTP status and a message for the caller."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def unpack(archive: bytes, folder: Path) -> Path:
    """A model.tar.gz (or sourcedir.tar.gz) unpacked into `folder`, as SageMaker unpacks it into /opt/ml/model."""
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        # The "data" filter refuses absolute paths and links out of the folder (Python >= 3.10.12).
        if hasattr(tarfile, "data_filter"):
            tar.extractall(folder, filter="data")
        else:
            tar.extractall(folder)
    return folder
