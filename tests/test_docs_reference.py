"""The reference pages name everything the code has: every key of each JSON Schema, every command,
argument and option of the command line, every SageMaker limit and every step kind.

The pages are written by docs/_gen/cogdocs.py from the code (tests/test_docs.py checks that they
are as generated now); these tests read the committed pages and fail when the code gained
something the pages do not show yet, each naming what is missing: run `make docs-update`.
"""

from __future__ import annotations

import json
import re
import sys
from importlib.metadata import metadata

import click
import pytest

from helpers import ROOT

REFERENCE = ROOT / "docs" / "reference"


def page(name: str) -> str:
    return (REFERENCE / name).read_text(encoding="utf-8")


def code_spans(text: str) -> str:
    """The text of every code span of a page, one per line."""
    return "\n".join(re.findall(r"`([^`\n]+)`", text))


def property_names(node: object) -> set[str]:
    """Every key an object of a JSON Schema declares, at any depth."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                found.update(value)
            found |= property_names(value)
    elif isinstance(node, list):
        for value in node:
            found |= property_names(value)
    return found


@pytest.mark.parametrize("schema, name", [("pipeline", "spec.md"), ("template", "template.md"), ("accounts", "accounts.md")])
def test_every_key_of_each_schema_is_on_its_page(schema, name):
    keys = property_names(json.loads((ROOT / "schemas" / f"{schema}.schema.json").read_text(encoding="utf-8")))
    spans = code_spans(page(name))
    missing = sorted(k for k in keys if not re.search(rf"(?<![\w-]){re.escape(k)}(?![\w-])", spans))
    assert keys and not missing, f"reference/{name} lacks the keys {missing} of schemas/{schema}.schema.json"


def test_every_step_section_of_the_spec_page_has_its_anchor():
    schema = json.loads((ROOT / "schemas" / "pipeline.schema.json").read_text(encoding="utf-8"))
    kinds = schema["$defs"]["step"]["properties"]["kind"]["enum"]
    text = page("spec.md")
    missing = [k for k in kinds if "{#step-" + k.replace("_", "-") + "}" not in text]
    assert not missing, f"reference/spec.md has no section for the step kinds {missing}"


def commands():
    """(command path, command, context) of `sagespec` and every command below it."""
    from sagespec.cli import cli

    def walk(command, ctx):
        yield ctx.command_path, command, ctx
        if isinstance(command, click.Group):
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                if sub is not None and not sub.hidden:
                    yield from walk(sub, click.Context(sub, info_name=name, parent=ctx))

    return list(walk(cli, click.Context(cli, info_name="sagespec")))


def test_every_command_argument_and_option_is_on_the_cli_page():
    text = page("cli.md")
    sections = re.split(r"(?m)^#+ `(sagespec[^`]*)`", text)
    by_path = dict(zip(sections[1::2], sections[2::2]))
    missing = []
    found = commands()
    assert len(found) > 40, "the command walk found too few commands"
    for path, command, ctx in found:
        section = by_path.get(path)
        if section is None:
            missing.append(f"the command {path}")
            continue
        spans = code_spans(section)
        for param in command.get_params(ctx):
            if param is command.get_help_option(ctx) or getattr(param, "hidden", False):
                continue
            if isinstance(param, click.Argument):
                if param.make_metavar(ctx) not in spans:
                    missing.append(f"{path}: the argument {param.make_metavar(ctx)}")
                continue
            retired = getattr(param, "retired", set())  # spellings --help leaves out (cli/options.py)
            for spelling in [*param.opts, *param.secondary_opts]:
                if spelling not in retired and not re.search(rf"(?m)^{re.escape(spelling)}$", spans):
                    missing.append(f"{path}: the option {spelling}")
    assert not missing, "reference/cli.md lacks: " + "; ".join(missing)


def test_every_sagemaker_limit_and_code_limit_is_on_the_limits_page():
    from sagespec.aws.limits import LIMITS

    text = page("limits.md")
    missing = [f"{lim.kind} {lim.member}" for lim in LIMITS if f"`{lim.member}` ([{lim.shape}]" not in text]
    sys.path.insert(0, str(ROOT / "docs" / "_gen"))
    import reference

    missing += [f"{module}: {name}" for module, name, *_ in reference.CODE_LIMITS if f"`{module}: {name}`" not in text]
    assert not missing, f"reference/limits.md lacks the limits {missing}"


def test_every_step_kind_framework_and_extra_is_on_the_support_page():
    from sagespec.spec.checks.estimators import BUILTIN

    schema = json.loads((ROOT / "schemas" / "pipeline.schema.json").read_text(encoding="utf-8"))["$defs"]
    text = page("support.md")
    rows = {m[0] for m in re.findall(r"(?m)^\| \[?`([a-z_]+)`(\]\([^)]*\))? \|", text)}
    expected = {
        "step kind": schema["step"]["properties"]["kind"]["enum"],
        "estimator framework": schema["estimator"]["properties"]["framework"]["enum"],
        "processor framework": schema["processor"]["properties"]["framework"]["enum"],
        "built-in algorithm": sorted(BUILTIN),
    }
    missing = [f"{what} {name}" for what, names in expected.items() for name in names if name not in rows]
    extras = metadata("sagespec").get_all("Provides-Extra") or []
    missing += [f"extra {name}" for name in extras if name.startswith("local") and f"`sagespec[{name}]`" not in text]
    assert not missing, f"reference/support.md lacks the rows of {missing}"
