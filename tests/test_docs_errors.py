"""The error-code reference (docs/reference/errors.md) has every code of the diagnostics catalogue:
a section under its stage, with an example whose output shows the code, or a stated reason there is
none. A code added to the catalogue without a docs entry fails here (tests/test_docs.py checks the
examples are what running them gives now)."""

from __future__ import annotations

import re
import sys

import pytest

from helpers import ROOT
from sagespec.diagnostics.catalog import RULES, TITLES_BY_STAGE

PAGE = ROOT / "docs" / "reference" / "errors.md"
STAGE = re.compile(r"^## (?P<prefix>[EW]\d): (?P<title>.+) \{#(?P<anchor>[ew]\d)\}$")
CODE = re.compile(r"^### (?P<code>[EW]\d{4}): (?P<title>.+) \{#(?P<anchor>[ew]\d{4})\}$")


def sections() -> dict[str, tuple[str, str]]:
    """code -> (the stage heading it is under, its section's text)."""
    found: dict[str, tuple[str, str]] = {}
    stage, code, lines = "", None, []
    for line in [*PAGE.read_text(encoding="utf-8").splitlines(), "## end"]:
        if line.startswith("## ") or line.startswith("### "):
            if code is not None:
                assert code not in found, f"{code} has two sections"
                found[code] = (stage, "\n".join(lines))
            code, lines = None, []
            if m := STAGE.match(line):
                assert m["anchor"] == m["prefix"].lower(), line
                stage = m["prefix"]
                assert m["title"] == TITLES_BY_STAGE.get(stage), (
                    f"stage {stage} is titled {m['title']!r}, the catalogue says {TITLES_BY_STAGE.get(stage)!r}"
                )
            elif m := CODE.match(line):
                assert m["anchor"] == m["code"].lower(), line
                code = m["code"]
            elif line.startswith("## "):
                stage = ""
        elif code is not None:
            lines.append(line)
    return found


SECTIONS = sections()


def test_every_code_of_the_catalogue_has_a_section_and_no_other_code_has_one():
    assert sorted(set(RULES) - set(SECTIONS)) == [], (
        "codes without a section in docs/reference/errors.md (docs/_gen/errors.py: add an example)"
    )
    assert sorted(set(SECTIONS) - set(RULES)) == [], "sections for codes the catalogue does not have"


@pytest.mark.parametrize("code", sorted(RULES))
def test_each_code_is_under_its_stage_with_an_example_or_a_reason(code):
    stage, text = SECTIONS.get(code, ("", ""))
    assert stage == code[:2], f"{code} is under stage {stage or 'none'}"
    shown = re.search(rf"(error|warning)\[{code}\]", text)
    reason = re.search(r"\*\*Not run here\.\*\* \S.{40,}", text)
    assert shown or reason, f"{code}: no example output with [{code}] and no stated reason"
    if shown:
        assert "**Fix.**" in text, f"{code}: the example says no fix"


def test_the_index_table_lists_every_code_linked_to_its_section():
    text = PAGE.read_text(encoding="utf-8")
    for code, meaning in RULES.items():
        assert f"| [{code}](#{code.lower()}) | {meaning} |" in text, code


def test_the_generator_has_an_entry_for_every_code():
    sys.path.insert(0, str(ROOT / "docs" / "_gen"))
    import errors

    assert errors.missing_entries() == []
