"""Every documented difference between an SDK v2 and an SDK v3 definition of the same spec.

`normalise` removes exactly these and nothing else, so a test comparing the normalised
definitions fails on any other drift. Each entry says what differs and why; the README's SDK
section lists the same.
"""

from __future__ import annotations

import re

from sagespec.backends.local.executor.handlers import hyperparameter_value  # as the training toolkit decodes them

DIFFERENCES = {
    "MlflowConfig": "v3's Pipeline writes its MLflow setting at the top level; null when the pipeline sets none (v2 has no such key)",
    "AppManaged": "v2 writes AppManaged: false on every processing input and output; v3 leaves it out (false is the API's default)",
    "model step names": "v2's ModelStep is a StepCollection that names its step '<name>-RegisterModel' / '<name>-CreateModel'; v3 names it as the spec step",
    "training code": "v2 passes the code as hyperparameters (sagemaker_program, sagemaker_submit_directory, sagemaker_region, "
    "sagemaker_container_log_level, TensorFlow's model_dir) for the framework's training toolkit; v3's ModelTrainer sends it as "
    "'code' and 'sm_drivers' channels and runs /bin/bash -c sm_train.sh (ContainerEntrypoint, ContainerArguments)",
    "hyperparameter encoding": "v2 JSON-encodes every hyperparameter ('\"128,64,32\"'); v3 leaves strings as written (safe_serialize); "
    "both decode to the same value in the container",
    "channel input mode": "v3 sets InputMode: File on each training channel; v2 only sets the job's TrainingInputMode: File",
    "metrics time series": "v2's estimators set EnableSageMakerMetricsTimeSeries: true; v3's ModelTrainer leaves it out",
    "debugger": "v2's estimators set SageMaker Debugger's hook (DebugHookConfig) and profiler (ProfilerConfig) as the SDK's defaults "
    "have them; v3's ModelTrainer sets neither",
    "code keys": "both put code under <prefix>/<pipeline>/code/<sha256>/, but hash different bytes (v3's runproc.sh, its drivers), and "
    "v3's FrameworkProcessor names the folder of sourcedir.tar.gz (with its install_requirements.py) where v2 names the archive",
    "serving environment": "v3's ModelBuilder.register() adds SAGEMAKER_PROGRAM='' and SAGEMAKER_SUBMIT_DIRECTORY='' (no inference script), "
    "SAGEMAKER_CONTAINER_LOG_LEVEL=20 and SAGEMAKER_REGION to the container's environment",
    "container framework": "v2's framework Model records Framework and FrameworkVersion on a registered container; v3's ModelBuilder, "
    "given the image, records neither (both are optional, read by Inference Recommender)",
    "check jobs": "v2's quality and Clarify check jobs write S3CompressionType: None and S3DataDistributionType: FullyReplicated on "
    "their inputs (the API's defaults) and AppManaged: false; v3's leave them out, and set StoppingCondition MaxRuntimeInSeconds "
    "86400 (24 hours) where v2 sets no limit",
}
CHECK_INPUT_DEFAULTS = {"S3CompressionType": "None", "S3DataDistributionType": "FullyReplicated"}
V3_CHECK_STOPPING = {"MaxRuntimeInSeconds": 86400}

V2_CODE_HYPERPARAMETERS = (
    "sagemaker_program",
    "sagemaker_submit_directory",
    "sagemaker_region",
    "sagemaker_container_log_level",
    "model_dir",
)
V3_CODE_CHANNELS = ("code", "sm_drivers")
MODEL_STEP_SUFFIX = re.compile(r"^(?P<name>.+)-(RegisterModel|CreateModel)$")
CODE_KEY = re.compile(r"(/code/)[0-9a-f]{64}(/sourcedir\.tar\.gz$|/$|/(?=[^/]+$))")
SERVING_DEFAULTS = {"SAGEMAKER_PROGRAM": "", "SAGEMAKER_SUBMIT_DIRECTORY": "", "SAGEMAKER_CONTAINER_LOG_LEVEL": "20"}


def _step(step: dict, region: str) -> dict:
    step = dict(step)
    match = MODEL_STEP_SUFFIX.match(step["Name"])
    if step.get("Type") in ("RegisterModel", "Model") and match:
        step["Name"] = match["name"]
    args = dict(step.get("Arguments") or {})
    if step.get("Type") in ("Processing", "QualityCheck", "ClarifyCheck"):
        for key in ("ProcessingInputs",):
            args[key] = [{k: v for k, v in i.items() if k != "AppManaged"} for i in args.get(key) or []]
        if "ProcessingOutputConfig" in args:
            config = dict(args["ProcessingOutputConfig"])
            config["Outputs"] = [{k: v for k, v in o.items() if k != "AppManaged"} for o in config.get("Outputs") or []]
            args["ProcessingOutputConfig"] = config
    if step.get("Type") in ("QualityCheck", "ClarifyCheck"):
        args["ProcessingInputs"] = [
            {**i, "S3Input": {k: v for k, v in i["S3Input"].items() if CHECK_INPUT_DEFAULTS.get(k) != v}} if "S3Input" in i else i
            for i in args.get("ProcessingInputs") or []
        ]
        if args.get("StoppingCondition") == V3_CHECK_STOPPING:
            del args["StoppingCondition"]
    if step.get("Type") == "Training":
        algorithm = {k: v for k, v in (args.get("AlgorithmSpecification") or {}).items()}
        for key in ("ContainerEntrypoint", "ContainerArguments", "EnableSageMakerMetricsTimeSeries"):
            algorithm.pop(key, None)
        args["AlgorithmSpecification"] = algorithm
        args["HyperParameters"] = {
            k: hyperparameter_value(v) for k, v in (args.get("HyperParameters") or {}).items() if k not in V2_CODE_HYPERPARAMETERS
        }
        args["InputDataConfig"] = [
            {k: v for k, v in c.items() if k != "InputMode"}
            for c in args.get("InputDataConfig") or []
            if c["ChannelName"] not in V3_CODE_CHANNELS
        ]
        args.pop("ProfilerConfig", None)
        args.pop("DebugHookConfig", None)
    if step.get("Type") == "RegisterModel":
        spec = dict(args["InferenceSpecification"])
        containers = []
        for container in spec["Containers"]:
            container = {k: v for k, v in container.items() if k not in ("Framework", "FrameworkVersion")}
            env = {**SERVING_DEFAULTS, "SAGEMAKER_REGION": region}
            container["Environment"] = {k: v for k, v in (container.get("Environment") or {}).items() if env.get(k) != v}
            containers.append(container)
        spec["Containers"] = containers
        args["InferenceSpecification"] = spec
    if step.get("Type") == "Condition":
        for branch in ("IfSteps", "ElseSteps"):
            args[branch] = [_step(s, region) for s in args.get(branch) or []]
    step["Arguments"] = args
    return step


def _strings(node):
    """Step references and code keys, the same way for both SDKs."""
    if isinstance(node, dict):
        return {k: _strings(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_strings(v) for v in node]
    if isinstance(node, str):
        node = re.sub(r"^Steps\.([^.]+)-(RegisterModel|CreateModel)\.", r"Steps.\1.", node)
        return CODE_KEY.sub(r"\1<sha256>/", node)
    return node


def normalise(definition: dict, region: str = "us-east-1") -> dict:
    """`definition` (of either SDK) with every difference above removed."""
    normalised = {k: v for k, v in definition.items() if k != "MlflowConfig"}
    normalised["Steps"] = [_step(s, region) for s in definition["Steps"]]
    return _strings(normalised)
