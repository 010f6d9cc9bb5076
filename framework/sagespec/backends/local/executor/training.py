"""`Training` steps, and the training jobs a tuning job runs (sagespec.backends.local.executor.tuning)."""

from __future__ import annotations

import json
import sys
import tarfile
from pathlib import Path
from typing import Any

from sagespec.aws import builtin_xgboost
from sagespec.backends.local.executor import container_config, docker
from sagespec.backends.local.executor.handlers import (
    StepRun,
    env_name,
    handler,
    hyperparameter_value,
    max_runtime_of,
    runnable,
    unmet_requirements,
)
from sagespec.backends.local.executor.images import Runtime
from sagespec.backends.local.executor.metrics import final_metrics
from sagespec.backends.local.executor.retries import StepFailed


@handler("Training")
def training(step: dict[str, Any], run: StepRun) -> dict[str, Any]:
    return train(run.ctx.resolve(step["Arguments"]), runnable(step), run)


# SDK v3's ModelTrainer sends the code and its drivers as two channels (sagemaker.train.constants).
V3_CODE_CHANNEL, V3_DRIVERS_CHANNEL = "code", "sm_drivers"

# Programs of the SDK whose container paths are done here on the job's folders: program -> module.
SDK_PROGRAMS = {"_repack_script_launcher.sh": "sagespec.backends.local.runtime.repack"}  # SDK v2's _RepackModelStep


def train(args: dict[str, Any], runtime: Runtime, run: StepRun) -> dict[str, Any]:
    """One training job of resolved CreateTrainingJob arguments, like the SageMaker training
    toolkit: unpack the code, run the program with --name value. A job of SDK v3's ModelTrainer
    brings its code as a channel and its own driver, which runs here as in the container
    (`v3_program`). The built-in XGBoost algorithm runs with this machine's xgboost
    (sagespec.backends.local.runtime.xgboost_builtin); your own image with no program runs through docker.
    Returns DescribeTrainingJob's fields."""
    hps = {k: hyperparameter_value(v) for k, v in (args.get("HyperParameters") or {}).items()}
    v3 = any(c["ChannelName"] == V3_DRIVERS_CHANNEL for c in args.get("InputDataConfig", []))
    program = runtime.kind == "python"
    code = run.work / "code"
    code.mkdir(parents=True, exist_ok=True)
    if program and not v3:
        archive = run.work / "sourcedir.tar.gz"
        archive.write_bytes(run.store.get(hps["sagemaker_submit_directory"]))
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(code, filter="data")
    channels: dict[str, Path] = {}
    env: dict[str, str] = {}
    content_types = []
    for channel in args.get("InputDataConfig", []):
        name = channel["ChannelName"]
        local = run.work / "data" / name
        local.mkdir(parents=True, exist_ok=True)
        run.store.download(channel["DataSource"]["S3DataSource"]["S3Uri"], local)
        env[f"SM_CHANNEL_{env_name(name)}"] = str(local)
        channels[name] = local
        content_types.append(channel.get("ContentType", "text/csv"))
    model_dir, output_dir = run.work / "model", run.work / "output" / "data"
    model_dir.mkdir(parents=True, exist_ok=True)
    output_dir.mkdir(parents=True, exist_ok=True)
    user = {k: v for k, v in hps.items() if not k.startswith("sagemaker_")}
    env.update(
        {
            "SM_MODEL_DIR": str(model_dir),
            "SM_OUTPUT_DATA_DIR": str(output_dir),
            "SM_CHANNELS": json.dumps(list(channels)),
            "SM_HPS": json.dumps(user),
            "SM_CURRENT_HOST": "algo-1",
            "SM_HOSTS": json.dumps(["algo-1"]),
            **({"SM_USER_ENTRY_POINT": str(hps["sagemaker_program"])} if program and not v3 else {}),
            **{f"SM_HP_{env_name(k)}": str(v) for k, v in user.items()},
            **(args.get("Environment") or {}),
        }
    )
    algorithm = args.get("AlgorithmSpecification", {})
    definitions = list(algorithm.get("MetricDefinitions") or ())
    if runtime.kind == "xgboost-builtin":  # a built-in algorithm's metrics need no definitions: it declares its own
        named = {d["Name"] for d in definitions}
        definitions += [d for d in builtin_xgboost.metric_definitions() if d["Name"] not in named]
    settings: dict[str, Any] = dict(max_runtime=max_runtime_of(args), metrics=definitions)
    if runtime.kind != "docker":  # SageMaker's training layout ("How Amazon SageMaker Provides Training Information")
        settings["mounts"] = [
            (container_config.TRAINING_CONFIG, container_config.training(run.work, args)),
            *((f"/opt/ml/input/data/{name}", local) for name, local in channels.items()),
            ("/opt/ml/model", model_dir),
            ("/opt/ml/output", run.work / "output"),
            ("/opt/ml/code", code),
        ]
    if runtime.kind == "docker":
        argv = docker.training_argv(runtime.image, run.job_name, run.work, args, channels, model_dir, run.work / "output")
        try:
            run.run_script(argv, {}, run.work, label=f"container {runtime.image}", **settings)
        except StepFailed as exc:
            raise StepFailed(docker.failure_reason(run.work / "output") or str(exc)) from None
    elif runtime.kind == "xgboost-builtin":
        content_type = content_types[0] if content_types else "text/csv"
        argv = [
            sys.executable,
            "-m",
            "sagespec.backends.local.runtime.xgboost_builtin",
            "--hyperparameters",
            json.dumps(user),
            "--content-type",
            content_type,
            "--artifact-format",
            builtin_xgboost.artifact_format(builtin_xgboost.container_version(runtime.image)),
        ]
        run.run_script(argv, env, code, label="the built-in xgboost algorithm", **settings)
    elif v3:
        argv, cwd = v3_program(channels, user, env)
        run.run_script(argv, env, cwd, **settings)
    else:
        entry = str(hps["sagemaker_program"])
        argv = [sys.executable, "-m", SDK_PROGRAMS[entry]] if entry in SDK_PROGRAMS else [sys.executable, str(code / entry)]
        for name, value in user.items():
            argv += [f"--{name}", value if isinstance(value, str) else json.dumps(value)]
        run.run_script(argv, env, code, **settings)
    base = f"{args['OutputDataConfig']['S3OutputPath'].rstrip('/')}/{run.job_name}/output"
    packed = run.work / "model.tar.gz"
    with tarfile.open(packed, "w:gz") as tar:
        for path in sorted(model_dir.iterdir()):
            tar.add(path, arcname=path.name)
    run.store.put(f"{base}/model.tar.gz", packed.read_bytes())
    return {
        "TrainingJobName": run.job_name,
        "TrainingJobStatus": "Completed",
        "FinalMetricDataList": final_metrics(definitions, run.log_path),
        "ModelArtifacts": {"S3ModelArtifacts": f"{base}/model.tar.gz"},
        "HyperParameters": args.get("HyperParameters", {}),
        "InputDataConfig": args.get("InputDataConfig", []),
        "OutputDataConfig": args["OutputDataConfig"],
    }


def v3_program(channels: dict[str, Path], user: dict[str, Any], env: dict[str, str]) -> tuple[list[str], Path]:
    """What SDK v3's sm_train.sh does in the container, minus the /opt/ml paths: read
    sourcecode.json from the drivers channel, check its requirements are met, and run the SDK's
    basic_script_driver.py from the code channel with SM_ENTRY_SCRIPT and SM_HPS (the driver turns
    the hyperparameters into `--name value` and runs the entry script with this interpreter)."""
    drivers, code = channels[V3_DRIVERS_CHANNEL], channels.get(V3_CODE_CHANNEL)
    try:
        source = json.loads((drivers / "sourcecode.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StepFailed(f"the {V3_DRIVERS_CHANNEL} channel has no readable sourcecode.json ({exc})") from None
    if source.get("command") or not source.get("entry_script"):
        raise StepFailed("a ModelTrainer job with SourceCode.command (not entry_script) has no local equivalent yet: give an entry_point")
    if code is None:
        raise StepFailed(f"a ModelTrainer job with an entry script needs its {V3_CODE_CHANNEL} channel")
    if not (code / source["entry_script"]).resolve().is_relative_to(code.resolve()):
        raise StepFailed(f"the entry script {source['entry_script']} is outside the {V3_CODE_CHANNEL} channel")
    if source.get("requirements"):
        unmet = unmet_requirements(code / source["requirements"])
        if unmet:
            raise StepFailed(
                f"{source['requirements']} asks for {', '.join(unmet)}, not installed here (on SageMaker sm_train.sh pip-installs it; "
                "sagespec does not install into this environment: pip install it yourself)"
            )
    env.update({"SM_ENTRY_SCRIPT": source["entry_script"], "SM_HPS": json.dumps(user), "SM_SOURCE_DIR": str(code)})
    return [sys.executable, str(drivers / "distributed_drivers" / "basic_script_driver.py")], code
