"""`sagespec run` end to end on a slice of the data: both condition branches, a broken script, outputs."""

import json
import re

import pytest

from helpers import fast_project_copy, run_cli, seeded_compile_cache

GROUP = "arn:aws:sagemaker:us-east-1:222222222222:model-package-group/california-housing"


@pytest.fixture
def project(tmp_path):
    copy = fast_project_copy(tmp_path)
    seeded_compile_cache(copy / ".ws", copy, "pipelines/california_housing.yaml")
    return copy


def sagespec(project, *args):
    return run_cli(*args, cwd=project, env={"SAGESPEC_WORKSPACE": str(project / ".ws")}, timeout=900)


@pytest.mark.slow
def test_runs_register_reuse_the_cache_and_the_false_branch_registers_nothing(project):
    def run(*params):
        return sagespec(project, "run", "pipelines/california_housing.yaml", *(a for p in params for a in ("--param", p)))

    passed = run("TrainingEpochs=2", "AccuracyMseThreshold=100")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "seeded s3://sagespec-shared-artifacts-222222222222/california-housing/datasets/cal_housing.tgz" in passed.stdout
    assert "condition CheckMseThreshold: true" in passed.stdout
    assert "registered arn:aws:sagemaker:us-east-1:222222222222:model-package/california-housing/1 (PendingManualApproval)" in passed.stdout

    again = run("TrainingEpochs=2", "AccuracyMseThreshold=100")
    assert again.returncode == 0, again.stdout + again.stderr
    for step in ("PreprocessData", "TrainModel", "EvaluateModel"):
        assert f"[ok] {step}" in again.stdout and "cache hit" in again.stdout.split(f"[ok] {step}")[1].splitlines()[0]
    assert "model-package/california-housing/2 (PendingManualApproval)" in again.stdout

    # The same cached results against a threshold they miss: the false branch, and nothing registered.
    failed = run("TrainingEpochs=2", "AccuracyMseThreshold=0.0001")
    assert failed.returncode == 1
    assert "condition CheckMseThreshold: false" in failed.stdout
    assert "[!!] FailMseTooHigh" in failed.stdout and "Test MSE is above the threshold 0.0001" in failed.stderr
    assert "notification for arn:aws:lambda:us-east-1:111111111111:function:sagespec-notify-team" in failed.stdout
    # the notify function's handler ran (pipelines/functions/notify_team.py) and answered the step's output
    assert "[ok] NotifyMseTooHigh" in failed.stdout and "status=notified" in failed.stdout.split("[ok] NotifyMseTooHigh")[1].splitlines()[0]
    assert "RegisterModel" not in failed.stdout
    listed = sagespec(project, "models", "list", GROUP, "--as", "deployment", "--output", "json")
    assert [p["version"] for p in json.loads(listed.stdout)] == [2, 1]

    lineage = json.loads(
        sagespec(project, "models", "lineage", f"{GROUP.replace('-group', '')}/1", "--as", "deployment", "--output", "json").stdout
    )["lineage"]
    assert [e["kind"] for e in lineage] == ["dataset", "code", "execution", "training_job", "model", "metrics"]
    assert lineage[0]["sha256"] == "5832a120de7c5d09c86e4cf06df2a3027d7db0f2a9f6088244b70ffe86a412bf"
    assert set(lineage[-1]["detail"]) == {"mse", "rmse", "mae", "r2"}

    # a changed hyperparameter parameter is a changed argument: training runs again, preprocessing does not
    third = run("TrainingEpochs=3", "AccuracyMseThreshold=100")
    assert "cache hit" in third.stdout.split("[ok] PreprocessData")[1].splitlines()[0]
    assert "cache hit" not in third.stdout.split("[ok] TrainModel")[1].splitlines()[0]
    executions = sagespec(project, "executions", "list").stdout.splitlines()
    assert len(executions) == 4 and "Failed" in executions[1] and "Succeeded" in executions[0]


def test_start_of_an_unknown_local_pipeline(tmp_path):
    done = run_cli("start", "nothing-here", "--target", "local", env={"SAGESPEC_WORKSPACE": str(tmp_path)})
    assert done.returncode == 1 and "error[E6005]: pipeline nothing-here does not exist in the local control plane" in done.stderr


@pytest.mark.slow
def test_a_broken_script_fails_with_its_log_and_a_retry_resumes_after_the_fix(project):
    script = project / "training_code" / "evaluate.py"
    good = script.read_text()
    script.write_text(
        good.replace("def main(argv=None) -> int:", "def main(argv=None) -> int:\n    raise RuntimeError('evaluation broke')")
    )
    failed = sagespec(
        project, "run", "pipelines/california_housing.yaml", "--param", "TrainingEpochs=2", "--param", "AccuracyMseThreshold=100"
    )
    assert failed.returncode == 1
    assert "[!!] EvaluateModel" in failed.stdout and "--- log of EvaluateModel" in failed.stdout
    assert "RuntimeError: evaluation broke" in failed.stdout
    assert "[--] CheckMseThreshold" in failed.stdout and "NotStarted" in failed.stdout  # dependants never started
    execution_arn = re.search(r"^execution (arn:\S+/execution/[0-9a-f]+): Failed$", failed.stdout, re.M).group(1)
    assert "RuntimeError: evaluation broke" in sagespec(project, "executions", "logs", execution_arn, "EvaluateModel").stdout
    script.write_text(good)
    assert sagespec(project, "upsert", "pipelines/california_housing.yaml", "--target", "local").returncode == 0
    retried = sagespec(project, "start", "california-housing", "--target", "local", "--retry", execution_arn)
    assert retried.returncode == 0, retried.stdout + retried.stderr
    assert "reused from the retried execution" in retried.stdout.split("[ok] PreprocessData")[1].splitlines()[0]
    # evaluate.py sits in training_code/, the training step's source folder: its archive (and so the
    # step's definition) changed with the fix, so training runs again, as it would on SageMaker.
    assert "reused" not in retried.stdout.split("[ok] TrainModel")[1].splitlines()[0]
    evaluate = retried.stdout.split("[ok] EvaluateModel")[1].splitlines()[0]
    assert "reused" not in evaluate and "cache hit" not in evaluate
    assert "model-package/california-housing/1 (PendingManualApproval)" in retried.stdout
