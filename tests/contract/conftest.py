"""The contract suite: the same test bodies against every backend, each opened the way a command
opens it (a Context and sagespec.backends.factory).

- local: the embedded control plane in a temporary workspace.
- sagemaker: boto3 against moto (`mock_aws`, dummy credentials, nothing leaves the process).
  Where moto lacks an API the test plays SageMaker's answer with botocore's Stubber and says so.

A new backend passes by implementing the protocols of sagespec.backends.protocols and adding its
name to TARGETS below.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers import ROOT, fake_aws_credentials
from sagespec.backends import factory
from sagespec.backends.protocols import Hosting, Objects, Pipelines, Registry
from sagespec.context import Context

TARGETS = {"local": "local", "sagemaker": "aws"}


@dataclass
class Backend:
    """One target's services, as a command gets them from the factory."""

    name: str  # local | sagemaker
    ctx: Context

    def registry(self, as_: str = "shared-services") -> Registry:
        return factory.open_registry(self.ctx, as_)

    @property
    def pipelines(self) -> Pipelines:
        return factory.open_pipelines(self.ctx)

    @property
    def objects(self) -> Objects:
        return factory.open_objects(self.ctx)

    def hosting(self, account: str = "qa") -> Hosting:
        return factory.open_hosting(self.ctx, self.ctx.topology().find(account))


def _project(tmp_path: Path) -> Path:
    """The repository's accounts file in a project of its own, without named profiles: on the
    sagemaker target every account is the one moto's dummy credentials reach."""
    project = tmp_path / "project"
    (project / "pipelines").mkdir(parents=True)
    text = (ROOT / "pipelines" / "accounts.yaml").read_text()
    (project / "pipelines" / "accounts.yaml").write_text("\n".join(line for line in text.splitlines() if "profile:" not in line) + "\n")
    shutil.copy(ROOT / "pyproject.toml", project / "pyproject.toml")
    return project


@pytest.fixture(params=list(TARGETS))
def backend(request, tmp_path, monkeypatch):
    fake_aws_credentials(monkeypatch)
    ctx = Context.at(_project(tmp_path), tmp_path / "ws", target=TARGETS[request.param])
    if request.param == "local":
        yield Backend(request.param, ctx)
        return
    from moto import mock_aws

    with mock_aws():
        yield Backend(request.param, ctx)


@pytest.fixture
def registry(backend) -> Registry:
    """The registry as the shared-services account (the owner of the shared groups)."""
    return backend.registry()
