"""The loader: plain data with locations; findings instead of exceptions."""

import pytest

from sagespec.spec.yaml_loader import load_file, load_text


def test_values_and_keys_keep_line_and_column():
    doc, found = load_text("a:\n  b: [1, {c: x}]\n", "f.yaml")
    assert found == []
    assert doc.data == {"a": {"b": [1, {"c": "x"}]}}
    assert (doc.source.span(("a", "b", 1, "c")).line, doc.source.span(("a", "b", 1, "c")).col) == (1, 13)
    assert doc.source.span(("a", "b"), key=True).col == 2
    # a path that does not exist falls back to its nearest ancestor
    assert doc.source.span(("a", "b", 1, "missing")).line == 1


def test_merge_keys_work_and_explicit_keys_win():
    doc, found = load_text("base: &b {x: 1, y: 2}\nuse: {<<: *b, y: 3}\n", "f.yaml")
    assert found == [] and doc.data["use"] == {"x": 1, "y": 3}


def test_timestamps_stay_strings():
    doc, _ = load_text("when: 2026-01-02\n", "f.yaml")
    assert doc.data["when"] == "2026-01-02"


@pytest.mark.parametrize(
    "text, code",
    [
        ("a: 1\na: 2\n", "E0003"),
        ("a: !!python/name:os.system x\n", "E0004"),
        ("a: !!binary aGk=\n", "E0004"),
        ("a: &x [*x]\n", "E0005"),
        ("", "E0006"),
        ("a: 1\n---\nb: 2\n", "E0006"),
        ("? [1, 2]\n: x\n", "E0007"),
        ("a: 'unterminated\n", "E0002"),
        ("a: \x07\n", "E0002"),
    ],
)
def test_bad_yaml_is_a_finding(text, code):
    _, found = load_text(text, "f.yaml")
    assert [d.code for d in found] == [code]


def test_unreadable_and_non_utf8_files(tmp_path):
    _, found = load_file(tmp_path / "missing.yaml")
    assert found[0].code == "E0001"
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"name: caf\xe9\n")
    _, found = load_file(latin)
    assert found[0].code == "E0001" and (found[0].span.line, found[0].span.col) == (0, 9)
