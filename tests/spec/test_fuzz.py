"""Fuzzing: mutated specs always produce located diagnostics, never an exception."""

import copy
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sagespec.spec.load import load_spec

ROOT = Path(__file__).resolve().parents[2]
BASE = load_spec(ROOT / "pipelines" / "california_housing.yaml").document.data
BASE_TEXT = (ROOT / "tests" / "spec" / "fixtures" / "good" / "minimal.yaml").read_text()

JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(
        [
            "${params.Nope}",
            "${steps.X.outputs.y}",
            "${",
            "$${x}",
            "ml.m5.xlarge",
            "arn:aws:iam::1:role/x",
            "s3://b/k",
            "PendingManualApproval",
            "training",
        ]
    ),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


def paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from paths(v, prefix + (i,))


ALL_PATHS = [p for p in paths(BASE) if p]
MUTATIONS = st.lists(
    st.tuples(
        st.sampled_from(ALL_PATHS),
        st.sampled_from(["delete", "replace", "add_key", "duplicate"]),
        JUNK,
        st.text(min_size=1, max_size=8),
    ),
    min_size=1,
    max_size=4,
)


def mutate(data, path, action, junk, key):
    data = copy.deepcopy(data)
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if action == "delete":
        del parent[last]
    elif action == "replace":
        parent[last] = junk
    elif action == "add_key" and isinstance(parent[last], dict):
        parent[last][key] = junk
    elif action == "duplicate" and isinstance(parent, list):
        parent.append(copy.deepcopy(parent[last]))
    return data


def check(tmp_path, text):
    path = tmp_path / "fuzz.yaml"
    path.write_text(text)
    result = load_spec(path, ROOT)
    lines = max(1, text.count("\n") + 1)
    for d in result.diagnostics:
        assert d.span.line >= 0 and d.span.col >= 0 and d.message
        if d.span.file == "fuzz.yaml" or d.span.file.endswith("/fuzz.yaml"):
            assert d.span.line < lines + 1
    return result


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(MUTATIONS)
def test_structural_mutations_never_crash(tmp_path, mutations):
    data = BASE
    for path, action, junk, key in mutations:
        try:
            data = mutate(data, path, action, junk, key)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed the path
    check(tmp_path, yaml.safe_dump(data, sort_keys=False))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(0, len(BASE_TEXT) - 1), st.integers(0, 20), st.text(alphabet="{}[]:-,'\"&*!|>#$\t\n abc01", max_size=6))
def test_text_mutations_never_crash(tmp_path, at, cut, insert):
    text = BASE_TEXT[:at] + insert + BASE_TEXT[at + cut :]
    result = check(tmp_path, text)
    if result.ok:
        assert result.document is not None


@settings(max_examples=300, deadline=None)
@given(MUTATIONS)
def test_the_fast_schema_check_answers_as_jsonschema_on_mutated_specs(mutations):
    """`validate` asks jsonschema-rs whether a rendered spec is valid and only walks it with
    jsonschema (for located messages) when not: the two must agree, or an error is missed."""
    from sagespec.spec.schema import is_valid_fast, validator

    data = BASE
    for path, action, junk, key in mutations:
        try:
            data = mutate(data, path, action, junk, key)
        except (KeyError, IndexError, TypeError):
            continue
    assert is_valid_fast(data) == (not any(True for _ in validator().iter_errors(data)))
