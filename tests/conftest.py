import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

# Test modules in every folder import shared helpers from tests/helpers.py.
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")

# One compile cache for the whole test run (see helpers.seeded_compile_cache). Made by the process
# that starts the run, before any xdist worker: the workers inherit its environment.
COMPILE_CACHE_ENV = "SAGESPEC_TEST_COMPILE_CACHE"


def pytest_configure(config):
    if not hasattr(config, "workerinput") and COMPILE_CACHE_ENV not in os.environ:
        config.sagespec_compile_cache = tempfile.mkdtemp(prefix="sagespec-test-compile-cache-")
        os.environ[COMPILE_CACHE_ENV] = config.sagespec_compile_cache


def pytest_unconfigure(config):
    folder = getattr(config, "sagespec_compile_cache", None)
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
        os.environ.pop(COMPILE_CACHE_ENV, None)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Under `--dist loadgroup`, xdist gives each grouped test's nodeid an `@group` suffix and
    sends a group to one worker. A pytest that ignores the suffix (9.2 with xdist 3.8) would split
    the groups silently (each worker running their module fixtures again): say so instead."""
    if not (hasattr(config, "workerinput") and config.getvalue("loadgroup")):
        return
    ungrouped = [item.nodeid for item in items if item.get_closest_marker("xdist_group") and "@" not in item.nodeid]
    if ungrouped:
        raise pytest.UsageError(
            f"pytest-xdist's loadgroup did not group {ungrouped[0]} (pytest and pytest-xdist disagree: see pyproject.toml's test extra)"
        )
