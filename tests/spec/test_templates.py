"""Templates: rendering keeps types and locations; every failure points into the template file."""

import textwrap
from pathlib import Path

import pytest

from sagespec.spec.load import load_spec

HEADER = """\
template:
  description: a one-step pipeline
  params:
    name: {type: string}
    retries: {type: integer, default: 2}
    tags: {type: mapping, default: {team: ds}}
"""


def make_project(tmp_path: Path, spec_body: str, template_spec: str) -> Path:
    (tmp_path / "sagespec.toml").write_text("")
    templates = tmp_path / "pipelines" / "templates"
    templates.mkdir(parents=True)
    (templates / "one.yaml").write_text(HEADER + "spec:\n" + textwrap.indent(textwrap.dedent(template_spec), "  "))
    spec = tmp_path / "pipelines" / "use.yaml"
    spec.write_text(textwrap.dedent(spec_body))
    return spec


TEMPLATE = """\
name: "{{ name }}"
tags: "{{ tags }}"
session:
  region: us-east-1
  role: arn:aws:iam::111111111111:role/r
  default_bucket: bucket-111111111111
parameters:
  Retries: {type: Integer, default: "{{ retries }}"}
steps:
  - name: Stop
    kind: fail
    error_message: "{{ name | upper }} failed after ${params.Retries} tries"
"""

USE = """\
template:
  name: one
  params:
    name: demo
"""


def codes(result):
    return [(d.code, Path(d.span.file).name, d.span.line + 1) for d in result.diagnostics]


def test_renders_native_types_and_text(tmp_path):
    result = load_spec(make_project(tmp_path, USE, TEMPLATE))
    assert result.ok, codes(result)
    data = result.document.data
    assert data["name"] == "demo"
    assert data["tags"] == {"team": "ds"}  # a mapping, not its string form
    assert data["parameters"]["Retries"]["default"] == 2  # an integer
    assert data["steps"][0]["error_message"] == "DEMO failed after ${params.Retries} tries"


def test_rendered_values_keep_template_locations(tmp_path):
    spec = make_project(tmp_path, USE, TEMPLATE)
    result = load_spec(spec)
    span = result.document.source.span(("steps", 0, "error_message"))
    assert span.file.endswith("templates/one.yaml") and span.line + 1 == 19
    assert "used by" in span.via and "use.yaml:1:1" in span.via


def test_undefined_variable_points_at_template_line(tmp_path):
    spec = make_project(tmp_path, USE, TEMPLATE.replace("{{ name | upper }}", "{{ nmae | upper }}"))
    result = load_spec(spec)
    assert ("E1003", "one.yaml", 19) in codes(result)
    d = next(d for d in result.diagnostics if d.code == "E1003")
    assert "did you mean 'name'" in d.hint and "use.yaml" in d.span.via


def test_syntax_error_points_at_template_line(tmp_path):
    spec = make_project(tmp_path, USE, TEMPLATE.replace('"{{ name }}"', '"{{ name }"'))
    assert ("E1002", "one.yaml", 8) in codes(load_spec(spec))


def test_sandbox_refuses_unsafe_attribute_access(tmp_path):
    spec = make_project(tmp_path, USE, TEMPLATE.replace('"{{ name }}"', '"{{ name.__class__.__mro__[1].__subclasses__() }}"'))
    assert ("E1007", "one.yaml", 8) in codes(load_spec(spec))


def test_expression_failure_is_reported(tmp_path):
    spec = make_project(tmp_path, USE, TEMPLATE.replace('"{{ retries }}"', '"{{ retries // 0 }}"'))
    assert ("E1009", "one.yaml", 15) in codes(load_spec(spec))


def test_malformed_template_header(tmp_path):
    spec = make_project(tmp_path, USE, TEMPLATE)
    template = tmp_path / "pipelines" / "templates" / "one.yaml"
    template.write_text(template.read_text().replace("  description: a one-step pipeline\n", ""))
    found = codes(load_spec(spec))
    assert ("E2002", "one.yaml", 2) in found


def test_schema_errors_after_rendering_point_into_the_template(tmp_path):
    spec = make_project(tmp_path, USE, TEMPLATE.replace("kind: fail", "kind: failing"))
    assert ("E2004", "one.yaml", 18) in codes(load_spec(spec))


def test_overrides_merge_by_name_and_point_at_the_spec(tmp_path):
    body = USE + textwrap.dedent("""\
        description: overridden
        steps:
          - name: Stop
            error_message: 7
          - name: Extra
            kind: fail
            error_message: added
        """)
    result = load_spec(make_project(tmp_path, body, TEMPLATE))
    # The override's wrong type is reported at the spec's line, not the template's.
    assert ("E2003", "use.yaml", 8) in codes(result)
    data = result.document.data
    assert [s["name"] for s in data["steps"]] == ["Stop", "Extra"]
    assert data["steps"][0]["kind"] == "fail"  # kept from the template
    assert data["description"] == "overridden"


@pytest.mark.parametrize(
    "params, code",
    [("    nmae: demo\n", "E1004"), ("    name: demo\n    retries: many\n", "E1006"), ("    retries: 3\n", "E1005")],
)
def test_parameter_errors_point_at_the_spec(tmp_path, params, code):
    spec = make_project(tmp_path, "template:\n  name: one\n  params:\n" + params, TEMPLATE)
    found = codes(load_spec(spec))
    assert any(c == code and f == "use.yaml" for c, f, _ in found), found


def test_missing_template_suggests_a_close_name(tmp_path):
    spec = make_project(tmp_path, USE.replace("name: one", "name: onee"), TEMPLATE)
    result = load_spec(spec)
    assert ("E1001", "use.yaml", 2) in codes(result)
    assert "did you mean 'one'" in result.diagnostics[0].hint


@pytest.mark.parametrize(
    "expression, code",
    [
        ("{{ range }}", "E1010"),  # a function
        ("{{ range(3) }}", "E1010"),  # a range object
        ("{{ lipsum }}", "E1010"),
        ("{{ cycler }}", "E1010"),
        ("{{ 'x' * 100000000 }}", "E1011"),
        ("{{ [1] * 100000000 }}", "E1011"),
        ("{{ 10 ** 100000000 }}", "E1011"),
        ("{{ 9 ** 9 ** 9 }}", "E1011"),
        ("{{ range(100000000) | list }}", "E1011"),
        ("{% for i in range(9999) %}{% for j in range(9999) %}x{% endfor %}{% endfor %}", "E1011"),
        ("{{ name * 5000 * 5000 }}", "E1011"),
    ],
)
def test_templates_cannot_hurt_the_machine(tmp_path, expression, code):
    import time

    spec = make_project(tmp_path, USE, TEMPLATE.replace('"{{ name }}"', f'"{expression}"'))
    started = time.monotonic()
    found = load_spec(spec)
    assert time.monotonic() - started < 10
    assert (code, "one.yaml", 8) in codes(found), codes(found)
    assert all(len(d.message) < 1000 for d in found.diagnostics)


def test_bounded_templates_still_compute_what_specs_need(tmp_path):
    spec = make_project(tmp_path, USE, TEMPLATE.replace('"{{ name }}"', "\"{{ name ~ '-' ~ (2 ** 10) ~ '-' ~ ('ab' * 3) }}\""))
    result = load_spec(spec)
    assert result.ok, codes(result)
    assert result.document.data["name"] == "demo-1024-ababab"
