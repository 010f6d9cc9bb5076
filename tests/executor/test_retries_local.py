"""RetryPolicies, ParallelismConfiguration and custom job prefixes honoured by local executions:
a job taken away from outside (InternalServerError) runs again while a policy allows, an
AlgorithmError never does, MaxAttempts bounds the attempts, and at most MaxParallelExecutionSteps
steps run at once."""

import json
import os
import signal
import threading
import time
from datetime import datetime

import pytest

from helpers import local_pipelines
from sagespec.definition import canonical_json

ROLE = "arn:aws:iam::111111111111:role/sagespec-data-science-execution"
ARN = "arn:aws:sagemaker:us-east-1:111111111111:pipeline/"
CODE = "s3://bucket/code/job.py"
# Each attempt records its pid in the next attempt-N file; the first `SURVIVES_FROM - 1` attempts
# wait to be killed from outside, later ones succeed (or exit with EXIT_CODE).
JOB = b"""import os, pathlib, sys, time
folder = pathlib.Path(os.environ["ATTEMPTS"])
n = len(list(folder.glob("attempt-*"))) + 1
(folder / f"attempt-{n}").write_text(str(os.getpid()))
print("attempt", n, flush=True)
for key, value in os.environ.items():  # something in each output, for the steps that read it
    if key.startswith("SM_PROCESSING_OUTPUT_"):
        (pathlib.Path(value) / "attempt.txt").write_text(str(n))
if int(os.environ.get("EXIT_CODE", "0")):
    sys.exit(int(os.environ["EXIT_CODE"]))
if n < int(os.environ.get("SURVIVES_FROM", "1")):
    time.sleep(60)
time.sleep(float(os.environ.get("SECONDS", "0")))
"""


def processing(name: str, env: dict, **extra) -> dict:
    return {
        "Name": name,
        "Type": "Processing",
        "Arguments": {
            "AppSpecification": {"ImageUri": "python", "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/job.py"]},
            "Environment": env,
            "ProcessingInputs": [
                {
                    "InputName": "code",
                    "S3Input": {
                        "S3Uri": CODE,
                        "LocalPath": "/opt/ml/processing/input/code",
                        "S3DataType": "S3Prefix",
                        "S3InputMode": "File",
                    },
                }
            ],
            "ProcessingOutputConfig": {"Outputs": []},
        },
        **extra,
    }


def policy(*types, **timing) -> dict:
    return {"ExceptionType": list(types), "IntervalSeconds": 1, "BackoffRate": 2.0, **timing}


@pytest.fixture
def local(tmp_path):
    pipelines = local_pipelines(tmp_path / "ws")
    pipelines.objects.put(CODE, JOB)
    return pipelines


def store(local, name: str, steps: list, max_parallel_steps=None) -> None:
    definition = {"Version": "2020-12-01", "Parameters": [], "Steps": steps}
    local.store.put_definition(name, ARN + name, ROLE, None, canonical_json(definition), max_parallel_steps)


class Killer:
    """Kills each attempt's process from outside (the machine taking the job away), `times` times."""

    def __init__(self, folder, times: int):
        self.folder, self.times, self.killed, self.done = folder, times, [], threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self.done.is_set() and len(self.killed) < self.times:
            for marker in sorted(self.folder.glob("attempt-*")):
                if marker.name not in self.killed and marker.read_text():
                    time.sleep(0.2)
                    os.kill(int(marker.read_text()), signal.SIGKILL)
                    self.killed.append(marker.name)
            time.sleep(0.05)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join(5)


def attempts_dir(tmp_path, name="attempts"):
    folder = tmp_path / name
    folder.mkdir()
    return folder


def test_a_job_killed_from_outside_runs_again_under_a_job_internal_error_policy(local, tmp_path):
    folder = attempts_dir(tmp_path)
    step = processing(
        "Flaky", {"ATTEMPTS": str(folder), "SURVIVES_FROM": "2"}, RetryPolicies=[policy("SageMaker.JOB_INTERNAL_ERROR", MaxAttempts=2)]
    )
    store(local, "flaky", [step])
    with Killer(folder, 1):
        result = local.start("flaky", {})
    assert result["status"] == "Succeeded", result["failure_reason"]
    flaky = result["steps"][0]
    assert flaky["attempt_count"] == 2
    log = local.logs(result["arn"], "Flaky")
    assert "attempt 1 failed (SageMaker.JOB_INTERNAL_ERROR): InternalServerError" in log and "killed by SIGKILL" in log
    assert "attempt 2 starts in 1 s (RetryPolicy)" in log and "attempt 2\n" in log


def test_without_a_policy_the_same_loss_fails_the_step(local, tmp_path):
    folder = attempts_dir(tmp_path)
    store(local, "fragile", [processing("Flaky", {"ATTEMPTS": str(folder), "SURVIVES_FROM": "2"})])
    with Killer(folder, 1):
        result = local.start("fragile", {})
    assert result["status"] == "Failed"
    assert "InternalServerError" in result["failure_reason"] and result["steps"][0]["attempt_count"] == 1


def test_an_algorithm_error_is_never_retried_whatever_the_policy_lists(local, tmp_path):
    folder = attempts_dir(tmp_path)
    every = policy(
        "SageMaker.JOB_INTERNAL_ERROR", "SageMaker.CAPACITY_ERROR", "SageMaker.RESOURCE_LIMIT", "Step.SERVICE_FAULT", MaxAttempts=5
    )
    store(local, "broken", [processing("Broken", {"ATTEMPTS": str(folder), "EXIT_CODE": "3"}, RetryPolicies=[every])])
    result = local.start("broken", {})
    assert result["status"] == "Failed" and "AlgorithmError" in result["failure_reason"]
    assert sorted(p.name for p in folder.iterdir()) == ["attempt-1"]


def test_max_attempts_bounds_the_retries_and_the_interval_backs_off(local, tmp_path):
    folder = attempts_dir(tmp_path)
    step = processing(
        "Lost", {"ATTEMPTS": str(folder), "SURVIVES_FROM": "9"}, RetryPolicies=[policy("SageMaker.JOB_INTERNAL_ERROR", MaxAttempts=2)]
    )
    store(local, "lost", [step])
    started = time.monotonic()
    with Killer(folder, 3):
        result = local.start("lost", {})
    assert result["status"] == "Failed" and "InternalServerError" in result["failure_reason"]
    assert sorted(p.name for p in folder.iterdir()) == ["attempt-1", "attempt-2", "attempt-3"]  # the first try and 2 retries
    assert result["steps"][0]["attempt_count"] == 3
    assert time.monotonic() - started >= 1 + 2  # IntervalSeconds 1, then 1 x BackoffRate 2
    log = local.logs(result["arn"], "Lost")
    assert "attempt 2 starts in 1 s" in log and "attempt 3 starts in 2 s" in log


def _spans(result) -> list[tuple[datetime, datetime]]:
    return [(datetime.fromisoformat(s["started_at"]), datetime.fromisoformat(s["ended_at"])) for s in result["steps"]]


def _overlapping(spans) -> int:
    """The most steps that ran at the same moment."""
    return max(sum(1 for start, end in spans if start <= moment < end) for moment, _ in spans)


def test_max_parallel_steps_caps_the_steps_running_at_once(local, tmp_path):
    folders = [attempts_dir(tmp_path, f"p{i}") for i in range(3)]
    steps = [processing(f"Step{i}", {"ATTEMPTS": str(f), "SECONDS": "0.8"}) for i, f in enumerate(folders)]
    store(local, "wide", steps, max_parallel_steps=1)
    one_at_a_time = local.start("wide", {})
    assert one_at_a_time["status"] == "Succeeded" and one_at_a_time["max_parallel_steps"] is None
    assert _overlapping(_spans(one_at_a_time)) == 1
    all_at_once = local.start("wide", {}, max_parallel_steps=3)  # StartPipelineExecution's own ParallelismConfiguration
    assert all_at_once["status"] == "Succeeded" and all_at_once["max_parallel_steps"] == 3
    assert _overlapping(_spans(all_at_once)) == 3


def test_a_custom_job_prefix_names_the_job(local, tmp_path):
    step = processing("Named", {"ATTEMPTS": str(attempts_dir(tmp_path))})
    step["Arguments"]["ProcessingJobName"] = "housing-prep"
    store(local, "named", [step])
    result = local.start("named", {})
    assert result["status"] == "Succeeded"
    job = result["steps"][0]["properties"]["ProcessingJobName"]
    assert job == f"housing-prep-{result['arn'].rsplit('/', 1)[-1]}"
    assert json.loads(json.dumps(result["steps"][0]["properties"]))["ProcessingJobName"].startswith("housing-prep")
