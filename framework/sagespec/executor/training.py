"""`Training` steps, and the training jobs a tuning job runs (sagespec.executor.tuning)."""

from __future__ import annotations

import json
import sys
import tarfile
from pathlib import Path

from sagespec.executor import docker
from sagespec.executor.handlers import StepFailed, StepRun, env_name, handler, hyperparameter_value, max_runtime_of, runnable
from sagespec.executor.images import Runtime
from sagespec.executor.metrics import final_metrics


@handler("Training")
def training(step: dict, run: StepRun) -> dict:
    return train(run.ctx.resolve(step["Arguments"]), runnable(step), run)


def train(args: dict, runtime: Runtime, run: StepRun) -> dict:
    """One training job of resolved CreateTrainingJob arguments, like the SageMaker training
    toolkit: unpack the code, run the program with --name value. The built-in XGBoost algorithm
    runs with this machine's xgboost (sagespec.local.xgboost_builtin); your own image with no
    program runs through docker. Returns DescribeTrainingJob's fields."""
    hps = {k: hyperparameter_value(v) for k, v in (args.get("HyperParameters") or {}).items()}
    program = runtime.kind == "python"
    code = run.work / "code"
    code.mkdir(parents=True, exist_ok=True)
    if program:
        archive = run.work / "sourcedir.tar.gz"
        archive.write_bytes(run.store.get(hps["sagemaker_submit_directory"]))
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(code, filter="data")
    channels: dict[str, Path] = {}
    env = {}
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
            **({"SM_USER_ENTRY_POINT": str(hps["sagemaker_program"])} if program else {}),
            **{f"SM_HP_{env_name(k)}": str(v) for k, v in user.items()},
            **(args.get("Environment") or {}),
        }
    )
    algorithm = args.get("AlgorithmSpecification", {})
    settings = dict(max_runtime=max_runtime_of(args), metrics=algorithm.get("MetricDefinitions") or ())
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
            "sagespec.local.xgboost_builtin",
            "--hyperparameters",
            json.dumps(user),
            "--content-type",
            content_type,
        ]
        run.run_script(argv, env, code, label="the built-in xgboost algorithm", **settings)
    else:
        argv = [sys.executable, str(code / hps["sagemaker_program"])]
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
        "FinalMetricDataList": final_metrics(algorithm.get("MetricDefinitions", []), run.log_path),
        "ModelArtifacts": {"S3ModelArtifacts": f"{base}/model.tar.gz"},
        "HyperParameters": args.get("HyperParameters", {}),
        "OutputDataConfig": args["OutputDataConfig"],
    }
