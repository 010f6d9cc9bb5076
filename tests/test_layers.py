"""One-way layering of the sagespec package, read from the source with `ast`.

Every import (at module level or inside a function) of a sagespec module must point at its
own layer or one below it. The SageMaker SDK may be imported only by the compiler, TensorFlow
only by the local endpoint server (the runtime that serves models), raw SQL only in the local
control plane. Run it after moving code: a backward arrow fails here with the file and line.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from helpers import ROOT

PACKAGE = ROOT / "framework" / "sagespec"

# Bottom to top. A module belongs to the first layer one of whose prefixes it starts with.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    (
        "foundation",
        (
            "sagespec.diagnostics",
            "sagespec.console",
            "sagespec.iam",
            "sagespec.workspace",
            "sagespec.durations",
            "sagespec.logs",
            "sagespec.images",
        ),
    ),
    ("spec", ("sagespec.spec",)),
    (
        "definition",
        (
            "sagespec.definition",
            "sagespec.expressions",
            "sagespec.reuse",
            "sagespec.graph",
            "sagespec.diff",
            "sagespec.permissions",
            "sagespec.external_requests",
            "sagespec.registry_requests",
        ),
    ),
    ("compiler", ("sagespec.compiler",)),
    ("aws", ("sagespec.aws",)),
    ("service interfaces", ("sagespec.registry", "sagespec.hosting", "sagespec.pipelines")),
    ("local control plane", ("sagespec.local",)),
    ("executor", ("sagespec.executor",)),
    ("project and backends", ("sagespec.project", "sagespec.backends")),
    (
        "workflows",
        ("sagespec.crossaccount", "sagespec.promotion", "sagespec.runs", "sagespec.upserts", "sagespec.data", "sagespec.scaffold"),
    ),
    ("cli", ("sagespec.cli", "sagespec.__main__")),
]
SDK = ("sagemaker", "sagemaker_core")
SDK_ALLOWED = ("sagespec.compiler",)
FRAMEWORKS = ("tensorflow", "xgboost", "torch")
FRAMEWORKS_ALLOWED = (
    "sagespec.local.tf_serving",
    "sagespec.local.inference_toolkit",
    "sagespec.local.xgboost_builtin",
)  # the runtimes that serve and train
SQL_ALLOWED = ("sagespec.local",)
_SQL = re.compile(r"\b(SELECT\s+.+\s+FROM|INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+TABLE)\b")


def layer_of(module: str) -> int | None:
    if module == "sagespec":
        return 0  # the package itself holds only __version__
    for rank, (_, prefixes) in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return rank
    return None


def module_name(path: Path, package_dir: Path) -> str:
    parts = path.relative_to(package_dir.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(source: str, module: str, is_package: bool) -> list[tuple[int, str]]:
    """(line, imported module) for every import statement, relative ones resolved; for
    `from pkg import name` both pkg and pkg.name (name may be a submodule)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def violations(package_dir: Path) -> list[str]:
    problems = []
    known = {module_name(p, package_dir) for p in package_dir.rglob("*.py")}
    for path in sorted(package_dir.rglob("*.py")):
        module = module_name(path, package_dir)
        source = path.read_text(encoding="utf-8")
        where = f"{path.relative_to(package_dir.parent)}"
        own = layer_of(module)
        if own is None:
            problems.append(f"{where}: module {module} belongs to no declared layer")
            continue
        for line, target in imports(source, module, path.name == "__init__.py"):
            top = target.split(".")[0]
            if top in SDK and not module.startswith(SDK_ALLOWED):
                problems.append(f"{where}:{line}: imports the SageMaker SDK ({target}) outside the compiler")
            if top in FRAMEWORKS and not module.startswith(FRAMEWORKS_ALLOWED):
                problems.append(f"{where}:{line}: imports {top} outside the runtime that needs it")
            if top != "sagespec" or (target not in known and target != "sagespec"):
                continue  # a name imported from a module, not a module
            theirs = layer_of(target)
            if theirs is not None and theirs > own:
                problems.append(f"{where}:{line}: {module} ({LAYERS[own][0]}) imports {target} ({LAYERS[theirs][0]}), a higher layer")
        if not module.startswith(SQL_ALLOWED) and _SQL.search(source):
            line = source[: _SQL.search(source).start()].count("\n") + 1
            problems.append(f"{where}:{line}: raw SQL outside the local control plane (sagespec.local)")
    return problems


def test_the_package_keeps_its_layers():
    assert violations(PACKAGE) == []


def test_no_module_is_over_450_lines():
    long = {str(p.relative_to(PACKAGE)): n for p in PACKAGE.rglob("*.py") if (n := len(p.read_text().splitlines())) > 450}
    assert long == {}


@pytest.fixture()
def synthetic(tmp_path):
    """A copy of the package to add bad modules to."""
    import shutil

    copy = tmp_path / "sagespec"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def test_a_backward_import_fails(synthetic):
    (synthetic / "spec" / "shortcut.py").write_text("def f():\n    from sagespec.cli import main\n    return main\n")
    found = violations(synthetic)
    assert found == ["sagespec/spec/shortcut.py:2: sagespec.spec.shortcut (spec) imports sagespec.cli (cli), a higher layer"]


def test_a_relative_backward_import_fails(synthetic):
    (synthetic / "local" / "sneaky.py").write_text("from ..promotion import cicd\n")
    assert any("sagespec.local.sneaky (local control plane) imports sagespec.promotion" in v for v in violations(synthetic))


def test_sdk_framework_and_sql_outside_their_places_fail(synthetic):
    (synthetic / "registry" / "bad.py").write_text(
        "import sagemaker\n\ndef g(conn):\n    import tensorflow as tf\n    return conn.execute('SELECT x FROM models')\n"
    )
    found = violations(synthetic)
    assert "sagespec/registry/bad.py:1: imports the SageMaker SDK (sagemaker) outside the compiler" in found
    assert "sagespec/registry/bad.py:4: imports tensorflow outside the runtime that needs it" in found
    assert "sagespec/registry/bad.py:5: raw SQL outside the local control plane (sagespec.local)" in found


def test_a_module_outside_every_layer_fails(synthetic):
    (synthetic / "misc.py").write_text("x = 1\n")
    assert violations(synthetic) == ["sagespec/misc.py: module sagespec.misc belongs to no declared layer"]
