"""The accounts file is checked for meaning: each finding located on the line that causes it."""

import pytest

from helpers import ROOT
from sagespec.spec.topology import validate_accounts_file

ACCOUNTS = (ROOT / "pipelines" / "accounts.yaml").read_text()


@pytest.mark.parametrize(
    "old, new, says",
    [
        ('id: "333333333333"', 'id: "111111111111"', "have the same ID 111111111111"),
        ('id: "555555555555"', 'id: "444444444444"', "accounts qa and prod have the same ID"),
        ("kms_key: arn:aws:kms:us-east-1:", "kms_key: arn:aws:kms:eu-west-1:", "the KMS key is in region 'eu-west-1'"),
        ("kms_key: arn:aws:kms:us-east-1:222222222222:", "kms_key: arn:aws:kms:us-east-1:999999999999:", "belongs to account 999999999999"),
        ("kms_key: arn:aws:", "kms_key: arn:aws-cn:", "partition 'aws-cn'"),
        ("prefix: california-housing", 'prefix: "california-*"', "has a wildcard"),
        ("region: us-east-1", "region: us-nowhere-1", "has no SageMaker in partition 'aws'"),
        (
            "model_package_groups:\n  - california",
            'pipelines: ["/etc/passwd"]\nmodel_package_groups:\n  - california',
            "'/etc/passwd' leaves the project",
        ),
        (
            "model_package_groups:\n  - california",
            'pipelines: ["../other/x.yaml"]\nmodel_package_groups:\n  - california',
            "leaves the project",
        ),
    ],
)
def test_inconsistent_topologies_are_located_errors(tmp_path, old, new, says):
    assert old in ACCOUNTS
    text = ACCOUNTS.replace(old, new, 1)
    path = tmp_path / "accounts.yaml"
    path.write_text(text)
    _, found = validate_accounts_file(path, tmp_path)
    hits = [d for d in found if d.code == "E4012" and says in d.message]
    assert hits, [d.message for d in found]
    assert hits[0].span.line + 1 == ACCOUNTS[: ACCOUNTS.index(old)].count("\n") + 1  # the line that was changed


def test_the_key_must_be_in_the_account_that_owns_the_artifacts(tmp_path):
    path = tmp_path / "accounts.yaml"
    path.write_text(ACCOUNTS.replace("  bucket: sagespec-shared", "  owner: data_science\n  bucket: sagespec-shared"))
    _, found = validate_accounts_file(path, tmp_path)
    (finding,) = found
    assert "belongs to account 222222222222, not to data science (111111111111), which owns the artifacts" in finding.message
    assert finding.path == ("artifacts", "kms_key")


def test_the_bundled_topology_is_consistent():
    _, found = validate_accounts_file(ROOT / "pipelines" / "accounts.yaml", ROOT)
    assert found == []


def test_a_registration_into_a_group_the_accounts_file_does_not_name_is_located(tmp_path):
    from helpers import fast_project_copy
    from sagespec.spec.load import load_spec

    project = fast_project_copy(tmp_path)
    spec = project / "pipelines" / "california_housing_fast.yaml"
    assert load_spec(spec, project).ok  # its experiments group is declared under accounts.data_science
    spec.write_text(spec.read_text().replace("model_package_group: california-housing-experiments", "model_package_group: nowhere-group"))
    found = [d for d in load_spec(spec, project).diagnostics if d.code == "E4013"]
    assert len(found) == 1 and "'nowhere-group' of account 111111111111" in found[0].message
    assert "accounts.data_science.model_package_groups" in found[0].hint


def test_validate_warns_when_a_cross_account_step_registers_as_approved(tmp_path):
    from sagespec.spec.load import load_spec

    spec = tmp_path / "s.yaml"
    text = (ROOT / "tests/spec/fixtures/good/minimal.yaml").read_text()
    spec.write_text(text.replace("    content_types: [text/csv]", "    approval_status: Approved\n    content_types: [text/csv]"))
    found = [d for d in load_spec(spec, ROOT).diagnostics if d.code == "W4002"]
    assert len(found) == 1 and found[0].severity == "warning" and "only the deployment account approves" in found[0].message


@pytest.mark.parametrize("content", ["- data_science\n- shared_services\n", "just a string\n"])
def test_an_accounts_file_that_is_no_mapping_is_a_located_error_for_every_command(tmp_path, content):
    """`--as`, the region and template params read the accounts file without the schema check;
    a list or a string there is the file's error, not a crash."""
    from helpers import run_cli

    (tmp_path / "pipelines").mkdir()
    (tmp_path / "pipelines" / "accounts.yaml").write_text(content)
    (tmp_path / "pyproject.toml").write_text("")
    done = run_cli("models", "list", "g", "--as", "shared-services", cwd=tmp_path, env={"SAGESPEC_WORKSPACE": str(tmp_path / "ws")})
    assert done.returncode != 0
    assert "pipelines/accounts.yaml" in done.stderr and "Traceback" not in done.stderr, done.stderr
