"""Quality check steps run locally as Model Monitor's analyzer would: a first run calculates the
baselines (statistics.json, constraints.json in the documented formats) and the registered version
carries them as ModelMetrics and DriftCheckBaselines; once that version is approved, a later run
checks new data against them and fails, naming the violations, when the data drifted."""

import json
import random

import pytest

from helpers import fast_project_copy, local_pipelines, local_registry, model_step, run_cli, seeded_compile_cache
from quality_pipeline import BUCKET, SPEC

# End to end: `make test-fast` leaves these out, `make test` runs them.
pytestmark = pytest.mark.slow


def _csv(rows) -> bytes:
    return "".join(",".join(str(v) for v in row) + "\n" for row in rows).encode()


def _train(seed: int, shift: float = 0.0) -> bytes:
    r = random.Random(seed)
    return _csv((round(r.gauss(2 + shift, 1), 4), r.randint(1, 40), r.choice(["NEAR BAY", "INLAND"])) for _ in range(1500))


def _scored(seed: int) -> bytes:
    r = random.Random(seed)
    rows = []
    for _ in range(600):
        truth = r.gauss(2, 1)
        rows.append((round(truth, 4), round(truth + r.gauss(0, 0.4), 4)))
    return _csv(rows)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    copy = fast_project_copy(tmp_path_factory.mktemp("quality"))
    (copy / "pipelines" / "quality.yaml").write_text(SPEC)
    objects = local_pipelines(seeded_compile_cache(copy / "ws", copy, "pipelines/quality.yaml")).objects
    objects.put(f"{BUCKET}/train/train.csv", _train(1))
    objects.put(f"{BUCKET}/scored/scored.csv", _scored(3))
    return copy


def _run(project, *params):
    args = [a for p in params for a in ("--param", p)]
    return run_cli("run", "pipelines/quality.yaml", *args, "--workspace", str(project / "ws"), cwd=project)


def _latest(project):
    local = local_pipelines(project / "ws")
    return local.describe_execution(local.list_executions("quality")[0]["arn"])


def _registry(project, principal):
    from sagespec.backends.local.database import connect

    return local_registry(connect(project / "ws"), principal)


def test_the_first_run_calculates_baselines_the_version_carries_and_a_later_run_checks_against_them(project):
    from sagespec.iam import Principal

    first = _run(project)
    assert first.returncode == 0, first.stdout + first.stderr
    execution = _latest(project)
    steps = {s["name"]: s for s in execution["steps"]}
    data = steps["DataQuality"]["properties"]
    assert data["BaselineUsedForDriftCheckStatistics"] == data["CalculatedBaselineStatistics"]  # skip + register new
    objects = local_pipelines(project / "ws").objects
    statistics = json.loads(objects.get(data["CalculatedBaselineStatistics"]))
    assert statistics["dataset"] == {"item_count": 1500}
    features = {f["name"]: f for f in statistics["features"]}
    assert [features[n]["inferred_type"] for n in ("_c0", "_c1", "_c2")] == ["Fractional", "Integral", "String"]
    kll = features["_c0"]["numerical_statistics"]["distribution"]["kll"]
    assert len(kll["buckets"]) == 10 and sum(b["count"] for b in kll["buckets"]) == 1500
    assert kll["sketch"]["parameters"] == {"c": 0.64, "k": 2048.0}
    constraints = json.loads(objects.get(data["CalculatedBaselineConstraints"]))
    domains = {f["name"]: f.get("string_constraints", {}).get("domains") for f in constraints["features"]}
    assert (
        domains["_c2"] == ["INLAND", "NEAR BAY"]
        and constraints["monitoring_config"]["distribution_constraints"]["comparison_threshold"] == 0.1
    )
    model = json.loads(objects.get(steps["ModelQuality"]["properties"]["CalculatedBaselineStatistics"]))
    assert set(model["regression_metrics"]) == {"mae", "mse", "rmse", "r2"} and 0.1 < model["regression_metrics"]["mse"]["value"] < 0.25

    registered = steps[model_step("Register")]["properties"]["ModelPackageArn"]
    admin = _registry(project, Principal.root("111111111111", "aws"))
    version = admin.describe(registered)
    assert version.model_metrics["ModelDataQuality"]["Statistics"]["S3Uri"] == data["CalculatedBaselineStatistics"]
    assert (
        version.model_metrics["ModelQuality"]["Constraints"]["S3Uri"]
        == steps["ModelQuality"]["properties"]["CalculatedBaselineConstraints"]
    )
    assert version.drift_check_baselines["ModelDataQuality"]["Constraints"]["S3Uri"] == data["BaselineUsedForDriftCheckConstraints"]
    admin.update_status(registered, "Approved", "baseline accepted")

    same = _run(project, "FirstRun=false")
    assert same.returncode == 0, same.stdout + same.stderr
    checked = {s["name"]: s for s in _latest(project)["steps"]}["DataQuality"]["properties"]
    assert checked["BaselineUsedForDriftCheckStatistics"] == data["CalculatedBaselineStatistics"]  # the approved version's
    assert json.loads(objects.get(checked["ViolationReport"])) == {"violations": []}

    objects.put(f"{BUCKET}/train/train.csv", _train(2, shift=1.5))  # new data at the same place, its mean 1.5 higher
    drifted = _run(project, "FirstRun=false")
    assert drifted.returncode == 1
    assert "step DataQuality failed: ClientError:" in drifted.stderr and "baseline_drift_check" not in drifted.stderr
    assert "_c0: Baseline drift distance:" in drifted.stderr and "exceeds threshold: 0.1" in drifted.stderr
    failed = {s["name"]: s["status"] for s in _latest(project)["steps"]}
    assert failed["DataQuality"] == "Failed" and failed[model_step("Register")] == "NotStarted"


def test_a_check_with_no_baseline_anywhere_fails_saying_how_to_start(project, tmp_path):
    objects = local_pipelines(
        seeded_compile_cache(tmp_path / "ws", project, "pipelines/quality.yaml")
    ).objects  # a workspace whose registry has no approved version
    objects.put(f"{BUCKET}/train/train.csv", _train(1))
    objects.put(f"{BUCKET}/scored/scored.csv", _scored(3))
    done = run_cli("run", "pipelines/quality.yaml", "--param", "FirstRun=false", "--workspace", str(tmp_path / "ws"), cwd=project)
    assert done.returncode == 1
    assert "there is no baseline to check against" in done.stderr and "set skip_check" in done.stderr
