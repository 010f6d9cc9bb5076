"""`sagespec init DIR --template NAME`: a new project that validates and runs as it is.

The project is the bundled one, renamed: the template, a spec that fills it in from the accounts
file, the accounts file (its pipeline list, model package group and artifact prefix named after
the new project), the training code and the sample data a local run seeds. Nothing existing is
overwritten: the folder must be new or empty. The files come from the installed package
(`sagespec/scaffold/`, packed into the wheel) or, in a source checkout, from the checkout itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sagespec.diagnostics import UserError

# A model package group name (CreateModelPackageGroup, ModelPackageGroupName): the strictest of
# the names the project's name becomes (pipeline 256, group 63, S3 prefix 1,024).
_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
BUNDLED_NAME = "california-housing"
# Copied as they are (relative to the bundle root); the spec and the accounts file are renamed.
FILES = ("training_code/preprocess.py", "training_code/train.py", "training_code/evaluate.py", "training_code/requirements.txt")
SAMPLE_DATA = "pipelines/data/cal_housing.tgz"
MARKER = "# The project root of a sagespec project (paths in specs are relative to this folder).\n"


@dataclass(frozen=True)
class Scaffolded:
    root: Path
    spec: Path
    files: list[Path]


def bundle_root() -> Path:
    installed = Path(__file__).parent / "scaffold"
    if (installed / "pipelines" / "templates").is_dir():
        return installed
    checkout = Path(__file__).resolve().parents[2]  # framework/sagespec/ -> the checkout
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
    spec_source = next(
        (p for p in sorted((bundle / "pipelines").glob("*.yaml")) if f"name: {template}" in p.read_text(encoding="utf-8")), None
    )
    if spec_source is None:
        raise UserError("E6005", f"no bundled spec uses template '{template}'", exit_code=2)
    written: dict[str, bytes] = {
        f"pipelines/templates/{template}.yaml": (bundle / "pipelines" / "templates" / f"{template}.yaml").read_bytes(),
        f"pipelines/{name.replace('-', '_')}.yaml": spec_source.read_text(encoding="utf-8").replace(BUNDLED_NAME, name).encode(),
        "pipelines/accounts.yaml": _accounts(bundle, name, f"pipelines/{name.replace('-', '_')}.yaml").encode(),
        "sagespec.toml": MARKER.encode(),
        SAMPLE_DATA: (bundle / SAMPLE_DATA).read_bytes(),
        **{rel: (bundle / rel).read_bytes() for rel in FILES},
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


def _accounts(bundle: Path, name: str, spec: str) -> str:
    """The bundled accounts file, its project names replaced and its pipelines list the new spec."""
    text = (bundle / "pipelines" / "accounts.yaml").read_text(encoding="utf-8").replace(BUNDLED_NAME, name)
    head, marker, _ = text.partition("\npipelines:\n")
    if not marker:
        return text
    return f"{head}\npipelines:\n  - {spec}\n"
