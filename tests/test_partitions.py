"""A project in another region, or another partition, produces its own ARNs, hosts and principals
everywhere: policies, CI/CD templates, compiled definitions, the local registry and control plane.

The project is the repository's own, with its region (and, for aws-cn, the partition of the ARNs
its user wrote) changed the way its owner would: in the accounts file and the specs. Everything
sagespec writes from it is then read back and every ARN, region name and AWS host in it checked.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers import ROOT
from sagespec.aws import partitions
from sagespec.cli import cli

PROJECT_FILES = ["pipelines", "training_code", "sklearn_code", "xgboost_code", "pyproject.toml"]
SPECS = ["california_housing.yaml", "california_housing_fast.yaml", "xgboost_housing.yaml", "breast_cancer.yaml"]

ARN = re.compile(r"arn:([a-z0-9-]+):([a-z0-9-]+):([a-z0-9-]*):")
HOST = re.compile(r"\b[a-z0-9.-]+\.amazonaws\.com(?:\.cn)?\b")


def _project(tmp_path: Path, region: str, partition: str) -> Path:
    """The repository's project moved to `region`: every region its owner wrote (accounts file, specs,
    the KMS key and Lambda ARNs) rewritten, and the partition of the ARNs they wrote."""
    project = tmp_path / region
    project.mkdir()
    for name in PROJECT_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, project / name, ignore=shutil.ignore_patterns("*.tgz", "*.csv", "__pycache__"))
        else:
            shutil.copy(source, project / name)
    written_partition = partitions.of_region(partitions.DEFAULT_REGION).name
    for path in project.rglob("*"):
        if path.suffix in {".yaml", ".yml", ".json"}:
            text = path.read_text()
            moved = text.replace(partitions.DEFAULT_REGION, region).replace(f"arn:{written_partition}:", f"arn:{partition}:")
            if moved != text:
                path.write_text(moved)
    return project


def _invoke(project: Path, *args: str) -> str:
    """One sagespec command run in `project`, as its user would from that folder (in this process:
    the SDK is imported once per test worker)."""
    previous = os.getcwd()
    os.chdir(project)
    try:
        result = CliRunner().invoke(cli, list(args), prog_name="sagespec", env={"NO_COLOR": "1", "SAGESPEC_WORKSPACE": None})
    finally:
        os.chdir(previous)
    assert result.exit_code == 0, result.output
    return result.output


def _assert_in_place(text: str, where: str, region: str, partition: str) -> None:
    """Every ARN is of `partition` and `region` (or region-less), every AWS host of the partition,
    and no other region is named anywhere."""
    suffix = partitions.partition(partition).dns_suffix
    for arn_partition, service, arn_region in ARN.findall(text):
        assert arn_partition == partition, f"{where}: an ARN of partition {arn_partition!r}: arn:{arn_partition}:{service}:{arn_region}"
        assert arn_region in ("", region), f"{where}: an ARN in region {arn_region!r}: arn:{arn_partition}:{service}:{arn_region}"
    for host in set(HOST.findall(text)):
        principal = host.count(".") == 2  # <service>.amazonaws.com: a service principal, the same in every partition
        assert principal or host.endswith(f".{region}.{suffix}"), f"{where}: host {host} is not in {region} ({suffix})"
        if principal:
            service = host.split(".")[0]
            assert host == partitions.service_principal(service, partition), f"{where}: principal {host} in {partition}"
    others = {r for name in partitions.names() for r in partitions.regions(name)} - {region}
    named = {other for other in others if re.search(rf"(?<![a-z0-9-]){re.escape(other)}(?![a-z0-9-])", text)}
    assert not named, f"{where} names regions {sorted(named)}"


def _assert_tree_in_place(folder: Path, region: str, partition: str) -> int:
    files = [path for path in folder.rglob("*") if path.is_file() and not path.is_symlink()]
    for path in files:
        # latin-1 reads any bytes: the SQLite databases of the local control plane and registry too
        _assert_in_place(path.read_bytes().decode("latin-1"), str(path.relative_to(folder)), region, partition)
    return len(files)


@pytest.mark.xdist_group("partitions")
@pytest.mark.parametrize(("region", "partition"), [("eu-west-1", "aws"), ("cn-north-1", "aws-cn")])
def test_a_project_in_another_region_or_partition_writes_its_own_arns_everywhere(tmp_path, monkeypatch, region, partition):
    for key in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    project = _project(tmp_path, region, partition)

    # policies of every account, and the CI/CD templates of the deployment account
    _invoke(project, "accounts", "render", "--out", str(tmp_path / "policies"))
    assert _assert_tree_in_place(tmp_path / "policies", region, partition) >= 10
    policies = "\n".join(path.read_text() for path in (tmp_path / "policies").rglob("*.json"))
    # the KMS key is used through S3 of the project's region (kms:ViaService), by SageMaker's principal
    assert f'"{partitions.partition(partition).endpoint_host("s3", region)}"' in policies
    assert '"sagemaker.amazonaws.com"' in policies

    _invoke(project, "cicd", "render", "--out", str(tmp_path / "cicd"))
    _assert_tree_in_place(tmp_path / "cicd", region, partition)

    # the pipeline definitions SageMaker would receive: role, KMS key, images, registry ARNs
    (tmp_path / "definitions").mkdir()
    for spec in SPECS:
        _invoke(project, "compile", f"pipelines/{spec}", "-o", str(tmp_path / "definitions" / f"{spec}.json"))
    definitions = _assert_tree_in_place(tmp_path / "definitions", region, partition)
    assert definitions == len(SPECS)
    images = "\n".join(path.read_text() for path in (tmp_path / "definitions").iterdir())
    assert f".dkr.ecr.{region}.{partitions.partition(partition).dns_suffix}/" in images

    # the local registry and control plane, as the accounts of the project
    _invoke(project, "models", "create-group", "demo", "--as", "shared-services")
    registered = _invoke(
        project,
        "models",
        "register",
        "demo",
        "--as",
        "shared-services",
        "--model-data",
        "s3://sagespec-shared-artifacts-222222222222/demo/model.tar.gz",
    )
    assert f"arn:{partition}:sagemaker:{region}:222222222222:model-package/demo/1" in registered
    stored = _invoke(project, "upsert", "pipelines/california_housing.yaml", "--target", "local")
    assert f"arn:{partition}:sagemaker:{region}:111111111111:pipeline/california-housing" in stored
    assert _assert_tree_in_place(project / ".sagespec", region, partition) > 0
