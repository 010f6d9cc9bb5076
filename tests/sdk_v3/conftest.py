"""These tests need SDK v3 installed: `make test` runs them in `.venv-v3`; elsewhere they skip."""

import sys
from pathlib import Path

import pytest

from sagespec.compiler.sdk import installed, installed_version

# The botocore service-model check of tests/compiler/test_service_model.py serves both SDKs' definitions.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "compiler"))


def pytest_collection_modifyitems(config, items):
    if installed() == "v3":
        return
    skip = pytest.mark.skip(
        reason=f"needs SageMaker Python SDK v3 (this environment has sagemaker {installed_version()}): make test runs it in .venv-v3"
    )
    for item in items:
        if "sdk_v3" in item.nodeid:
            item.add_marker(skip)
