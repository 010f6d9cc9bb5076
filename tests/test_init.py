"""`sagespec init`: a new project from a template that validates and runs as it is, named after
itself, and never written over anything."""

import pytest

from helpers import run_cli


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


@pytest.mark.slow
def test_a_scaffolded_project_runs_and_registers(tmp_path):
    assert run_cli("init", str(tmp_path / "churn-model"), cwd=tmp_path).returncode == 0
    project = tmp_path / "churn-model"
    done = run_cli("run", "pipelines/churn_model.yaml", cwd=project, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "registered arn:aws:sagemaker:us-east-1:222222222222:model-package/churn-model/1 (PendingManualApproval)" in done.stdout


@pytest.mark.parametrize(
    "args, says",
    [
        (("--template", "lstm"), "no template 'lstm'; the templates are: tf_regression"),
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
