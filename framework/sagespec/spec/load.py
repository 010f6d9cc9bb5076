"""The front half of the straight line: load -> render -> validate.

`load_spec(path)` runs every stage that can run and returns the rendered document with every
diagnostic found on the way. It never raises for bad input. `validate_paths` does it for every
file a `validate PATH...` call names, in parallel for large batches.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from sagespec.diagnostics import Diagnostic, Span, has_errors
from sagespec.spec import schema, templates
from sagespec.spec.checks import run_checks
from sagespec.spec.project import display_path, expand, find_project_root, is_accounts_file, is_template_file
from sagespec.spec.source import Document
from sagespec.spec.topology import validate_accounts_file
from sagespec.spec.yaml_loader import load_file


@dataclass
class SpecResult:
    path: Path
    document: Document | None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    project_root: Path | None = None

    @property
    def ok(self) -> bool:
        return self.document is not None and not has_errors(self.diagnostics)


def _sorted(diagnostics: list[Diagnostic], first_file: str) -> list[Diagnostic]:
    # The spec's own findings first, then those inside templates; each by position.
    return sorted(diagnostics, key=lambda d: (d.span.file != first_file, d.span.file, d.span.line, d.span.col))


def load_spec(path: str | Path, project_root: Path | None = None) -> SpecResult:
    path = Path(path)
    root = project_root or find_project_root(path)
    shown = display_path(path)
    if is_accounts_file(path):
        document, found = validate_accounts_file(path, root)
        return SpecResult(path, document, _sorted(found, shown), root)
    if is_template_file(path):
        document, found = templates.load_template(path, root)
        return SpecResult(path, document, _sorted(found, shown), root)
    document, found = load_file(path, shown, root)
    if document is None:
        return SpecResult(path, None, found, root)
    if isinstance(document.data, dict) and "template" in document.data:
        # The spec's own shape first, so a malformed `template:` key is reported as such.
        own = schema.validate(document)
        if own:
            return SpecResult(path, None, _sorted(found + own, shown), root)
        document, rendered = templates.render(document, root)
        found += rendered
        if document is None:
            return SpecResult(path, None, _sorted(found, shown), root)
    schema_errors = schema.validate(document)
    found += schema_errors
    found += run_checks(document, root, schema_ok=not schema_errors)
    return SpecResult(path, document, _sorted(found, shown), root)


# Below this many files a process pool costs more than it saves (fork + result transfer).
PARALLEL_THRESHOLD = 64


def _diagnose_one(args: tuple[Path, Path | None]) -> list[Diagnostic]:
    """One file's findings. Whatever goes wrong with one file is that file's finding, so the
    others are still checked and reported."""
    path, root = args
    try:
        return load_spec(path, root).diagnostics
    except Exception as exc:  # noqa: BLE001 - a bug in a check must not hide the other files' findings
        return [
            Diagnostic(
                "E0011",
                f"{display_path(path)} could not be checked: {type(exc).__name__}: {exc}",
                Span(display_path(path)),
                hint="this is a sagespec bug; please report it with the file",
            )
        ]


def validate_files(files: list[Path], project_root: Path | None = None, jobs: int | None = None) -> tuple[list[Diagnostic], int]:
    """Validate many files: (diagnostics in file order, deduplicated; number of invalid files).

    A template shared by many specs reports its own problems once. Large batches spread over
    the machine's cores.
    """

    jobs = jobs if jobs is not None else (os.cpu_count() or 1)
    work = [(path, project_root) for path in files]
    if jobs > 1 and len(files) >= PARALLEL_THRESHOLD:
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
        # The first file here, before forking: the workers inherit what it loaded (the schema
        # validators, Jinja's sandbox, its template and compiled expressions) instead of each
        # building them again.
        per_file = [_diagnose_one(work[0])]
        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context(method)) as pool:
            per_file += pool.map(_diagnose_one, work[1:], chunksize=max(1, len(work) // (jobs * 4)))
    else:
        per_file = [_diagnose_one(item) for item in work]
    seen: set[tuple[str, str, int, int, str]] = set()
    diagnostics: list[Diagnostic] = []
    invalid = 0
    for found in per_file:
        invalid += has_errors(found)
        for d in found:
            key = (d.code, d.span.file, d.span.line, d.span.col, d.message)
            if key not in seen:
                seen.add(key)
                diagnostics.append(d)
    return diagnostics, invalid


@dataclass
class ValidationReport:
    """What `validate PATH...` found: every file's findings, and how many files were read."""

    diagnostics: list[Diagnostic]
    files: int
    invalid: int
    missing: int

    @property
    def errors(self) -> int:
        return sum(d.severity == "error" for d in self.diagnostics)

    def summary(self) -> str:
        warnings = len(self.diagnostics) - self.errors
        if not self.files and not self.missing:
            return "no spec files found"
        if self.errors:
            return f"{self.errors} error(s), {warnings} warning(s) in {self.invalid + self.missing} of {self.files + self.missing} file(s)"
        return f"{self.files} file(s) valid" + (f", {warnings} warning(s)" if warnings else "")

    @property
    def exit_code(self) -> int:
        if self.missing or not self.files or any(d.code == "E0001" for d in self.diagnostics):
            return 2
        return 1 if has_errors(self.diagnostics) else 0


def validate_paths(arguments: list[str], project_root: Path | None = None, jobs: int | None = None) -> ValidationReport:
    """Validate the files that `arguments` (files, folders, globs) name; a name matching nothing is E0001."""

    files, missing = expand(arguments)
    diagnostics = [
        Diagnostic("E0001", "no such file, folder or matching glob", Span(m))
        if m.strip()
        else Diagnostic("E0001", "an empty path argument names no file", Span("<arguments>"), hint="name a spec file, a folder or a glob")
        for m in missing
    ]
    found, invalid = validate_files(files, project_root, jobs)
    return ValidationReport(diagnostics + found, len(files), invalid, len(missing))


def render_text(result: SpecResult, output: str) -> str:
    """The rendered spec as YAML or JSON (what `sagespec render` prints)."""

    document = result.document
    assert document is not None, "only a loaded spec renders (SpecResult.ok)"
    if output == "json":
        return json.dumps(document.data, indent=2)

    return yaml.safe_dump(document.data, sort_keys=False, width=100).rstrip()
