"""A transform step runs locally as SageMaker's batch transform does: every object under the input
prefix becomes `<name>.out`, records split by line and batched by strategy, the data-processing
filters and the join applied as "Associate Prediction Results with Input Records" documents."""

import json
import re

import pytest

from helpers import data_science_spec, fast_project_copy, run_cli, seeded_compile_cache

# End to end: `make test-fast` leaves these out, `make test` runs them.
# One xdist worker takes the module: its module fixture runs once per test run, not once per worker.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("transform_local")]

TRAIN = """
import argparse, os, pickle
import numpy as np
from sklearn.linear_model import LinearRegression
argparse.ArgumentParser().parse_args()
data = np.loadtxt(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "train.csv"), delimiter=",")
model = LinearRegression().fit(data[:, 1:], data[:, 0])
with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.pkl"), "wb") as handle:
    pickle.dump(model, handle)
"""

# Counts the requests it gets, so the test can tell MultiRecord from SingleRecord.
INFERENCE = """
import os, pickle
import numpy as np

LOG = []

def model_fn(model_dir):
    LOG.append(os.environ["REQUEST_LOG"])  # the container's environment, read when the model loads
    with open(os.path.join(model_dir, "model.pkl"), "rb") as handle:
        return pickle.load(handle)

def predict_fn(data, model):
    with open(LOG[0], "a") as log:
        log.write(f"{np.atleast_2d(data).shape[0]}\\n")
    return np.round(model.predict(np.atleast_2d(data)), 6)
"""

BUCKET = "s3://sagespec-ds-experiments-111111111111"
STEPS = f"""- name: Train
  kind: training
  estimator: {{framework: sklearn, framework_version: 1.2-1, instance_type: ml.m5.large}}
  source_dir: linear_code
  entry_point: train.py
  inputs:
  - {{name: train, source: "${{params.TrainData}}", content_type: text/csv}}
- name: CreateModel
  kind: create_model
  model:
    training_step: Train
    source_dir: linear_code
    entry_point: inference.py
    environment: {{REQUEST_LOG: "{{log}}"}}
  instance_type: ml.m5.large
- name: ScoreCsv
  kind: transform
  model_step: CreateModel
  instance_type: ml.m5.large
  input: {{source: {BUCKET}/batch/csv/, content_type: text/csv, split_type: Line}}
  output_path: {BUCKET}/scored/csv
  accept: text/csv
  assemble_with: Line
  strategy: MultiRecord
  input_filter: "$[1:]"
  join_source: Input
  output_filter: "$[0,-1]"
- name: ScoreJson
  kind: transform
  model_step: CreateModel
  instance_type: ml.m5.large
  input: {{source: {BUCKET}/batch/json/records.jsonl, content_type: application/json, split_type: Line}}
  output_path: {BUCKET}/scored/json
  accept: application/json
  assemble_with: Line
  strategy: SingleRecord
  input_filter: "$.features"
  join_source: Input
  output_filter: "$['id','SageMakerOutput']"
  depends_on: [ScoreCsv]
"""


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("transform")
    project = fast_project_copy(tmp_path)
    rows = "\n".join(f"{2 * a + 3 * b + 1},{a},{b}" for a in range(10) for b in range(5))
    (project / "pipelines" / "data" / "train.csv").write_text(rows + "\n")
    (project / "linear_code").mkdir()
    (project / "linear_code" / "train.py").write_text(TRAIN)
    (project / "linear_code" / "inference.py").write_text(INFERENCE)
    requests = tmp_path / "requests.log"
    spec = data_science_spec(
        "transform-local", "transform", {"TrainData": f"{BUCKET}/datasets/train.csv"}, STEPS.replace("{log}", str(requests))
    )
    (project / "pipelines" / "transform.yaml").write_text(spec)
    batch = tmp_path / "batch"
    (batch / "csv" / "part").mkdir(parents=True)
    (batch / "csv" / "first.csv").write_text("".join(f"{2 * a + 3 * a + 1},{a},{a}\n" for a in range(5)))
    (batch / "csv" / "part" / "second.csv").write_text("99,1,1\n99,2,0\n")
    (batch / "json").mkdir()
    (batch / "json" / "records.jsonl").write_text("".join(json.dumps({"id": i, "features": [i, 1], "note": "x"}) + "\n" for i in range(3)))
    workspace = str(seeded_compile_cache(tmp_path / "ws", project, "pipelines/transform.yaml"))
    for folder in ("csv", "json"):
        put = run_cli("data", "put", str(batch / folder), f"{BUCKET}/batch/{folder}/", "--workspace", workspace, cwd=project)
        assert put.returncode == 0, put.stdout + put.stderr
    done = run_cli("run", "pipelines/transform.yaml", "--workspace", workspace, cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr

    from sagespec.backends.local.database import connect
    from sagespec.backends.local.objects import ObjectStore

    store = ObjectStore(tmp_path / "ws", connect(tmp_path / "ws"))
    outputs = {uri: store.get(uri).decode() for uri in store.list(f"{BUCKET}/scored/")}
    return done, outputs, requests.read_text().split()


def test_every_object_under_the_prefix_becomes_its_name_dot_out(scored):
    _, outputs, _ = scored
    assert sorted(outputs) == [
        f"{BUCKET}/scored/csv/first.csv.out",
        f"{BUCKET}/scored/csv/part/second.csv.out",
        f"{BUCKET}/scored/json/records.jsonl.out",
    ]


def test_csv_records_are_filtered_joined_and_assembled_by_line(scored):
    _, outputs, _ = scored
    # $[1:] sends the features; the join puts the answer after the record; $[0,-1] keeps the
    # first column (the true value) and the last (the prediction): y = 2a + 3b + 1.
    first = [line.split(",") for line in outputs[f"{BUCKET}/scored/csv/first.csv.out"].splitlines()]
    assert [(float(t), round(float(p), 3)) for t, p in first] == [(5 * a + 1, 5 * a + 1) for a in range(5)]
    second = outputs[f"{BUCKET}/scored/csv/part/second.csv.out"].splitlines()
    assert [round(float(line.split(",")[1]), 3) for line in second] == [6.0, 5.0] and all(line.startswith("99,") for line in second)


def test_json_records_join_under_sagemaker_output_and_the_filter_keeps_the_named_keys(scored):
    _, outputs, _ = scored
    lines = [json.loads(line) for line in outputs[f"{BUCKET}/scored/json/records.jsonl.out"].splitlines()]
    assert [sorted(line) for line in lines] == [["SageMakerOutput", "id"]] * 3
    assert [(line["id"], round(line["SageMakerOutput"][0], 3)) for line in lines] == [(i, 2 * i + 3 + 1) for i in range(3)]


def test_multi_record_batches_records_and_single_record_sends_one_each(scored):
    _, _, requests = scored
    # ScoreCsv ran first (ScoreJson depends on it): one request per object, then one per JSON record.
    assert requests == ["5", "2", "1", "1", "1"]


def test_the_step_reports_where_it_wrote(scored):
    done, _, _ = scored
    assert re.search(rf"\[ok\] ScoreCsv\s+Succeeded\s+\S+\s+{BUCKET}/scored/csv", done.stdout)
