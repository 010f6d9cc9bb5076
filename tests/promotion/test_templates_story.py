"""Every bundled template, as a user runs it: train -> register -> approve -> QA endpoint -> `endpoints test`.

The XGBoost template tunes (a Bayesian search of 4 training jobs, 2 at a time) and batch-scores
its test split with a transform step before its version is promoted.

The XGBoost and scikit-learn models are served by the local stand-ins for their inference
images (the inference toolkit contract: the code folder's inference.py defines model_fn, and
XGBoost's input_fn/predict_fn compute the features from a raw record with the preprocessing code
the model carries; the container's defaults do the rest), and the QA test compares the endpoint's
metric with the registered one: MSE for XGBoost, accuracy for the classifier.
"""

import http.client
import json
import re

import pytest

from helpers import fast_project_copy, run_cli, seeded_compile_cache

pytestmark = pytest.mark.slow


def sagespec(project, *args):
    return run_cli(*args, cwd=project, env={"SAGESPEC_WORKSPACE": str(project / ".ws")}, timeout=900)


def ok(project, *args):
    result = sagespec(project, *args)
    assert result.returncode == 0, f"{args}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def ran_id(output: str) -> str:
    return re.search(r"execution/([0-9a-f]{12}): Succeeded", output).group(1)


@pytest.mark.parametrize(
    "spec, group, gate, metric",
    [
        ("xgboost_housing.yaml", "xgboost-housing", "regression_metrics.mse.value", "endpoint MSE"),
        ("breast_cancer.yaml", "breast-cancer", "binary_classification_metrics.accuracy.value", "endpoint accuracy"),
    ],
    ids=["xgboost_regression", "sklearn_classification"],
)
def test_a_bundled_template_registers_promotes_and_passes_its_endpoint_test(tmp_path, spec, group, gate, metric):
    project = fast_project_copy(tmp_path, max_rows=5000)
    seeded_compile_cache(project / ".ws", project, f"pipelines/{spec}")
    ran = ok(project, "run", f"pipelines/{spec}")
    package = f"arn:aws:sagemaker:us-east-1:222222222222:model-package/{group}/1"
    assert f"registered {package} (PendingManualApproval)" in ran and f"({gate} " in ran
    if "xgboost" in spec:
        assert re.search(r"\[ok\] TuneModel\s+Succeeded\s+\S+\s+best \S+-TuneModel-00[1-4]-[0-9a-f]{8} \(validation:rmse [0-9.]+\)", ran), (
            ran
        )
        assert re.search(r"\[ok\] ScoreTestSet\s+Succeeded\s+\S+\s+s3://\S+/xgboost-housing/ScoreTestSet/[0-9a-f]{12}", ran), ran
        assert re.search(r"\[ok\] CheckModelQuality\s+Succeeded\s+\S+\s+baseline s3://\S+/CheckModelQuality/[0-9a-f]{12}", ran), ran
    ok(project, "models", "approve", package, "--as", "deployment", "--reason", "reviewed")
    try:
        ok(project, "promote", group, "--stage", "qa")
        tested = ok(project, "endpoints", "test", f"{group}-qa")
        assert metric in tested and "passed" in tested and f"version 1 passed QA (recorded on {package})" in tested
        described = json.loads(ok(project, "models", "describe", package, "--as", "deployment", "--output", "json"))
        assert described["package"]["stage_status"] == "TestPassed"
        if "xgboost" in spec:  # its quality checks' baselines, as ModelMetrics and DriftCheckBaselines
            metrics, baselines = described["package"]["model_metrics"], described["package"]["drift_check_baselines"]
            assert metrics["ModelDataQuality"]["Statistics"]["S3Uri"].endswith("/CheckDataQuality/" + ran_id(ran) + "/statistics.json")
            assert baselines["ModelQuality"]["Constraints"] == metrics["ModelQuality"]["Constraints"]  # the first run registers its own

        # What a client sends: bare rows (the XGBoost model computes its features from a raw census
        # row, as the TensorFlow template's does); the answer is the toolkit's JSON array.
        endpoint = next(e for e in json.loads(ok(project, "endpoints", "list", "--output", "json")) if e["EndpointName"] == f"{group}-qa")
        rows = (project / "pipelines" / "data" / "breast_cancer.csv").read_text().splitlines()[1:3] if "breast" in spec else None
        body = "\n".join(r.split(",", 1)[1] for r in rows) if rows else "-122.23,37.88,41,880,129,322,126,8.3252"
        connection = http.client.HTTPConnection("127.0.0.1", endpoint["Port"], timeout=60)
        connection.request("POST", "/invocations", body.encode(), {"Content-Type": "text/csv", "Accept": "application/json"})
        response = connection.getresponse()
        answer = json.loads(response.read())
        assert response.status == 200 and response.getheader("Content-Type") == "application/json", answer
        if rows:
            assert answer == [0, 0]  # the first two tumours of the data set are malignant
        else:
            assert len(answer) == 1 and 3.0 < answer[0] < 6.0  # the first block group: $452,600
    finally:
        sagespec(project, "endpoints", "delete", f"{group}-qa")
