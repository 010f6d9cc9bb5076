"""What every command group shares: the output convention, the project context, common options.

One convention (check-jsonschema and dbt are the models): `--output text|json` chooses the
format, `-o/--out FILE` names a file to write, and the old spellings (`--format`, `--output
table`, `--output-dir`) keep working as hidden aliases for one release.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from sagespec.cli.console import to_json
from sagespec.context import Context, default_target
from sagespec.diagnostics import Diagnostic, UserError
from sagespec.diagnostics.formatters import format_text
from sagespec.spec.project import find_project_root

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2

# A command function, as the option decorators take and return it.
F = TypeVar("F", bound=Callable[..., Any])

if TYPE_CHECKING:
    _StrChoice = click.Choice[str]
else:  # click < 8.4 (the oldest supported is 8.1): Choice takes no type argument at run time
    _StrChoice = click.Choice


class Formats(_StrChoice):
    """A choice of output formats that also takes retired spellings (`table` for `text`)."""

    def __init__(self, choices: Sequence[str], aliases: dict[str, str] | None = None):
        super().__init__(choices)
        self.aliases = aliases or {}

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        return super().convert(self.aliases.get(value, value), param, ctx)


class AliasedOption(click.Option):
    """An option whose retired spellings still work but are left out of --help."""

    def __init__(self, *args: Any, retired: tuple[str, ...] = (), **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.retired = set(retired)

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        shown, self.opts = self.opts, [o for o in self.opts if o not in self.retired]
        try:
            return super().get_help_record(ctx)
        finally:
            self.opts = shown


class LegacyFile(str):
    """A file name given to `--output`, which meant `-o FILE` in compile and graph before 0.2."""


class FormatsOrLegacyFile(Formats):
    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        if self.aliases.get(value, value) in self.choices:
            return super().convert(value, param, ctx)
        click.echo(f"note: `--output {value}` names a format now; write `-o {value}` for a file", err=True)
        return LegacyFile(value)


def output_option(
    *formats: str, default: str | None = None, help: str | None = None, retired: tuple[str, ...] = ("--format",), legacy_file: bool = False
) -> Callable[[F], F]:
    """`--output FORMAT` (text for people, json for tools); `--format` and `--output table` still work.
    With `legacy_file`, a value that is no format is taken as the file it meant before (LegacyFile)."""
    formats = formats or ("text", "json")
    kind = FormatsOrLegacyFile if legacy_file else Formats
    return click.option(
        "--output",
        *retired,
        "output",
        cls=AliasedOption,
        retired=retired,
        type=kind(list(formats), {"table": "text"} if "text" in formats else {}),
        default=default or formats[0],
        show_default=True,
        help=help or ("text for people, json for tools." if formats == ("text", "json") else "The output format."),
    )


def out_option(
    help: str = "Write to this file instead of stdout.", retired: tuple[str, ...] = (), folder: bool = False
) -> Callable[[F], F]:
    """`-o/--out FILE` (or DIR); `retired` spellings (e.g. --output-dir) still work."""
    return click.option(
        "-o",
        "--out",
        *retired,
        "out",
        cls=AliasedOption,
        retired=retired,
        type=click.Path(file_okay=not folder, dir_okay=folder),
        default=None,
        help=help,
        metavar="DIR" if folder else "FILE",
    )


color_option = click.option(
    "--color",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    show_default=True,
    help="Colour text output (auto honours NO_COLOR and whether stdout is a terminal).",
)
project_option = click.option(
    "--project-dir",
    type=click.Path(file_okay=False, exists=True),
    default=None,
    help="Project root for code paths, templates and the accounts file "
    "(default: the nearest folder above the spec, or above the current folder, with pyproject.toml, .git or sagespec.toml).",
)
workspace_option = click.option(
    "--workspace",
    type=click.Path(file_okay=False),
    default=None,
    help="Local state folder (default: .sagespec/ in the project, or $SAGESPEC_WORKSPACE).",
)
accounts_file_option = click.option(
    "--file",
    "accounts_file",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="Accounts file (default: pipelines/accounts.yaml of the project).",
)


def target_option(default: str | None = None) -> Callable[[F], F]:
    text = (
        "Where the pipeline lives (default: aws when a profile or AWS credentials are configured, else local)." if default is None else None
    )
    return click.option("--target", type=click.Choice(["local", "aws"]), default=default, show_default=default is not None, help=text)


def option_group(*options: Callable[[F], F]) -> Callable[[F], F]:
    """One decorator applying `options` in the order written (the first shows first in --help)."""

    def decorate(fn: F) -> F:
        for option in reversed(options):
            fn = option(fn)
        return fn

    return decorate


# Registry and promotion commands: the Region of the topology unless named.
accounts_region_option = click.option("--region", default=None, help="Region (default: the accounts file's).")


aws_options = option_group(
    click.option("--profile", default=None, help="AWS profile to call as (default: the standard credential chain)."),
    click.option("--region", default=None, help="AWS region (default: the spec's session.region, or the profile's)."),
    click.option("--assume-role", default=None, metavar="ARN", help="Assume this role first (e.g. in another account)."),
)


def build_context(
    spec: str | None = None,
    project_dir: str | None = None,
    workspace: str | None = None,
    target: str | None = None,
    profile: str | None = None,
    region: str | None = None,
    assume_role: str | None = None,
    accounts_file: str | None = None,
) -> Context:
    """The Context of this command: the spec's project (or the current folder's), its workspace,
    the target, and how to reach AWS."""
    if project_dir:
        root = Path(project_dir).resolve()
    else:
        root = find_project_root(spec if spec else Path.cwd())
    return Context.at(
        root,
        workspace,
        region,
        target=target or default_target(profile),
        profile=profile,
        assume_role=assume_role,
        accounts_file=Path(accounts_file) if accounts_file else None,
    )


def warn(diagnostics: list[Diagnostic]) -> None:
    """Warnings found on the way (errors stop a command through DiagnosticError)."""
    if diagnostics:
        click.echo(format_text(diagnostics), err=True)


def parse_pairs(values: tuple[str, ...], option: str) -> dict[str, str]:
    """NAME=VALUE arguments of a repeatable option."""
    pairs = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"expected NAME=VALUE, got '{item}'", param_hint=option)
        pairs[name] = value
    return pairs


def show(output: str, value: object, text: Callable[[], None]) -> None:
    """JSON of `value` (and nothing else), or the text view `text()`."""
    if output == "json":
        click.echo(to_json(value))
    else:
        text()


@contextmanager
def _writing(path: str | Path) -> Iterator[None]:
    """A failure to write `path` is E6016 naming it (exit 2), not a traceback."""
    try:
        yield
    except OSError as exc:
        raise UserError("E6016", f"cannot write {path}: {exc.strerror or exc}", exit_code=EXIT_USAGE) from None


def write_files(folder: str, files: dict[str, str]) -> None:
    """Write rendered files below `folder` (creating its subfolders), saying each one."""
    for relative, text in files.items():
        target = Path(folder) / relative
        with _writing(target):
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        click.echo(f"wrote {target}")


def write_output(path: str, content: bytes | str) -> None:
    """Write one file into an existing folder."""
    with _writing(path):
        Path(path).write_bytes(content) if isinstance(content, bytes) else Path(path).write_text(content, encoding="utf-8")
