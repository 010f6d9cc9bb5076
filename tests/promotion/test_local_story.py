"""The whole story on the local backend, as a user runs it: train -> approve -> QA -> prod -> canary -> finalize -> rollback."""

import http.client
import io
import json
from collections import Counter

import numpy as np
import pytest

from helpers import fast_project_copy, run_cli, seeded_compile_cache

GROUP = "california-housing"
PACKAGE = "arn:aws:sagemaker:us-east-1:222222222222:model-package/california-housing/{}"

pytestmark = pytest.mark.slow


@pytest.fixture
def project(tmp_path):
    copy = fast_project_copy(tmp_path)
    seeded_compile_cache(copy / ".ws", copy, "pipelines/california_housing.yaml")
    yield copy
    sagespec(copy, "endpoints", "delete", "california-housing-qa")
    sagespec(copy, "endpoints", "delete", "california-housing-prod")


def sagespec(project, *args):
    result = run_cli(*args, cwd=project, env={"SAGESPEC_WORKSPACE": str(project / ".ws")}, timeout=900)
    return result


def ok(project, *args):
    result = sagespec(project, *args)
    assert result.returncode == 0, f"{args}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def endpoint(project, name):
    return next(e for e in json.loads(ok(project, "endpoints", "list", "--output", "json")) if e["EndpointName"] == name)


def invoke(port, body: bytes):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("POST", "/invocations", body, {"Content-Type": "text/csv"})
    response = connection.getresponse()
    answer = json.loads(response.read())
    connection.close()
    assert response.status == 200, answer
    return answer["predictions"], response.getheader("X-Amzn-Invoked-Production-Variant")


def evaluation_outputs(project, version):
    """test.csv and evaluate.py's predictions.csv of the execution that registered `version`."""
    from sagespec.backends.local.database import connect
    from sagespec.backends.local.objects import ObjectStore

    conn = connect(project / ".ws")
    store = ObjectStore(project / ".ws", conn)
    described = json.loads(ok(project, "models", "describe", PACKAGE.format(version), "--as", "deployment", "--output", "json"))
    metrics = described["package"]["model_metrics"]["ModelQuality"]["Statistics"]["S3Uri"]
    predictions = np.loadtxt(io.BytesIO(store.get(metrics.rsplit("/", 1)[0] + "/predictions.csv")), delimiter=",", skiprows=1)
    test_uri = next(u for u in store.list("s3://") if u.endswith("/PreprocessData/output/test/test.csv"))
    return store.get(test_uri).decode(), predictions


def test_train_approve_qa_prod_canary_finalize_rollback(project):
    out = ok(project, "run", "pipelines/california_housing.yaml", "--param", "TrainingEpochs=3", "--param", "AccuracyMseThreshold=100")
    assert f"registered {PACKAGE.format(1)} (PendingManualApproval)" in out

    # Pending and rejected versions never reach an endpoint.
    refused = sagespec(project, "promote", GROUP, "--stage", "qa", "--version", "1")
    assert refused.returncode == 1 and "error[E7001]" in refused.stderr and "PendingManualApproval" in refused.stderr
    ok(project, "models", "approve", PACKAGE.format(1), "--as", "deployment", "--reason", "metrics reviewed")

    # QA: a real endpoint over HTTP whose predictions are evaluate.py's for the same rows.
    out = ok(project, "promote", GROUP, "--stage", "qa")
    assert "recorded deploy of version 1 in qa" in out
    qa = endpoint(project, "california-housing-qa")
    assert qa["EndpointStatus"] == "InService" and qa["Url"].startswith("http://127.0.0.1:")
    test_csv, expected = evaluation_outputs(project, 1)
    lines = test_csv.splitlines()[1:]
    features = "\n".join(line.split(",", 1)[1] for line in lines).encode()
    predictions, variant = invoke(qa["Port"], features)
    assert variant == "v1" and len(predictions) == len(lines) == len(expected)
    np.testing.assert_allclose([p[0] for p in predictions], expected[:, 1], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose([float(line.split(",", 1)[0]) for line in lines], expected[:, 0], rtol=1e-6)
    # What a client has is a census row: the endpoint takes the data file's columns (its value left
    # out), and computes the thirteen features itself.
    census = "longitude,latitude,housingMedianAge,totalRooms,totalBedrooms,population,households,medianIncome"
    assert test_csv.splitlines()[0] == f"MedHouseVal,{census}"
    (one,), _ = invoke(qa["Port"], b"-122.23,37.88,41,880,129,322,126,8.3252")  # line 1 of cal_housing.data
    assert np.isfinite(one[0])

    out = ok(project, "endpoints", "test", "california-housing-qa")
    assert "version 1 passed QA" in out
    ok(project, "promote", GROUP, "--stage", "prod", "--yes")
    assert invoke(endpoint(project, "california-housing-prod")["Port"], features[:200].rsplit(b"\n", 1)[0])[1] == "v1"

    # A second version: trained again with more epochs, approved, rejected ones stay out.
    ok(project, "run", "pipelines/california_housing.yaml", "--param", "TrainingEpochs=4", "--param", "AccuracyMseThreshold=100")
    ok(project, "run", "pipelines/california_housing.yaml", "--param", "TrainingEpochs=4", "--param", "AccuracyMseThreshold=100")
    ok(project, "models", "reject", PACKAGE.format(3), "--as", "deployment", "--reason", "duplicate")
    rejected = sagespec(project, "promote", GROUP, "--stage", "qa", "--version", "3")
    assert rejected.returncode == 1 and "error[E7001]" in rejected.stderr and "Rejected" in rejected.stderr
    ok(project, "models", "approve", PACKAGE.format(2), "--as", "deployment", "--reason", "better")
    not_tested = sagespec(project, "promote", GROUP, "--stage", "prod", "--canary-weight", "0.1", "--yes")
    assert not_tested.returncode == 1 and "error[E7002]" in not_tested.stderr
    ok(project, "promote", GROUP, "--stage", "qa")
    assert "version 2 passed QA" in ok(project, "endpoints", "test", "california-housing-qa")

    # Canary: 10% of prod traffic goes to version 2, routed by weight.
    out = ok(project, "promote", GROUP, "--stage", "prod", "--canary-weight", "0.1", "--yes")
    assert "serving v1 90%, v2 10%" in out
    prod = endpoint(project, "california-housing-prod")
    row = features.split(b"\n", 1)[0]
    seen = Counter(invoke(prod["Port"], row)[1] for _ in range(400))
    assert set(seen) == {"v1", "v2"} and 15 <= seen["v2"] <= 80, seen  # 40 expected; 7 standard deviations apart

    out = ok(project, "promote", GROUP, "--stage", "prod", "--finalize", "--yes")
    assert "serving v1 0%, v2 100%" in out
    assert {invoke(prod["Port"], row)[1] for _ in range(30)} == {"v2"}

    # Rollback: version 1 again, alone.
    out = ok(project, "rollback", GROUP, "--stage", "prod", "--yes", "--reason", "latency regression")
    assert "recorded rollback of version 1 in prod (was version 2)" in out
    prod = endpoint(project, "california-housing-prod")
    assert [v["VariantName"] for v in prod["ProductionVariants"]] == ["v1"]
    assert {invoke(prod["Port"], row)[1] for _ in range(10)} == {"v1"}

    history = json.loads(ok(project, "deployments", "list", GROUP, "--stage", "prod", "--output", "json"))
    assert [(d["action"], d["version"], d["previous_version"]) for d in history] == [
        ("deploy", 1, None),
        ("canary", 2, 1),
        ("finalize", 2, 1),
        ("rollback", 1, 2),
    ]
    assert history[-1]["reason"] == "latency regression" and history[-1]["by"].endswith("role/sagespec-deployment")
    described = json.loads(ok(project, "models", "describe", PACKAGE.format(2), "--as", "deployment", "--output", "json"))
    assert (described["package"]["stage"], described["package"]["stage_status"]) == ("Prod", "RolledBack")
    lineage = json.loads(ok(project, "models", "lineage", PACKAGE.format(1), "--as", "deployment", "--output", "json"))["lineage"]
    assert {e["uri"] for e in lineage if e["kind"] == "endpoint"} == {
        "arn:aws:sagemaker:us-east-1:444444444444:endpoint/california-housing-qa",
        "arn:aws:sagemaker:us-east-1:555555555555:endpoint/california-housing-prod",
    }
