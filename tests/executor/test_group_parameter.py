"""The model package group as a pipeline parameter (sagemaker-python-sdk issue 4139): the bundled
template registers into ${params.ModelPackageGroup}. Checks and rendered policies use its default;
an execution registers where its value says, and is decided by IAM with that value."""

import re

import pytest

from helpers import fast_project_copy, run_cli, seeded_compile_cache

SHARED = "arn:aws:sagemaker:us-east-1:222222222222:model-package-group/california-housing"


def _template_with(project, old: str, new: str):
    template = project / "pipelines" / "templates" / "tf_regression.yaml"
    text = template.read_text()
    assert old in text
    template.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize(
    "old, new, code, says",
    [
        (
            "    ModelPackageGroup:\n      type: String\n",
            "    ModelPackageGroup:\n      type: Integer\n",
            "E4016",
            "parameter 'ModelPackageGroup' names a model package group: it must be a String",
        ),
        (
            '      default: "{{ model_package_group }}"\n      description: Where',
            '      default: "not a group!"\n      description: Where',
            "E4016",
            "its default must be a group name or ARN",
        ),
        (
            '      default: "{{ model_package_group }}"\n      description: Where',
            '      default: "arn:aws:sagemaker:us-east-1:222222222222:model-package-group/unlisted"\n      description: Where',
            "E4013",
            "model package group 'unlisted' of account 222222222222 is not in the accounts file",
        ),
    ],
    ids=["not a string", "not a group", "not in the accounts file"],
)
def test_a_group_parameter_is_checked_through_its_default_where_it_is_written(tmp_path, old, new, code, says):
    project = fast_project_copy(tmp_path)
    _template_with(project, old, new)
    done = run_cli("validate", "pipelines/california_housing.yaml", cwd=project)
    assert done.returncode == 1 and says in done.stdout, done.stdout
    assert re.search(rf"templates/tf_regression\.yaml:\d+:\d+: error\[{code}\]", done.stdout), done.stdout


@pytest.mark.slow
def test_an_execution_registers_where_its_parameter_says_and_iam_decides_with_it(tmp_path):
    project = fast_project_copy(tmp_path)
    ws = ["--workspace", str(seeded_compile_cache(tmp_path / "ws", project))]
    # The roles are derived from every pipeline of the accounts file, as on AWS: the grant to
    # register into the shared group comes from california_housing.yaml, which registers there.
    applied = run_cli("accounts", "apply", "--target", "local", *ws, cwd=project)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    # The fast spec registers into the team's own group by default; this execution, into the shared one.
    done = run_cli("run", "pipelines/california_housing_fast.yaml", "--param", f"ModelPackageGroup={SHARED}", *ws, cwd=project, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "registered arn:aws:sagemaker:us-east-1:222222222222:model-package/california-housing/1 (PendingManualApproval)" in done.stdout
    unlisted = "arn:aws:sagemaker:us-east-1:222222222222:model-package-group/unlisted"
    done = run_cli(
        "run", "pipelines/california_housing_fast.yaml", "--param", f"ModelPackageGroup={unlisted}", *ws, cwd=project, timeout=600
    )
    assert done.returncode == 1
    assert (
        "is not authorized to perform: sagemaker:CreateModelPackage on resource: "
        "arn:aws:sagemaker:us-east-1:222222222222:model-package/unlisted/* because no resource-based policy allows"
    ) in done.stderr
