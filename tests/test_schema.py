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
