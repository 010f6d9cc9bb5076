"""A tuning step on the built-in XGBoost algorithm optimises one of the metrics the algorithm
reports ("Tune an XGBoost model"); any other is refused before the upsert, as SageMaker refuses it."""

import shutil
from pathlib import Path

import pytest

from helpers import assert_located_mistake

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "notebook_style" / "abalone_builtin"


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    folder = tmp_path_factory.mktemp("builtin") / "abalone"
    shutil.copytree(FIXTURE, folder, ignore=shutil.ignore_patterns(".sagespec", "abalone.csv"))
    return folder


def test_the_fixture_is_valid(project):
    from sagespec.spec.load import load_spec

    # valid; its one warning is the notebook's Elastic Inference accelerator (W4004)
    assert [d.code for d in load_spec(project / "pipelines" / "abalone.yaml").diagnostics] == ["W4004"]


@pytest.mark.parametrize("metric", ["validation:r2", "rmse", "test:rmse", "validation:rmsle"])
def test_an_objective_the_algorithm_does_not_report_is_a_located_error(project, metric):
    spec = (project / "pipelines" / "abalone.yaml").read_text()
    assert_located_mistake(
        project,
        spec,
        'metric: "validation:rmse"',
        f'metric: "{metric}"',
        "E4017",
        f"optimises '{metric}', which the built-in XGBoost algorithm does not report",
        "objective:",
    )


@pytest.mark.parametrize("metric", ["validation:auc", "train:mae", "validation:f1", "validation:ndcg"])
def test_each_documented_metric_may_be_the_objective(project, metric):
    from sagespec.spec.load import load_spec

    path = project / "pipelines" / f"ok-{metric.replace(':', '-')}.yaml"
    path.write_text((project / "pipelines" / "abalone.yaml").read_text().replace('metric: "validation:rmse"', f'metric: "{metric}"'))
    assert [d.code for d in load_spec(path).diagnostics] == ["W4004"]


def test_a_range_is_a_hyperparameter_of_the_container_version_and_may_carry_num_round(project):
    """A tuning job sets each range as a hyperparameter of its training jobs: it must be one the
    container version takes, and num_round given as a range is num_round given."""
    from sagespec.spec.load import load_spec

    spec = (project / "pipelines" / "abalone.yaml").read_text()
    assert "        max_depth: {type: integer, min: 2, max: 6}\n" in spec
    assert_located_mistake(
        project,
        spec,
        "        max_depth: {type: integer, min: 2, max: 6}\n",
        "        max_depth: {type: integer, min: 2, max: 6}\n        max_dept: {type: integer, min: 2, max: 6}\n",
        "E4014",
        "range 'max_dept' is not a hyperparameter of the built-in xgboost algorithm 1.0-1",
        "max_dept",
    )
    ranged = project / "pipelines" / "ranged-rounds.yaml"
    ranged.write_text(
        spec.replace("      num_round: 30\n", "").replace(
            "        max_depth: {type: integer, min: 2, max: 6}\n",
            "        max_depth: {type: integer, min: 2, max: 6}\n        num_round: {type: integer, min: 20, max: 60}\n",
        )
    )
    assert [d.code for d in load_spec(ranged).diagnostics] == ["W4004"]
