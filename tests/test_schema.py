"""The published JSON Schema: valid 2020-12, every property described, strict, usable by check-jsonschema."""

import json
import subprocess
import sys

import pytest
import yaml
from jsonschema import Draft202012Validator

from helpers import ROOT, run_cli

SCHEMAS = sorted((ROOT / "schemas").glob("*.schema.json"))


def walk_properties(node, path="#"):
    if isinstance(node, dict):
        for name, sub in (node.get("properties") or {}).items():
            yield f"{path}/properties/{name}", sub
        for key, value in node.items():
            yield from walk_properties(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from walk_properties(value, f"{path}/{i}")


def described(schema: dict, sub) -> bool:
    if not isinstance(sub, dict):
        return False
    if sub.get("description"):
        return True
    ref = sub.get("$ref", "")
    if ref.startswith("#/$defs/"):
        target = schema
        for part in ref[2:].split("/"):
            target = target[part]
        return described(schema, target)
    return False


@pytest.mark.parametrize("path", SCHEMAS, ids=lambda p: p.name)
def test_schema_is_valid_2020_12(path):
    schema = json.loads(path.read_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("path", SCHEMAS, ids=lambda p: p.name)
def test_every_property_is_described(path):
    schema = json.loads(path.read_text())
    # `if` subschemas are conditions (kind == "processing"), not property definitions.
    missing = [where for where, sub in walk_properties(schema) if "/if/" not in where and not described(schema, sub)]
    assert missing == []


def test_objects_are_strict():
    schema = json.loads((ROOT / "schemas" / "pipeline.schema.json").read_text())
    loose = [
        name
        for name, d in schema["$defs"].items()
        if d.get("type") == "object" and "properties" in d and d.get("additionalProperties") is not False
    ]
    assert loose == ["step"]  # `step` dispatches on kind; each kind's schema is strict


def test_check_jsonschema_accepts_bundled_specs_and_rejects_a_bad_one(tmp_path):
    rendered = tmp_path / "rendered.yaml"
    rendered.write_text(run_cli("render", "pipelines/california_housing.yaml").stdout)
    tool = [sys.executable, "-m", "check_jsonschema", "--schemafile", str(ROOT / "schemas" / "pipeline.schema.json")]
    good = [str(rendered), str(ROOT / "pipelines" / "california_housing.yaml"), str(ROOT / "tests/spec/fixtures/good/minimal.yaml")]
    ok = subprocess.run(tool + good, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = subprocess.run(tool + [str(ROOT / "tests/spec/fixtures/bad/16_schema_bad_step_kind.yaml")], capture_output=True, text=True)
    assert bad.returncode == 1


def test_template_schema_accepts_the_bundled_template():
    schema = json.loads((ROOT / "schemas" / "template.schema.json").read_text())
    template = yaml.safe_load((ROOT / "pipelines" / "templates" / "tf_regression.yaml").read_text())
    assert list(Draft202012Validator(schema).iter_errors(template)) == []


# -- the fast path: jsonschema-rs decides valid/invalid, jsonschema explains ------------------


def _documents():
    """(schema name, label, data) of every YAML document the repository has: the bundled specs
    raw and rendered, templates, the accounts file, and the good, bad and hostile fixtures."""
    from sagespec.spec.load import load_spec
    from sagespec.spec.yaml_loader import load_file

    for path in sorted((ROOT / "tests" / "spec" / "fixtures").rglob("*.yaml")) + sorted((ROOT / "pipelines").glob("*.yaml")):
        document, _ = load_file(path, path.name, ROOT)  # the data sagespec validates (None: unreadable YAML)
        if document is None:
            continue
        data = document.data
        name = "accounts.schema.json" if path.name == "accounts.yaml" else "pipeline.schema.json"
        yield name, path.name, data
        if name == "pipeline.schema.json" and isinstance(data, dict) and "template" in data:
            rendered = load_spec(path, ROOT)
            if rendered.document is not None:
                yield name, f"{path.name} (rendered)", rendered.document.data
    for path in sorted((ROOT / "pipelines" / "templates").glob("*.yaml")):
        yield "template.schema.json", path.name, yaml.safe_load(path.read_text())


def test_jsonschema_rs_and_jsonschema_agree_on_every_document_here():
    from sagespec.spec.schema import fast_validator, is_valid_fast, validator

    assert fast_validator() is not None, "jsonschema-rs is a dependency: the fast path is the one users get"
    checked = disagree = 0
    for name, label, data in _documents():
        slow = not any(True for _ in validator(name).iter_errors(data))
        fast = is_valid_fast(data, name)
        checked += 1
        assert not (fast and not slow), f"{label}: jsonschema-rs says valid, jsonschema finds errors"
        # JSON has no NaN or infinity (YAML has): jsonschema-rs reads them as null and says
        # invalid, the safe way round, and jsonschema then decides (the hostile fixtures).
        disagree += fast != slow and not _non_finite(data)
    assert checked > 80 and disagree == 0


def _non_finite(value) -> bool:
    if isinstance(value, float):
        return value != value or value in (float("inf"), float("-inf"))
    if isinstance(value, dict):
        return any(_non_finite(v) for v in value.values())
    if isinstance(value, list):
        return any(_non_finite(v) for v in value)
    return False


def test_a_valid_spec_is_checked_without_jsonschema_and_an_invalid_one_is_explained_by_it():
    code = (
        "import sys\n"
        "from sagespec.spec.load import load_spec\n"
        "ok = load_spec('pipelines/california_housing.yaml')\n"
        "print(ok.ok, 'jsonschema' in sys.modules)\n"
        "bad = load_spec('tests/spec/fixtures/bad/15_schema_wrong_type_instance_count.yaml')\n"
        "print(bad.ok, 'jsonschema' in sys.modules, any(d.code.startswith('E2') and d.span.line > 0 for d in bad.diagnostics))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["True False", "False True True"]
