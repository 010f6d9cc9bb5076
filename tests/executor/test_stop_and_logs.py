"""Stopping a local execution (StopPipelineExecution's semantics) and reading step logs."""

import json
import threading
import time

import pytest

from helpers import local_pipelines
from sagespec.definition import canonical_json
from sagespec.diagnostics import UserError

ROLE = "arn:aws:iam::111111111111:role/sagespec-data-science-execution"
CODE = "s3://bucket/code/sleep.py"
DEFINITION = {
    "Version": "2020-12-01",
    "Parameters": [],
    "Steps": [
        {
            "Name": "Sleep",
            "Type": "Processing",
            "Arguments": {
                "AppSpecification": {"ImageUri": "python", "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/sleep.py"]},
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
        },
        {"Name": "After", "Type": "Fail", "DependsOn": ["Sleep"], "Arguments": {"ErrorMessage": "must not run"}},
    ],
}


@pytest.fixture
def pipelines(tmp_path):
    local = local_pipelines(tmp_path / "ws")
    local.objects.put(CODE, b"import time\nprint('sleeping', flush=True)\ntime.sleep(30)\n")
    local.store.put_definition(
        "sleeper", "arn:aws:sagemaker:us-east-1:111111111111:pipeline/sleeper", ROLE, None, canonical_json(DEFINITION)
    )
    return local


def test_stop_stops_the_running_step_and_starts_nothing_more(pipelines):
    result = {}
    runner = threading.Thread(target=lambda: result.update(pipelines.start("sleeper", {})))
    runner.start()
    deadline = time.monotonic() + 20

    def sleeping():
        found = pipelines.list_executions("sleeper")
        return found and any(s["status"] == "Executing" for s in pipelines.describe_execution(found[0]["arn"])["steps"])

    while not sleeping() and time.monotonic() < deadline:
        time.sleep(0.02)
    arn = pipelines.list_executions("sleeper")[0]["arn"]
    assert pipelines.stop(arn)["status"] == "Stopping"
    runner.join(30)
    assert result["status"] == "Stopped" and "After" in result["failure_reason"]
    steps = {s["name"]: s["status"] for s in result["steps"]}
    assert steps == {"Sleep": "Stopped", "After": "NotStarted"}  # its script was stopped, as SageMaker stops the job
    with pytest.raises(UserError) as error:
        pipelines.stop(arn)
    assert error.value.code == "E6012" and "already ended Stopped" in error.value.message
    assert "sleeping" in pipelines.logs(arn, "Sleep")
    with pytest.raises(UserError) as error:
        pipelines.logs(arn, "After")
    assert "has no log" in error.value.message
    with pytest.raises(UserError) as error:
        pipelines.logs(arn, "Nope")
    assert "has no step Nope" in error.value.message


def test_the_stored_definition_is_what_diff_compares_with(pipelines):
    assert pipelines.deployed_definition("sleeper") == json.loads(canonical_json(DEFINITION))


def test_follow_shows_the_steps_of_a_run_another_thread_drives_and_its_log_as_it_grows(pipelines):
    pipelines.objects.put(CODE, b"import time\nfor i in range(3):\n    print('tick', i, flush=True)\n    time.sleep(0.4)\n")
    runner = threading.Thread(target=lambda: pipelines.start("sleeper", {}))
    runner.start()
    deadline = time.monotonic() + 20
    while not pipelines.list_executions("sleeper") and time.monotonic() < deadline:
        time.sleep(0.02)
    arn = pipelines.list_executions("sleeper")[0]["arn"]
    lines = list(pipelines.follow_logs(arn, "Sleep", sleep=lambda _: time.sleep(0.1)))
    events = []
    ended = pipelines.follow(arn, events.append, sleep=lambda _: time.sleep(0.1))
    runner.join(30)
    assert lines[0].startswith("$ ") and lines[1:] == ["tick 0", "tick 1", "tick 2"]  # the command the step ran, then its output
    assert ended["status"] == "Failed"  # the Fail step after it
    assert ("Sleep", "Succeeded") in [(e.step, e.status) for e in events] and events[-1].step == "After"
