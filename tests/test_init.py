"""`sagespec init`: a new project from a template that validates and runs as it is, named after
itself, and never written over anything."""

import pytest

from helpers import make_fast, run_cli, seeded_compile_cache


def test_init_scaffolds_a_project_that_validates_with_its_own_names(tmp_path):
    done = run_cli("init", str(tmp_path / "churn-model"), "--template", "tf_regression", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    project = tmp_path / "churn-model"
    assert done.stdout.splitlines()[-1] == f"next: cd {project} && sagespec validate pipelines/ && sagespec run pipelines/churn_model.yaml"
    accounts = (project / "pipelines" / "accounts.yaml").read_text()
    assert "california-housing" not in accounts and "pipelines:\n  - pipelines/churn_model.yaml\n" in accounts
    assert "model_package_groups:\n  - churn-model\n" in accounts and "prefix: churn-model" in accounts
    validated = run_cli("validate", "pipelines/", cwd=project)
    assert validated.returncode == 0, validated.stdout + validated.stderr
    rendered = run_cli("render", "pipelines/churn_model.yaml", cwd=project)
    assert "name: churn-model" in rendered.stdout
    assert "arn:aws:sagemaker:us-east-1:222222222222:model-package-group/churn-model" in rendered.stdout
    # What the spec says of itself is the new project's, not the bundled California project's.
    spec = (project / "pipelines" / "churn_model.yaml").read_text()
    assert "California" not in spec and "# churn-model: a pipeline of the tf_regression template" in spec
    assert 'description: "churn-model: TensorFlow regression pipeline with an MSE quality gate."' in spec


@pytest.mark.slow
def test_a_scaffolded_project_runs_and_registers(tmp_path):
    assert run_cli("init", str(tmp_path / "churn-model"), cwd=tmp_path).returncode == 0
    # The scaffolded template and spec, on 1,500 rows and one network (`make run` trains on all).
    project = make_fast(tmp_path / "churn-model", "churn_model.yaml")
    seeded_compile_cache(project / ".sagespec", project, "pipelines/churn_model.yaml")
    done = run_cli("run", "pipelines/churn_model.yaml", cwd=project, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "registered arn:aws:sagemaker:us-east-1:222222222222:model-package/churn-model/1 (PendingManualApproval)" in done.stdout


@pytest.mark.parametrize(
    "args, says",
    [
        (("--template", "lstm"), "no template 'lstm'; the templates are: sklearn_classification, tf_regression, xgboost_regression"),
        (("--name", "-bad-"), "'-bad-' cannot name a pipeline and its model package group"),
    ],
    ids=["unknown template", "bad name"],
)
def test_init_refuses_what_cannot_be_scaffolded(tmp_path, args, says):
    done = run_cli("init", str(tmp_path / "p"), *args, cwd=tmp_path)
    assert done.returncode == 2 and says in done.stderr and not (tmp_path / "p").exists()


def test_init_writes_over_nothing(tmp_path):
    project = tmp_path / "existing"
    project.mkdir()
    (project / "notes.txt").write_text("mine\n")
    done = run_cli("init", str(project), cwd=tmp_path)
    assert done.returncode == 2 and "error[E6012]" in done.stderr and "is not an empty folder" in done.stderr
    assert sorted(p.name for p in project.iterdir()) == ["notes.txt"] and (project / "notes.txt").read_text() == "mine\n"


OWN_DATA_SPEC = """\
template:
  name: tf_regression
  params:
    pipeline_name: house-prices
    region: "{{ accounts.region }}"
    role: "{{ accounts.data_science.role_arn }}"
    bucket: "{{ accounts.artifacts.bucket }}"
    bucket_prefix: "{{ accounts.artifacts.prefix }}"
    kms_key: "{{ accounts.artifacts.kms_key }}"
    model_package_group: "{{ accounts.model_package_groups['house-prices'] }}"
    input_data: s3://sagespec-shared-artifacts-222222222222/house-prices/datasets/houses.csv
    target: price
    epochs: 30
    batch_size: 32
    learning_rate: 0.01
    mse_threshold: 0.5
    notify_function_arn: arn:aws:lambda:us-east-1:111111111111:function:notify
"""


@pytest.mark.slow
def test_a_project_on_its_own_csv_runs_from_the_tensorflow_template(tmp_path):
    """A new dataset: put into the local object store with `data put`, described only by its
    header and its target column; nothing of California is left in the path."""
    import numpy as np

    assert run_cli("init", str(tmp_path / "house-prices"), "--template", "tf_regression", cwd=tmp_path).returncode == 0
    project = tmp_path / "house-prices"
    (project / "pipelines" / "house_prices.yaml").write_text(OWN_DATA_SPEC)
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(600, 3))
    price = 3 * x[:, 0] - 2 * x[:, 1] + 0.1 * rng.normal(size=600)
    table = "rooms,distance,age,price\n" + "".join(f"{a:.4f},{b:.4f},{c:.4f},{p:.4f}\n" for (a, b, c), p in zip(x, price))
    (tmp_path / "houses.csv").write_text(table)
    put = run_cli(
        "data",
        "put",
        str(tmp_path / "houses.csv"),
        "s3://sagespec-shared-artifacts-222222222222/house-prices/datasets/houses.csv",
        cwd=project,
    )
    assert put.returncode == 0, put.stdout + put.stderr
    seeded_compile_cache(project / ".sagespec", project, "pipelines/house_prices.yaml")
    done = run_cli("run", "pipelines/house_prices.yaml", cwd=project, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "seeded" not in done.stdout  # the data came from `data put`, not from pipelines/data/
    assert "registered arn:aws:sagemaker:us-east-1:222222222222:model-package/house-prices/1 (PendingManualApproval)" in done.stdout
