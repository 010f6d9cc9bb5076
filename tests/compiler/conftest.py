from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def housing_result():
    from sagespec.spec.load import load_spec

    result = load_spec(ROOT / "pipelines" / "california_housing.yaml")
    assert result.ok
    return result


@pytest.fixture(scope="session")
def housing(housing_result):
    """The California housing pipeline compiled once per test session (no cache)."""
    from sagespec.compiler import compile_spec

    return compile_spec(housing_result)
