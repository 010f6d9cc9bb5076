"""`sagespec init DIR --template NAME`: a new project that validates and runs as it is.

The project is the bundled one, renamed: the template, the bundled spec that fills it in from
the accounts file, the accounts file (its pipeline list, model package group and artifact prefix
named after the new project), the code the template names (each parameter default that is a
folder or file of the bundle: code_dir, preprocess_code, ...) and the sample data the spec reads
(files of pipelines/data/ it names). Nothing existing is overwritten: the folder must be new or empty. The files come from the installed package
(`sagespec/scaffold/`, packed into the wheel) or, in a source checkout, from the checkout itself.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from sagespec.diagnostics import UserError

# A model package group name (CreateModelPackageGroup, ModelPackageGroupName): the strictest of
# the names the project's name becomes (pipeline 256, group 63, S3 prefix 1,024).
_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
_PIPELINE_NAME = re.compile(r"^\s+pipeline_name:\s*(?P<name>[A-Za-z0-9-]+)\s*$", re.MULTILINE)
_DEFAULT = re.compile(r"\bdefault:\s*(?P<value>[A-Za-z0-9_./-]+)")
_GROUPS = re.compile(r"^model_package_groups:\n(?:  - .*\n)+", re.MULTILINE)
_TEAM_GROUPS = re.compile(r"(?<=model_package_groups: )\[[^\]\n]*\]")  # an account's own, inline list
_PREFIX = re.compile(r"^(?P<indent>\s+prefix:\s*)\S+", re.MULTILINE)
MARKER = "# The project root of a sagespec project (paths in specs are relative to this folder).\n"


@dataclass(frozen=True)
class Scaffolded:
    root: Path
    spec: Path
    files: list[Path]


def bundle_root() -> Path:
    """Wheels carry the scaffold inside the package (sagespec/scaffold/); a source checkout is its own."""
    installed = Path(str(resources.files("sagespec"))) / "scaffold"
    if (installed / "pipelines" / "templates").is_dir():
        return installed
    checkout = Path(__file__).resolve().parents[3]  # framework/sagespec/workflows/ -> the checkout
    if (checkout / "pipelines" / "templates").is_dir():
        return checkout
    raise UserError("E6005", "this installation of sagespec carries no templates (sagespec/scaffold/ is missing)", exit_code=2)


def templates() -> list[str]:
    return sorted(p.stem for p in (bundle_root() / "pipelines" / "templates").glob("*.yaml"))


def init(target: Path, template: str, name: str | None = None) -> Scaffolded:
    name = name or target.resolve().name
    if not _NAME.match(name):
        raise UserError(
            "E2001",
            f"'{name}' cannot name a pipeline and its model package group: letters, digits and hyphens, at most 63, "
            "starting and ending with a letter or digit",
            exit_code=2,
        )
    known = templates()
    if template not in known:
        raise UserError("E6005", f"no template '{template}'; the templates are: {', '.join(known)}", exit_code=2)
    if target.is_symlink() or (target.exists() and (not target.is_dir() or any(target.iterdir()))):
        raise UserError("E6012", f"{target} already exists and is not an empty folder; init writes only into a new one", exit_code=2)
    bundle = bundle_root()
    template_text = (bundle / "pipelines" / "templates" / f"{template}.yaml").read_text(encoding="utf-8")
    spec_source = next(
        (p for p in sorted((bundle / "pipelines").glob("*.yaml")) if f"name: {template}\n" in p.read_text(encoding="utf-8")), None
    )
    if spec_source is None:
        raise UserError("E6005", f"no bundled spec uses template '{template}'", exit_code=2)
    spec_text = spec_source.read_text(encoding="utf-8")
    bundled = _PIPELINE_NAME.search(spec_text)
    if bundled is None:
        raise UserError("E6005", f"the bundled spec {spec_source.name} sets no pipeline_name", exit_code=2)
    bundled_name = bundled["name"]
    spec_rel = f"pipelines/{name.replace('-', '_')}.yaml"
    written: dict[str, bytes] = {
        f"pipelines/templates/{template}.yaml": template_text.encode(),
        spec_rel: _retitled(spec_text.replace(bundled_name, name), name, template, template_text).encode(),
        "pipelines/accounts.yaml": _accounts(bundle, name, spec_rel).encode(),
        "sagespec.toml": MARKER.encode(),
        **{rel: (bundle / rel).read_bytes() for rel in _code_files(bundle, template_text)},
        **{f"pipelines/data/{p.name}": p.read_bytes() for p in sorted((bundle / "pipelines" / "data").glob("*")) if p.name in spec_text},
    }
    target.mkdir(parents=True, exist_ok=True)
    paths = []
    for rel, body in written.items():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "xb") as handle:  # never over a file that appeared meanwhile
            handle.write(body)
        paths.append(path)
    return Scaffolded(target, target / f"pipelines/{name.replace('-', '_')}.yaml", paths)


_HEADER = re.compile(r"\A(?P<schema># yaml-language-server: [^\n]*\n#\n)?(?:#[^\n]*\n)+")
_DESCRIPTION = re.compile(r"^(?P<key>\s+description:).*$", re.MULTILINE)
_TEMPLATE_DESCRIPTION = re.compile(r"^\s+description: \{type: string, default: (?P<text>[^}]+)\}", re.MULTILINE)


def _retitled(spec_text: str, name: str, template: str, template_text: str) -> str:
    """The bundled spec's header comment and description speak of the project it came from
    (California housing, breast cancer): the new project's say what it is and what to change."""
    header = (
        f"# {name}: a pipeline of the {template} template (pipelines/templates/), filled in from\n"
        "# pipelines/accounts.yaml. It starts on the sample data `sagespec init` copied into pipelines/data/:\n"
        "# to train on your own, change input_data and the columns, target and features.\n"
    )
    spec_text = _HEADER.sub(lambda m: (m["schema"] or "") + header, spec_text, count=1)
    described = _TEMPLATE_DESCRIPTION.search(template_text)
    what = described["text"].strip() if described else f"a pipeline of the {template} template."
    return _DESCRIPTION.sub(lambda m: f"{m['key']} {json.dumps(f'{name}: {what}')}", spec_text, count=1)  # JSON strings are YAML


def _code_files(bundle: Path, template_text: str) -> list[str]:
    """The files of each folder or file a template parameter defaults to (its code), relative to the bundle."""
    found: set[str] = set()
    for match in _DEFAULT.finditer(template_text):
        path = bundle / match["value"]
        # pipelines/ is written above (templates, specs, data), except the functions' code the template names
        bundled = match["value"].startswith(("pipelines", ".")) and not match["value"].startswith("pipelines/functions/")
        if bundled or not path.exists() or path.is_symlink():
            continue
        files = sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts) if path.is_dir() else [path]
        found.update(str(p.relative_to(bundle)) for p in files)
    return sorted(found)


def _accounts(bundle: Path, name: str, spec: str) -> str:
    """The bundled accounts file, its one model package group and artifact prefix the new
    project's name, and its pipelines list the new spec."""
    text = (bundle / "pipelines" / "accounts.yaml").read_text(encoding="utf-8")
    text = _GROUPS.sub(f"model_package_groups:\n  - {name}\n", text, count=1)
    text = _TEAM_GROUPS.sub(f"[{name}-experiments]", text)
    text = _PREFIX.sub(lambda m: m["indent"] + name, text, count=1)
    head, marker, _ = text.partition("\npipelines:\n")
    if not marker:
        return text
    return f"{head}\npipelines:\n  - {spec}\n"
