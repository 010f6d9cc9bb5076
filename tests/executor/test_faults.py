"""Faults during a local execution leave nothing "Executing": Ctrl-C, SIGTERM, a killed runner,
a closed output pipe and a full disk each end the execution (and its running steps) Failed or
Stopped with the reason."""

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import local_pipelines
from sagespec.backends.local.executor.runner import LocalPipelines
from sagespec.backends.local.pipelines import PipelineStore
from sagespec.definition import canonical_json

ROLE = "arn:aws:iam::111111111111:role/sagespec-data-science-execution"
MARKER = "sagespec-fault-test-sleeper"


def definition(seconds: float, marker: str = MARKER) -> dict:
    code = f"s3://bucket/code/{marker}.py"
    return {
        "Version": "2020-12-01",
        "Parameters": [],
        "Steps": [
            {
                "Name": "Sleep",
                "Type": "Processing",
                "Arguments": {
                    "AppSpecification": {
                        "ImageUri": "python",
                        "ContainerEntrypoint": ["python3", f"/opt/ml/processing/input/code/{marker}.py"],
                    },
                    "ProcessingInputs": [
                        {
                            "InputName": "code",
                            "S3Input": {
                                "S3Uri": code,
                                "LocalPath": "/opt/ml/processing/input/code",
                                "S3DataType": "S3Prefix",
                                "S3InputMode": "File",
                            },
                        }
                    ],
                    "ProcessingOutputConfig": {
                        "Outputs": [
                            {
                                "OutputName": "out",
                                "S3Output": {"S3Uri": "s3://bucket/out", "LocalPath": "/opt/ml/processing/out", "S3UploadMode": "EndOfJob"},
                            }
                        ]
                    },
                },
            },
            {"Name": "After", "Type": "Fail", "DependsOn": ["Sleep"], "Arguments": {"ErrorMessage": "must not run"}},
        ],
    }, code


def stored(workspace: Path, seconds: float, marker: str = MARKER) -> LocalPipelines:
    local = local_pipelines(workspace)
    text, code = definition(seconds, marker)
    script = f"import os, time\nprint('pid', os.getpid(), flush=True)\ntime.sleep({seconds})\n"
    script += "open(os.path.join(os.environ['SM_PROCESSING_OUTPUT_OUT'], 'done.txt'), 'w').write('done')\n"
    local.objects.put(code, script.encode())
    local.store.put_definition("sleeper", "arn:aws:sagemaker:us-east-1:111111111111:pipeline/sleeper", ROLE, None, canonical_json(text))
    return local


def sleepers(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes() and b"sagespec" not in (entry / "cmdline").read_bytes()[:80]:
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def start_runner(workspace: Path, **popen):
    return subprocess.Popen(
        [sys.executable, "-m", "sagespec", "start", "sleeper", "--target", "local", "--workspace", str(workspace)],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        **popen,
    )


def wait_for_step(workspace: Path, status: str = "Executing", timeout: float = 30) -> str:
    store = PipelineStore(workspace)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for execution in store.conn.execute("SELECT arn FROM executions").fetchall():
            steps = store.conn.execute("SELECT status FROM execution_steps WHERE execution = ? AND name = 'Sleep'", (execution["arn"],))
            if any(r["status"] == status for r in steps):
                return execution["arn"]
        time.sleep(0.05)
    raise AssertionError(f"no step became {status}")


def described(workspace: Path, arn: str) -> dict:
    return PipelineStore(workspace).describe_execution(arn)


@pytest.mark.parametrize(
    "signum, exit_code, says", [(signal.SIGINT, 130, "interrupted (Ctrl-C)"), (signal.SIGTERM, 143, "terminated (SIGTERM)")]
)
def test_a_signal_during_a_step_stops_the_execution_and_its_script(tmp_path, signum, exit_code, says):
    workspace = tmp_path / "ws"
    marker = f"{MARKER}-{signum}-{os.getpid()}"  # tests run side by side: each looks for its own script
    stored(workspace, 60, marker)
    runner = start_runner(workspace, stdout=subprocess.DEVNULL)
    arn = wait_for_step(workspace)
    time.sleep(0.3)  # the script is running
    runner.send_signal(signum)
    _, err = runner.communicate(timeout=30)
    assert runner.returncode == exit_code, err
    found = described(workspace, arn)
    assert found["status"] == "Stopped" and says in found["failure_reason"]
    assert {s["name"]: s["status"] for s in found["steps"]} == {"Sleep": "Stopped", "After": "NotStarted"}
    deadline = time.monotonic() + 10
    while sleepers(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sleepers(marker) == []  # the step's script was stopped with it


def test_a_killed_runner_is_found_and_its_execution_failed(tmp_path):
    workspace = tmp_path / "ws"
    stored(workspace, 3)
    runner = start_runner(workspace, stdout=subprocess.DEVNULL)
    arn = wait_for_step(workspace)
    runner.kill()
    runner.wait(timeout=10)
    listed = subprocess.run(
        [sys.executable, "-m", "sagespec", "executions", "list", "--output", "json", "--workspace", str(workspace)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    (execution,) = json.loads(listed.stdout)
    assert execution["arn"] == arn and execution["status"] == "Failed"
    assert f"runner process (pid {runner.pid}) ended" in execution["failure_reason"]
    assert {s["name"]: s["status"] for s in described(workspace, arn)["steps"]}["Sleep"] == "Failed"


def test_a_closed_output_pipe_stops_the_execution(tmp_path):
    workspace = tmp_path / "ws"
    stored(workspace, 1)
    runner = subprocess.Popen(
        [sys.executable, "-m", "sagespec", "start", "sleeper", "--target", "local", "--workspace", str(workspace)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    arn = wait_for_step(workspace)
    runner.stdout.close()  # the reader goes away while the step runs (`sagespec start ... | head -1`)
    _, err = runner.communicate(timeout=60)
    assert runner.returncode == 0 and b"internal error" not in err
    found = described(workspace, arn)
    assert found["status"] == "Stopped" and "broken pipe" in found["failure_reason"]
    assert "Executing" not in {s["status"] for s in found["steps"]}


def test_a_full_disk_while_uploading_fails_the_step_with_the_reason(tmp_path, monkeypatch):
    local = stored(tmp_path / "ws", 0)

    def full(self, uri, body):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("sagespec.backends.local.objects.ObjectStore.put", full)
    result = local.start("sleeper", {})
    assert result["status"] == "Failed" and "No space left on device" in result["failure_reason"]
    assert {s["name"]: s["status"] for s in result["steps"]} == {"Sleep": "Failed", "After": "NotStarted"}


def test_a_full_disk_in_the_control_plane_ends_the_execution_in_one_transaction(tmp_path, monkeypatch):
    local = stored(tmp_path / "ws", 0)
    real = PipelineStore.record_step

    def record(self, execution, name, step_type, status, **fields):
        if status == "Succeeded":
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, execution, name, step_type, status, **fields)

    monkeypatch.setattr(PipelineStore, "record_step", record)
    with pytest.raises(OSError):
        local.start("sleeper", {})
    (execution,) = local.list_executions()
    assert execution["status"] == "Failed" and execution["failure_reason"] == "no space left on the device of the workspace"
    assert {s["name"]: s["status"] for s in local.describe_execution(execution["arn"])["steps"]}["Sleep"] == "Failed"
