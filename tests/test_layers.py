"""The structure of the sagespec package, read from the source with `ast`.

- One-way layering: every import (at module level or inside a function) of a sagespec module
  points at its own layer or one below it.
- No circle in the import graph, deferred imports included.
- An import inside a function only where start-up time needs it, saying so in a comment, and few.
- The package root holds only the package face, `__main__` and the context.
- The SageMaker SDK only in the compiler, ML frameworks only in the local runtimes, raw SQL only
  in the local control plane; target names compared only by the backend factory; region,
  partition and DNS-suffix literals only in sagespec.aws.

Run it after moving code: a backward arrow fails here with the file and line.
"""

from __future__ import annotations

import ast
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers import ROOT

PACKAGE = ROOT / "framework" / "sagespec"

# Bottom to top. A module belongs to the layer whose prefix it starts with (the longest wins).
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("diagnostics", ("sagespec.diagnostics",)),
    ("aws", ("sagespec.aws",)),
    ("iam", ("sagespec.iam",)),
    ("spec", ("sagespec.spec",)),
    ("definition", ("sagespec.definition",)),
    ("accounts", ("sagespec.accounts",)),
    ("compiler", ("sagespec.compiler",)),
    ("context", ("sagespec.context",)),
    ("service interfaces", ("sagespec.backends", "sagespec.backends.protocols", "sagespec.backends.records", "sagespec.backends.names")),
    ("backends", ("sagespec.backends.watch", "sagespec.backends.local", "sagespec.backends.sagemaker")),
    ("backend factory", ("sagespec.backends.factory",)),
    ("workflows", ("sagespec.workflows",)),
    ("cli", ("sagespec.cli", "sagespec.__main__")),
]
ROOT_MODULES = {"sagespec", "sagespec.__main__", "sagespec.context"}
# The two implementations stand side by side: neither imports the other.
APART = ("sagespec.backends.local", "sagespec.backends.sagemaker")
SDK = ("sagemaker", "sagemaker_core")
SDK_ALLOWED = ("sagespec.compiler",)
FRAMEWORKS = ("tensorflow", "xgboost", "torch")
FRAMEWORKS_ALLOWED = ("sagespec.backends.local.runtime",)  # the programs that serve and train
SQL_ALLOWED = ("sagespec.backends.local",)
_SQL = re.compile(r"\b(SELECT\s+.+\s+FROM|INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+TABLE)\b")
TARGETS_COMPARED_IN = ("sagespec.backends.factory",)
# What only sagespec.aws may spell: a region, an ARN's partition, the DNS suffixes.
AWS_LITERALS = re.compile(
    r"(?<![\w-])(us|eu|ap|sa|ca|me|af|il|mx|cn)-(east|west|north|south|central|northeast|southeast|northwest)-\d\b|arn:aws[:-]|amazonaws\.com"
)
AWS_LITERALS_ALLOWED = ("sagespec.aws",)
MAX_DEFERRED = 60
MAX_LINES = 450


def layer_of(module: str) -> int | None:
    best: tuple[int, int] | None = None
    for rank, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and (best is None or len(prefix) > best[1]):
                best = (rank, len(prefix))
    return best[0] if best else (0 if module == "sagespec" else None)


def module_name(path: Path, package_dir: Path) -> str:
    parts = path.relative_to(package_dir.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@dataclass(frozen=True)
class Import:
    line: int
    target: str  # the module imported (for `from pkg import name`: pkg.name when that is a module, else pkg)
    deferred: bool  # inside a function
    commented: bool  # a comment on its line or the line above says why
    typing_only: bool = False  # under `if TYPE_CHECKING:`: a type named in annotations, never run


def imports(source: str, module: str, is_package: bool, known: set[str]) -> list[Import]:
    lines = source.splitlines()
    found: list[Import] = []

    def commented(node: ast.stmt) -> bool:
        here = lines[node.lineno - 1]
        above = lines[node.lineno - 2].strip() if node.lineno > 1 else ""
        return "#" in here or above.startswith("#")

    def visit(node: ast.AST, deferred: bool, typing_only: bool = False) -> None:
        for child in ast.iter_child_nodes(node):
            inner = deferred or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            guarded = typing_only or (isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test))
            if isinstance(child, ast.Import):
                found.extend(Import(child.lineno, alias.name, deferred, commented(child), typing_only) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = module.split(".") if is_package else module.split(".")[:-1]
                    anchor = anchor[: len(anchor) - child.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                for alias in child.names:
                    target = f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                    found.append(Import(child.lineno, target, deferred, commented(child), typing_only))
            visit(child, inner, guarded)

    visit(ast.parse(source), False)
    return found


@dataclass
class Package:
    modules: dict[str, Path]
    graph: dict[str, list[Import]]


def read_package(package_dir: Path) -> Package:
    modules = {module_name(p, package_dir): p for p in sorted(package_dir.rglob("*.py"))}
    known = set(modules)
    graph = {m: imports(p.read_text(encoding="utf-8"), m, p.name == "__init__.py", known) for m, p in modules.items()}
    return Package(modules, graph)


def violations(package_dir: Path) -> list[str]:
    package = read_package(package_dir)
    problems = []
    for module, path in package.modules.items():
        where = f"{path.relative_to(package_dir.parent)}"
        own = layer_of(module)
        if own is None:
            problems.append(f"{where}: module {module} belongs to no declared layer")
            continue
        source = path.read_text(encoding="utf-8")
        for found in package.graph[module]:
            top = found.target.split(".")[0]
            if top in SDK and not module.startswith(SDK_ALLOWED):
                problems.append(f"{where}:{found.line}: imports the SageMaker SDK ({found.target}) outside the compiler")
            if top in FRAMEWORKS and not module.startswith(FRAMEWORKS_ALLOWED):
                problems.append(f"{where}:{found.line}: imports {top} outside the runtime that needs it")
            if found.target not in package.modules:
                continue
            theirs = layer_of(found.target)
            if theirs is not None and theirs > own:
                problems.append(
                    f"{where}:{found.line}: {module} ({LAYERS[own][0]}) imports {found.target} ({LAYERS[theirs][0]}), a higher layer"
                )
            sides = [next((a for a in APART if m == a or m.startswith(a + ".")), None) for m in (module, found.target)]
            if sides[0] and sides[1] and sides[0] != sides[1]:
                problems.append(f"{where}:{found.line}: {module} imports {found.target}: the two backends stand apart")
        if not module.startswith(SQL_ALLOWED) and _SQL.search(source):
            line = source[: _SQL.search(source).start()].count("\n") + 1
            problems.append(f"{where}:{line}: raw SQL outside the local control plane (sagespec.backends.local)")
    return problems


def cycles(package_dir: Path) -> list[list[str]]:
    """Every strongly connected set of more than one module (Tarjan), deferred imports included
    (imports only type checkers read are not run, and close no circle)."""
    package = read_package(package_dir)
    edges = {
        m: sorted({i.target for i in found if i.target in package.modules and i.target != m and not i.typing_only})
        for m, found in package.graph.items()
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges[node]:
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            connect(node)
    return found


def test_the_package_keeps_its_layers():
    assert violations(PACKAGE) == []


def test_no_module_imports_in_a_circle():
    assert cycles(PACKAGE) == []


def test_the_package_root_holds_only_its_face_main_and_the_context():
    assert {m for m in read_package(PACKAGE).modules if m.count(".") <= 1 and (PACKAGE / f"{m.split('.')[-1]}.py").is_file()} | {
        "sagespec"
    } == ROOT_MODULES


def test_deferred_imports_are_few_and_say_why():
    package = read_package(PACKAGE)
    deferred = [(m, i) for m, found in package.graph.items() for i in found if i.deferred and not i.typing_only]
    silent = [f"{package.modules[m].relative_to(PACKAGE.parent)}:{i.line}: {i.target}" for m, i in deferred if not i.commented]
    assert silent == [], "an import inside a function says why in a comment (start-up time)"
    assert len({(m, i.line) for m, i in deferred}) < MAX_DEFERRED


def test_only_the_backend_factory_compares_target_names():
    found = []
    for module, path in read_package(PACKAGE).modules.items():
        if module.startswith(TARGETS_COMPARED_IN):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Compare):
                constants = [c.value for c in [node.left, *node.comparators] if isinstance(c, ast.Constant)]
                if any(v in ("local", "aws") for v in constants):
                    found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    assert found == []


def aws_literals(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every string in the code (not docstrings or comments) that spells a region,
    an ARN partition or a DNS suffix."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings and AWS_LITERALS.search(node.value)
    ]


def test_regions_partitions_and_dns_suffixes_are_spelled_only_in_the_aws_package():
    found = []
    for module, path in read_package(PACKAGE).modules.items():
        if not module.startswith(AWS_LITERALS_ALLOWED):
            found += [f"{path.relative_to(PACKAGE.parent)}:{line}: {text[:100]}" for line, text in aws_literals(path)]
    assert found == []


def test_no_module_is_over_450_lines():
    long = {str(p.relative_to(PACKAGE)): n for p in PACKAGE.rglob("*.py") if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}


# -- the checks themselves fail where they should ---------------------------------------------


@pytest.fixture()
def synthetic(tmp_path):
    """A copy of the package to add bad modules to."""
    copy = tmp_path / "sagespec"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def test_a_backward_import_fails(synthetic):
    (synthetic / "spec" / "shortcut.py").write_text("def f():\n    from sagespec.cli import main  # start-up\n    return main\n")
    assert violations(synthetic) == [
        "sagespec/spec/shortcut.py:2: sagespec.spec.shortcut (spec) imports sagespec.cli (cli), a higher layer"
    ]


def test_a_relative_backward_import_fails(synthetic):
    (synthetic / "backends" / "local" / "sneaky.py").write_text("from ...workflows.promotion import promoter\n")
    assert any(
        "sagespec.backends.local.sneaky (backends) imports sagespec.workflows.promotion.promoter (workflows)" in v
        for v in violations(synthetic)
    )


def test_one_backend_importing_the_other_fails(synthetic):
    (synthetic / "backends" / "local" / "peek.py").write_text("from sagespec.backends.sagemaker import pipelines\n")
    assert (
        "sagespec/backends/local/peek.py:1: sagespec.backends.local.peek imports sagespec.backends.sagemaker.pipelines: the two backends stand apart"
        in violations(synthetic)
    )


def test_a_circle_is_found_even_through_a_deferred_import(synthetic):
    (synthetic / "spec" / "ping.py").write_text("from sagespec.spec import pong\n")
    (synthetic / "spec" / "pong.py").write_text("def f():\n    from sagespec.spec import ping  # start-up\n    return ping\n")
    assert ["sagespec.spec.ping", "sagespec.spec.pong"] in cycles(synthetic)


def test_sdk_framework_and_sql_outside_their_places_fail(synthetic):
    (synthetic / "backends" / "bad.py").write_text(
        "import sagemaker\n\ndef g(conn):\n    import tensorflow as tf  # start-up\n    return conn.execute('SELECT x FROM models')\n"
    )
    found = violations(synthetic)
    assert "sagespec/backends/bad.py:1: imports the SageMaker SDK (sagemaker) outside the compiler" in found
    assert "sagespec/backends/bad.py:4: imports tensorflow outside the runtime that needs it" in found
    assert "sagespec/backends/bad.py:5: raw SQL outside the local control plane (sagespec.backends.local)" in found


def test_a_module_outside_every_layer_fails(synthetic):
    (synthetic / "misc.py").write_text("x = 1\n")
    assert violations(synthetic) == ["sagespec/misc.py: module sagespec.misc belongs to no declared layer"]
