"""The accounts file (pipelines/accounts.yaml): its topology, and who a command runs as.

Loading it is part of the spec stage: templates read the topology (`{{ accounts... }}`) and
every later stage receives it already loaded.

`--as` takes a name from the topology (data-science, shared-services, deployment, qa, prod),
a 12-digit account ID (its root), or a role ARN. Locally that is the caller identity every
registry check uses; against AWS, `--as` names the profile to call with.
"""

from __future__ import annotations

import functools
import json
import os
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from sagespec.aws import partitions
from sagespec.diagnostics import DiagnosticError, UserError
from sagespec.iam import Principal
from sagespec.spec.accounts_checks import check_accounts
from sagespec.spec.project import display_path

if TYPE_CHECKING:
    from sagespec.diagnostics import Diagnostic
    from sagespec.spec.source import Document

ACCOUNTS_FILE = Path("pipelines") / "accounts.yaml"
AS_ENV = "SAGESPEC_AS"


@dataclass(frozen=True)
class Account:
    name: str  # data_science, shared_services, deployment, qa, prod, ...
    id: str
    role: str
    partition: str
    profile: str | None = None
    workload: bool = False
    assume_role: str | None = None
    model_package_groups: tuple[str, ...] = ()  # groups the account owns itself (not the shared registry's)
    assumed_by: tuple[str, ...] = ()  # principals its role trusts (the deployment role: CI)

    @property
    def principal(self) -> Principal:
        return Principal(self.id, partitions.partition(self.partition).role(self.id, self.role))


class Artifacts(TypedDict, total=False):
    """The accounts file's `artifacts:` (bucket, prefix and kms_key are required there; a project
    without an accounts file has none)."""

    owner: str  # shared_services (the default) or data_science
    bucket: str
    prefix: str
    kms_key: str  # the key's ARN


@dataclass
class Topology:
    # None without an accounts file (sagespec.context then resolves them); from the file, the
    # partition defaults to the region's.
    region: str | None = None
    accounts: dict[str, Account] = field(default_factory=dict)
    artifacts: Artifacts = field(default_factory=lambda: Artifacts())
    model_package_groups: list[str] = field(default_factory=list)
    source: Path | None = None
    partition: str | None = None
    ecr_repositories: list[str] = field(default_factory=list)
    access: str = "least-privilege"  # or "managed": AmazonSageMakerFullAccess attached
    pipelines: list[str] = field(default_factory=list)  # specs the roles are derived from (empty: pipelines/)

    @property
    def artifacts_owner(self) -> Account:
        """The account holding the bucket and the key (shared services, or data science in the guide's topology)."""
        return self.accounts[self.artifacts.get("owner", "shared_services")]

    def find(self, name: str) -> Account | None:
        return self.accounts.get(name.replace("-", "_").lower())

    def declares_group(self, account_id: str, name: str) -> bool:
        """Whether the accounts file names group `name` in account `account_id` (the shared
        registry's groups live in shared services)."""
        shared = self.shared_services
        if shared is not None and shared.id == account_id and name in self.model_package_groups:
            return True
        owner = self.by_id(account_id)
        return owner is not None and name in owner.model_package_groups

    def by_id(self, account_id: str) -> Account | None:
        return next((a for a in self.accounts.values() if a.id == account_id), None)

    @property
    def shared_services(self) -> Account | None:
        return self.accounts.get("shared_services")

    @property
    def workloads(self) -> list[Account]:
        return [a for a in self.accounts.values() if a.workload]

    def group_arn(self, name: str) -> str:
        """The ARN of the shared-services group `name` (an ARN is returned as is)."""
        if name.startswith("arn:"):
            return name
        return self.aws.sagemaker(self.region or "", self.accounts["shared_services"].id, f"model-package-group/{name}")

    @property
    def aws(self) -> partitions.Partition:
        """The partition of an accounts file (only a loaded one has accounts to name)."""
        if self.partition:
            return partitions.partition(self.partition)
        if self.region:
            return partitions.of_region(self.region)
        raise UserError("E6014", "the project has no accounts file: its partition is the context's", exit_code=2)

    def template_view(self) -> dict[str, Any]:
        """What templates and spec params see as `accounts` (e.g. {{ accounts.data_science.role_arn }})."""
        view = {name: {"id": a.id, "role": a.role, "role_arn": a.principal.arn, "profile": a.profile} for name, a in self.accounts.items()}
        return {
            **view,
            "region": self.region,
            "partition": self.partition,
            "artifacts": dict(self.artifacts),
            "model_package_groups": {g: self.group_arn(g) for g in self.model_package_groups},
        }


ACCOUNTS_SCHEMA = "accounts.schema.json"


def validate_accounts_file(path: Path, root: Path | None = None) -> tuple[Document | None, list[Diagnostic]]:
    """(document, diagnostics) of an accounts file checked against schemas/accounts.schema.json."""
    # start-up: jsonschema costs registry commands, which only read names and IDs, ~40 ms
    from sagespec.spec import schema
    from sagespec.spec.yaml_loader import load_file  # (and PyYAML, when the accounts file is cached)

    document, found = load_file(path, display_path(path), root if root is not None else path.parent.parent)
    if document is not None:
        schema_errors = schema.validate(document, ACCOUNTS_SCHEMA)
        found += schema_errors
        if not schema_errors:
            found += check_accounts(document)
    return document, found


def load_topology(project_root: Path, path: Path | None = None, validate: bool = False, cache_dir: Path | None = None) -> Topology:
    """The topology, or an empty one when the project has no accounts file.

    `validate` checks the file against its schema first (accounts commands do; the registry's
    `--as` lookup only reads names and IDs, and stays fast by not importing jsonschema).
    With `cache_dir` (the workspace), a file read once is read again from a JSON copy of its
    data while its text is unchanged: a registry command then imports no YAML parser.
    """

    path = path or project_root / ACCOUNTS_FILE
    if not path.is_file():
        if validate:
            raise UserError("E0001", f"no accounts file at {path}", hint="describe the topology in pipelines/accounts.yaml", exit_code=2)
        return Topology()
    text = None if validate or cache_dir is None else _read_text(path)
    data = _cached_data(path, text, cache_dir) if text is not None and cache_dir is not None else None
    if data is None:
        stat = path.stat()
        document, found = _parsed(path, project_root, display_path(path), validate, stat.st_mtime_ns, stat.st_size)
        if document is None or found:
            # The findings themselves, located in the accounts file: not wrapped in another message.
            raise DiagnosticError(list(found), f"the accounts file {display_path(path)} is invalid")
        read = document.data or {}
        if not isinstance(read, dict):
            # A file that is not a mapping (a list, a string): the schema's finding, not an AttributeError below.
            raise DiagnosticError(validate_accounts_file(path, project_root)[1], f"the accounts file {display_path(path)} is invalid")
        data = read
        if text is not None and cache_dir is not None:
            _store_data(path, text, data, cache_dir)
    return _topology(data, path)


@functools.lru_cache(maxsize=16)
def _parsed(path: Path, root: Path, shown: str, validate: bool, mtime_ns: int, size: int) -> tuple[Document | None, tuple[Diagnostic, ...]]:
    """The accounts file as on disk (its size and modification time), parsed once per process:
    every spec of a `validate` call reads the project's accounts file."""
    if validate:
        document, found = validate_accounts_file(path, root)
    else:
        # start-up: PyYAML only when the accounts file changed since a registry command last read it
        from sagespec.spec.yaml_loader import load_file

        document, found = load_file(path, shown, root)
    return document, tuple(found)


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None  # read (and reported) by the YAML loader


def _cache_file(path: Path, cache_dir: Path) -> Path:
    return cache_dir / "cache" / f"accounts-{zlib.crc32(str(path.resolve()).encode()):08x}.json"


def _cached_data(path: Path, text: str, cache_dir: Path) -> dict[str, Any] | None:
    """The data of the accounts file whose text is exactly `text`, as stored by _store_data."""
    try:
        stored = json.loads(_cache_file(path, cache_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(stored, dict) or stored.get("path") != str(path.resolve()) or stored.get("text") != text:
        return None
    data = stored.get("data")
    return data if isinstance(data, dict) else None


def _store_data(path: Path, text: str, data: dict[str, Any], cache_dir: Path) -> None:
    """Keep the parsed data beside the text it came from; a copy that cannot be written (a
    read-only workspace, a value JSON cannot hold) is simply not kept."""
    target = _cache_file(path, cache_dir)
    try:
        body = json.dumps({"path": str(path.resolve()), "text": text, "data": data})
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(body, encoding="utf-8")
        os.replace(partial, target)
    except (OSError, TypeError, ValueError):
        return


def _topology(data: dict[str, Any], path: Path) -> Topology:
    entries = [(n, s, False) for n, s in (data.get("accounts") or {}).items() if n != "workloads"]
    entries += [(n, s, True) for n, s in ((data.get("accounts") or {}).get("workloads") or {}).items()]
    region = data.get("region")
    partition = data.get("partition") or (partitions.of_region(region).name if region else None)
    accounts = {
        name: Account(
            name,
            str(spec["id"]),
            spec["role"],
            partition or partitions.of_region(partitions.DEFAULT_REGION).name,
            spec.get("profile"),
            workload,
            spec.get("assume_role"),
            tuple(spec.get("model_package_groups") or ()),
            tuple(spec.get("assumed_by") or ()),
        )
        for name, spec, workload in entries
    }
    return Topology(
        region,
        accounts,
        _artifacts(data.get("artifacts")),
        list(data.get("model_package_groups") or []),
        path,
        partition,
        list(data.get("ecr_repositories") or []),
        data.get("access", "least-privilege"),
        list(data.get("pipelines") or []),
    )


def _artifacts(value: object) -> Artifacts:
    """The `artifacts:` section, copied (the file's parsed data may be shared by later loads)."""
    found = Artifacts()
    for key in ("owner", "bucket", "prefix", "kms_key"):
        if isinstance(value, dict) and isinstance(value.get(key), str):
            found[key] = value[key]
    return found


def resolve_caller(value: str | None, topology: Topology, partition: str) -> Principal:
    value = value or os.environ.get(AS_ENV)
    names = ", ".join(n.replace("_", "-") for n in topology.accounts) or "none (no pipelines/accounts.yaml)"
    if not value:
        raise UserError(
            "E6010",
            "say who is calling: --as NAME, ACCOUNT_ID or ROLE_ARN (or set SAGESPEC_AS)",
            hint=f"names in the accounts file: {names}",
        )
    account = topology.find(value)
    if account:
        return account.principal
    if re.fullmatch(r"\d{12}", value):
        known = topology.by_id(value)
        return known.principal if known else Principal(value, partitions.partition(partition).root(value))
    m = re.fullmatch(r"arn:(aws[a-z-]*):iam::(\d{12}):(role/[\w+=,.@/-]+|root)", value)
    if m:
        return Principal(m.group(2), value)
    raise UserError("E6013", f"'{value}' is not an account name, 12-digit account ID or IAM role ARN", hint=f"names: {names}")
