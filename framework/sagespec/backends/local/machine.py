"""What this machine offers a local run, and what each missing piece costs (`sagespec doctor`).

Read without importing the SageMaker SDK or any ML framework: versions come from the installed
distributions' metadata, presence from the import system's finders.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version

from sagespec.aws import images
from sagespec.backends.local.executor import docker
from sagespec.backends.local.executor.images import REPOSITORIES
from sagespec.backends.local.executor.isolation import MODES, choose

# The SageMaker Python SDK's distributions: v2 is `sagemaker` alone; v3 splits into these.
SDK_DISTRIBUTIONS = ("sagemaker", "sagemaker-core", "sagemaker-train", "sagemaker-serve", "sagemaker-mlops")
# Module -> the distributions that may install it (the CPU builds sagespec's extras name first).
DISTRIBUTIONS = {
    "sklearn": ("scikit-learn",),
    "xgboost": ("xgboost-cpu", "xgboost"),
    "tensorflow": ("tensorflow-cpu", "tensorflow"),
    "torch": ("torch",),
    "transformers": ("transformers",),
    "pyspark": ("pyspark",),
    "optuna": ("optuna",),
    "datasketches": ("datasketches",),
    "waitress": ("waitress",),
    "moto": ("moto",),
    "werkzeug": ("werkzeug",),
}
# What the local run uses a module for, beyond running SageMaker's framework images.
REFUSED = "are refused before a local run"
OTHER_USES = {
    "optuna": ("tuning steps (the search's samplers)", "local", REFUSED),
    "datasketches": ("quality check steps (Model Monitor's analyzer)", "local", REFUSED),
    "waitress": ("local endpoints (the HTTP server)", "local", REFUSED),
    "werkzeug": (
        "the local AWS endpoint (jobs' own S3 and SageMaker calls)",
        "local",
        "has no server: jobs get no AWS endpoint or credentials",
    ),
    "moto": ("the local S3 endpoint (S3's protocol over the local objects)", "local", "answers NotImplemented: a job's own S3 calls fail"),
}


# What a run loses when an isolation mode is missing (bench/local_run.py measures the per-job costs).
COSTS = {
    "bubblewrap": "none: it is only used when asked for ($SAGESPEC_ISOLATION=bubblewrap; ~20 ms less per job than the namespace mode)",
    "namespace": "without it or bubblewrap, jobs see no /opt/ml: scripts that hard-code SageMaker's container paths fail",
}


@dataclass(frozen=True)
class Piece:
    name: str
    available: bool
    detail: str  # a version, or why it is missing
    cost: str = ""  # what a local run loses without it ("" when available)


@dataclass
class Machine:
    isolation: str  # the mode a local run would use
    isolation_reason: str
    modes: list[Piece] = field(default_factory=list)
    docker: Piece | None = None
    sdk: list[Piece] = field(default_factory=list)
    extras: list[Piece] = field(default_factory=list)


def _installed(module: str) -> str | None:
    """The version of the distribution that installs `module`, or None when it cannot be imported."""
    if importlib.util.find_spec(module) is None:
        return None
    for distribution in DISTRIBUTIONS.get(module, (module,)):
        try:
            return version(distribution)
        except PackageNotFoundError:
            continue
    return "installed"


def report(requested: str | None) -> Machine:
    choice = choose(requested)
    modes = []
    for mode in MODES.values():
        why = mode.unavailable()
        modes.append(Piece(mode.name, why is None, why or mode.summary, COSTS.get(mode.name, "") if why else ""))
    engine = docker.engine_unavailable()
    docker_piece = Piece(
        "docker",
        engine is None,
        engine or "an engine answers",
        "a job on an image with no local equivalent (your own image with its own entrypoint) is refused before the run; "
        "framework images run as local processes either way"
        if engine
        else "",
    )
    sdk = []
    for distribution in SDK_DISTRIBUTIONS:
        try:
            sdk.append(Piece(distribution, True, version(distribution)))
        except PackageNotFoundError:
            if distribution == "sagemaker":
                sdk.append(Piece(distribution, False, "not installed", "nothing compiles: pip install sagemaker"))
    extras = []
    seen: set[str] = set()
    for framework, modules, extra in REPOSITORIES.values():
        missing = [m for m in modules if _installed(m) is None]
        detail = ", ".join(f"{m} {_installed(m)}" for m in modules if m not in missing) if not missing else f"{', '.join(missing)} missing"
        _, install = images.missing_modules(missing, extra)
        cost = f"steps on SageMaker's {framework} image are refused before a local run: {install}" if missing else ""
        extras.append(Piece(framework, not missing, detail, cost))
        seen.update(modules)
    for module, (use, extra, consequence) in OTHER_USES.items():
        found = _installed(module)
        cost = "" if found else f"{use} {consequence}: pip install 'sagespec[{extra}]'"
        extras.append(Piece(module, found is not None, f"{module} {found}" if found else f"{module} missing", cost))
    reason = "; ".join(f"no {name}: {why}" for name, why in choice.passed_over) or (
        "chosen by SAGESPEC_ISOLATION" if requested and requested != "auto" else "the first mode available here"
    )
    return Machine(choice.mode.name, reason, modes, docker_piece, sdk, extras)
