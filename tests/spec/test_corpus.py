"""The malformed-spec corpus: every file yields its expected rule at its marked line, and never a traceback.

Each file under fixtures/bad/ starts with `# expect: CODE` and marks the line the error must
point at with a trailing `# <- CODE` comment, so expected lines stay right when a file is edited.
"""

import re
from pathlib import Path

import pytest

from sagespec.spec.load import load_spec

FIXTURES = Path(__file__).parent / "fixtures"
BAD = sorted((FIXTURES / "bad").glob("*.yaml"))
ROOT = Path(__file__).resolve().parents[2]


def expectations(path: Path) -> tuple[str, int | None]:
    text = path.read_text()
    code = re.search(r"# expect: (\w+)", text).group(1)
    for number, line in enumerate(text.splitlines(), start=1):
        if re.search(rf"# <- {code}\b", line):
            return code, number
    return code, None


def test_corpus_is_big_enough():
    assert len(BAD) >= 40


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_bad_spec_reports_expected_rule_at_marked_line(path):
    code, line = expectations(path)
    result = load_spec(path, ROOT)
    assert not result.ok
    found = [(d.code, d.span.line + 1) for d in result.diagnostics]
    assert any(c == code for c, _ in found), f"expected {code}, got {found}"
    if line is not None:
        assert (code, line) in found, f"expected {code} at line {line}, got {found}"
    for d in result.diagnostics:
        assert d.span.file and d.span.line >= 0 and d.span.col >= 0
        assert d.message and "Traceback" not in d.message


@pytest.mark.parametrize("path", sorted((FIXTURES / "good").glob("*.yaml")), ids=lambda p: p.stem)
def test_good_spec_is_valid(path):
    result = load_spec(path, ROOT)
    assert result.ok, [f"{d.code} {d.span.line + 1}: {d.message}" for d in result.diagnostics]


def test_parallel_validation_reports_exactly_what_serial_does():
    from sagespec.spec.load import PARALLEL_THRESHOLD, validate_files

    files = BAD + BAD[: max(0, PARALLEL_THRESHOLD - len(BAD))]
    assert len(files) >= PARALLEL_THRESHOLD
    serial = validate_files(files, ROOT, jobs=1)
    parallel = validate_files(files, ROOT, jobs=2)
    assert parallel == serial
    assert serial[1] == len(files)  # every corpus file is invalid
