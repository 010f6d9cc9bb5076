"""Selective executions (`start --from-step`, SelectiveExecutionConfig), callback steps answered
with `executions send-success|send-failure`, and EMR steps refused before a local run starts."""

import threading
import time

import pytest
from test_retries_local import CODE, JOB, attempts_dir, processing, store

from helpers import local_pipelines, run_cli
from sagespec.diagnostics import UserError

OUTPUT = "s3://bucket/out/a"


@pytest.fixture
def local(tmp_path):
    pipelines = local_pipelines(tmp_path / "ws")
    pipelines.objects.put(CODE, JOB)
    return pipelines


def chain(tmp_path) -> tuple[list, dict]:
    """A writes an output B reads; C waits for B."""
    folders = {name: attempts_dir(tmp_path, name) for name in "ABC"}
    a = processing("A", {"ATTEMPTS": str(folders["A"])})
    a["Arguments"]["ProcessingOutputConfig"]["Outputs"] = [
        {"OutputName": "out", "S3Output": {"S3Uri": OUTPUT, "LocalPath": "/opt/ml/processing/out", "S3UploadMode": "EndOfJob"}}
    ]
    b = processing("B", {"ATTEMPTS": str(folders["B"])})
    b["Arguments"]["ProcessingInputs"].append(
        {
            "InputName": "a",
            "S3Input": {
                "S3Uri": {"Get": "Steps.A.ProcessingOutputConfig.Outputs['out'].S3Output.S3Uri"},
                "LocalPath": "/opt/ml/processing/a",
                "S3DataType": "S3Prefix",
                "S3InputMode": "File",
            },
        }
    )
    c = processing("C", {"ATTEMPTS": str(folders["C"])}, DependsOn=["B"])
    return [a, b, c], folders


def runs(folder) -> int:
    return len(list(folder.glob("attempt-*")))


def test_from_step_reruns_only_the_selected_steps_against_the_source_results(local, tmp_path):
    steps, folders = chain(tmp_path)
    store(local, "chain", steps)
    first = local.start("chain", {})
    assert first["status"] == "Succeeded"
    again = local.start("chain", {}, selected_steps=["B", "C"], source_execution=first["arn"])
    assert again["status"] == "Succeeded", again["failure_reason"]
    assert (runs(folders["A"]), runs(folders["B"]), runs(folders["C"])) == (1, 2, 2)
    by_name = {s["name"]: s for s in again["steps"]}
    assert by_name["A"]["cached_from"] == first["arn"] and by_name["A"]["log_path"] is None
    assert by_name["B"]["cached_from"] is None
    assert again["selective_source"] == first["arn"] and again["selected_steps"] == ["B", "C"]


def test_a_selection_with_a_gap_or_without_its_source_is_refused_before_anything_runs(local, tmp_path):
    steps, folders = chain(tmp_path)
    store(local, "chain", steps)
    first = local.start("chain", {})
    with pytest.raises(UserError) as gap:
        local.start("chain", {}, selected_steps=["A", "C"], source_execution=first["arn"])
    assert gap.value.code == "E6012" and "A and C are selected but B between them is not" in gap.value.message
    with pytest.raises(UserError) as sourceless:
        local.start("chain", {}, selected_steps=["B"])
    assert "need A, which they do not run: name a source execution" in sourceless.value.message
    with pytest.raises(UserError) as unknown:
        local.start("chain", {}, selected_steps=["Nope"], source_execution=first["arn"])
    assert unknown.value.code == "E6005" and "has no step Nope" in unknown.value.message
    assert len(local.list_executions("chain")) == 1 and runs(folders["B"]) == 1


def test_the_cli_takes_the_latest_ended_execution_as_the_source(local, tmp_path):
    steps, folders = chain(tmp_path)
    store(local, "chain", steps)
    first = local.start("chain", {})
    done = run_cli("start", "chain", "--from-step", "C", "--workspace", str(tmp_path / "ws"), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"source execution {first['arn']}" in done.stdout
    assert (runs(folders["A"]), runs(folders["B"]), runs(folders["C"])) == (1, 1, 2)


CALLBACK_STEPS = [
    {
        "Name": "Review",
        "Type": "Callback",
        "Arguments": {"model": "s3://bucket/model.tar.gz", "run": {"Get": "Execution.PipelineExecutionId"}},
        "SqsQueueUrl": "https://sqs.us-east-1.amazonaws.com/111111111111/review",
        "OutputParameters": [{"OutputName": "verdict", "OutputType": "String"}, {"OutputName": "score", "OutputType": "Float"}],
    },
    {
        "Name": "Approved",
        "Type": "Condition",
        "Arguments": {
            "Conditions": [{"Type": "Equals", "LeftValue": {"Get": "Steps.Review.OutputParameters['verdict']"}, "RightValue": "approve"}],
            "IfSteps": [],
            "ElseSteps": [{"Name": "Rejected", "Type": "Fail", "Arguments": {"ErrorMessage": "the reviewer rejected it"}}],
        },
    },
]


def _waiting_callback(local, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = local.list_executions("review")
        if found:
            waiting = [c for c in local.describe_execution(found[0]["arn"])["callbacks"] if c["status"] == "Waiting"]
            if waiting:
                return waiting[0]
        time.sleep(0.05)
    raise AssertionError("no callback waited")


def _run_in_background(local):
    result = {}
    thread = threading.Thread(target=lambda: result.update(local.start("review", {})), daemon=True)
    thread.start()
    return thread, result


def test_a_callback_waits_for_send_success_and_later_steps_read_its_outputs(local, tmp_path):
    store(local, "review", CALLBACK_STEPS)
    thread, result = _run_in_background(local)
    waiting = _waiting_callback(local)
    token = waiting["token"]
    assert len(token) == 10 and token.isalnum()
    message = waiting["message"]
    assert message["token"] == token and message["status"] == "Executing"
    assert message["arguments"]["model"] == "s3://bucket/model.tar.gz" and message["pipelineExecutionArn"] == waiting["execution"]
    time.sleep(0.5)
    assert thread.is_alive()  # it waits for the answer
    ws = str(tmp_path / "ws")
    wrong = run_cli("executions", "send-success", token, "--output", "verdikt=approve", "--workspace", ws, cwd=tmp_path)
    assert wrong.returncode == 2 and "declares no output verdikt" in wrong.stderr and "Traceback" not in wrong.stderr
    done = run_cli(
        "executions", "send-success", token, "--output", "verdict=approve", "--output", "score=0.93", "--workspace", ws, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "step Review of" in done.stdout and "Succeeded" in done.stdout
    thread.join(30)
    assert result["status"] == "Succeeded", result["failure_reason"]
    review = next(s for s in result["steps"] if s["name"] == "Review")
    assert review["properties"]["OutputParameters"] == {"verdict": "approve", "score": 0.93}
    again = run_cli("executions", "send-success", token, "--workspace", ws, cwd=tmp_path)
    assert again.returncode != 0 and "already answered" in again.stderr


def test_send_failure_fails_the_callback_step_with_its_reason(local, tmp_path):
    store(local, "review", CALLBACK_STEPS)
    thread, result = _run_in_background(local)
    token = _waiting_callback(local)["token"]
    done = run_cli("executions", "send-failure", token, "--reason", "data drifted", "--workspace", str(tmp_path / "ws"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    thread.join(30)
    assert result["status"] == "Failed" and "the callback failed: data drifted" in result["failure_reason"]


def test_an_emr_step_is_refused_before_the_run_starts_naming_it(local):
    emr = {
        "Name": "Spark",
        "Type": "EMR",
        "Arguments": {"ClusterId": "j-ABC123", "StepConfig": {"HadoopJarStep": {"Jar": "command-runner.jar"}}},
    }
    store(local, "spark", [emr])
    with pytest.raises(UserError) as refused:
        local.start("spark", {})
    assert refused.value.code == "E6019" and "step 'Spark': an EMR step runs on an Amazon EMR cluster (j-ABC123)" in refused.value.message
    assert local.list_executions("spark") == []
