"""The docs say what the code does: every generated part of README.md and docs/ is what running
it gives now (a changed CLI output fails here with its diff). `make docs` builds the site strictly.

Each page is regenerated in this test process's worker (docs/_gen/cogdocs.py); the pages that
run a pipeline are the slow ones, marked so."""

from __future__ import annotations

import re
import sys

import pytest

from helpers import ROOT

sys.path.insert(0, str(ROOT / "docs" / "_gen"))
import cogdocs  # noqa: E402

# A page that runs commands in the SDK v3 environment (Session(..., sagespec=.venv-v3/...)) is
# checked once that environment exists: `make test` runs it after the v3 install (marker v3env).
NEEDS_V3_ENV = re.compile(r"Session\([^)]*\.venv-v3")
PAGES = [
    pytest.param(p, id=str(p.relative_to(ROOT)), marks=[pytest.mark.v3env] if NEEDS_V3_ENV.search(p.read_text(encoding="utf-8")) else [])
    for p in cogdocs.pages()
]


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)
def test_each_generated_part_is_what_running_it_gives_now(page):
    diff = cogdocs.difference(page)
    assert diff == "", f"{page.relative_to(ROOT)} is stale: run `make docs-update` and read the diff:\n{diff}"


def test_readme_is_a_short_door():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.encode()) <= 12 * 1024, f"README.md is {len(readme.encode())} bytes; its details belong in docs/"
    assert "make run" in readme and "make test" in readme
