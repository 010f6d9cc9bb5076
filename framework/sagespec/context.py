"""The context a command works in, built once at the edge (the CLI) and passed down.

Which folder is the project (code paths, templates, pipelines/accounts.yaml), where its local
state lives (the workspace), which target a command talks to (local or aws), and what AWS
would know of the call: its region, partition and caller. Nothing below the CLI looks at the
current directory, the environment or the AWS configuration files; it asks the context.

The region, in order: `--region`; the spec's `session.region` (commands on a spec, through
`for_region`); the accounts file's `region`; the standard AWS configuration (AWS_REGION,
AWS_DEFAULT_REGION, the profile's `region` in the AWS config file); else
`aws.partitions.DEFAULT_REGION`. The partition is the accounts file's, else the region's.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from sagespec.aws import partitions
from sagespec.aws.partitions import Partition
from sagespec.iam import Principal
from sagespec.spec.topology import Topology, load_topology, resolve_caller

if TYPE_CHECKING:
    import boto3

    from sagespec.spec.topology import Account

WORKSPACE_ENV = "SAGESPEC_WORKSPACE"
SDK_ENV = "SAGESPEC_SDK"
ISOLATION_ENV = "SAGESPEC_ISOLATION"
WORKSPACE_NAME = ".sagespec"
TARGETS = ("local", "aws")


def workspace_dir(project_root: Path, override: str | os.PathLike[str] | None = None) -> Path:
    chosen = override or os.environ.get(WORKSPACE_ENV)
    return Path(chosen).resolve() if chosen else project_root / WORKSPACE_NAME


def default_target(profile: str | None = None) -> str:
    """aws when an AWS identity is configured (a profile, or credentials in the environment), else local."""
    return "aws" if profile or any(os.environ.get(v) for v in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID")) else "local"


def configured_region(profile: str | None = None) -> tuple[str, str] | None:
    """(region, where it was found) from the standard AWS configuration: AWS_REGION,
    AWS_DEFAULT_REGION, then the profile's `region` in the config file ("Configuration and
    credential file settings", AWS CLI User Guide). Read here rather than through botocore so
    that local commands start without importing it."""
    for variable in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        if os.environ.get(variable):
            return os.environ[variable], variable
    import configparser  # start-up: only when no accounts file or variable names the region

    name = profile or os.environ.get("AWS_PROFILE") or "default"
    config = Path(os.environ.get("AWS_CONFIG_FILE") or Path.home() / ".aws" / "config")
    parser = configparser.RawConfigParser()
    try:
        parser.read(config, encoding="utf-8")
    except (OSError, configparser.Error, UnicodeDecodeError):
        return None
    section = name if name == "default" else f"profile {name}"
    region = parser.get(section, "region", fallback=None) if parser.has_section(section) else None
    return (region, f"profile {name} in {config}") if region else None


@dataclass
class Context:
    root: Path
    workspace: Path
    target: str = "local"
    profile: str | None = None
    region_option: str | None = None  # --region, or the spec's session.region (for_region)
    assume_role: str | None = None
    accounts_file: Path | None = None
    sdk: str | None = None  # the SageMaker Python SDK a compile must use (--sdk, $SAGESPEC_SDK); None: the installed one
    isolation: str | None = None  # how local jobs see their container paths ($SAGESPEC_ISOLATION); None: the first mode available
    _topologies: dict[bool, Topology] = field(default_factory=dict, repr=False)

    @classmethod
    def at(
        cls,
        root: Path,
        workspace: str | os.PathLike[str] | None = None,
        region: str | None = None,
        sdk: str | None = None,
        *,
        target: str = "local",
        profile: str | None = None,
        assume_role: str | None = None,
        accounts_file: Path | None = None,
    ) -> Context:
        """The context of the project rooted at `root`; its workspace `workspace` (default:
        $SAGESPEC_WORKSPACE or root/.sagespec), its SDK `sdk` (default: $SAGESPEC_SDK)."""
        return cls(
            root=root,
            workspace=workspace_dir(root, workspace),
            target=target,
            profile=profile,
            region_option=region,
            assume_role=assume_role,
            accounts_file=accounts_file,
            sdk=sdk or os.environ.get(SDK_ENV) or None,
            isolation=os.environ.get(ISOLATION_ENV) or None,
        )

    def for_region(self, region: str | None) -> Context:
        """This context acting in `region` (a spec's session.region) unless --region named one."""
        if not region or self.region_option:
            return self
        return dataclasses.replace(self, region_option=region)

    def with_target(self, target: str) -> Context:
        return self if target == self.target else dataclasses.replace(self, target=target)

    # -- the project -----------------------------------------------------------------------
    @property
    def compile_cache(self) -> Path:
        return self.workspace / "cache" / "compile"

    def topology(self, validate: bool = False) -> Topology:
        """The accounts file's topology, loaded once (an empty one when the project has none and
        `validate` is off; `validate` also checks the file against its schema)."""
        if not validate and True in self._topologies:
            return self._topologies[True]  # a validated file is the same topology: not read twice
        if validate not in self._topologies:
            self._topologies[validate] = load_topology(self.root, self.accounts_file, validate=validate, cache_dir=self.workspace)
        return self._topologies[validate]

    # -- what AWS would know ---------------------------------------------------------------
    @cached_property
    def _region(self) -> tuple[str, str]:
        if self.region_option:
            return self.region_option, "--region"
        topology = self.topology()
        if topology.region:
            return topology.region, str(topology.source or "the accounts file")
        return configured_region(self.profile) or (partitions.DEFAULT_REGION, "the default region")

    @property
    def region(self) -> str:
        return self._region[0]

    @property
    def region_source(self) -> str:
        """Where the region came from (for messages that name it)."""
        return self._region[1]

    @property
    def partition(self) -> Partition:
        topology = self.topology()
        if topology.partition:
            return partitions.partition(topology.partition)
        return partitions.of_region(self.region)

    def caller(self, who: str | None = None) -> Principal:
        """Who a local command acts as: `who` (--as: an account name, ID or role ARN) or
        $SAGESPEC_AS, resolved through the accounts file."""
        return resolve_caller(who, self.topology(), self.partition.name)

    # -- AWS sessions ----------------------------------------------------------------------
    def session(self, region: str | None = None, profile: str | None = None, assume_role: str | None = None) -> boto3.Session:
        """A boto3 session as the context's AWS identity (or the one named), in its region."""
        from sagespec.aws import sessions  # start-up: boto3 is imported only by commands that call AWS

        return sessions.session(profile or self.profile, region or self.region, assume_role or self.assume_role)

    def account_session(self, account: Account, assume_role_name: str | None = None) -> boto3.Session:
        """A session in one account of the topology: its profile or assume_role, or (AWS
        Organizations style) `assume_role_name` assumed in it from the current credentials."""
        from sagespec.aws import sessions  # start-up: boto3 is imported only by commands that call AWS

        if assume_role_name:
            return sessions.session(self.profile, self.region, self.partition.role(account.id, assume_role_name))
        return sessions.session(account.profile, self.region, account.assume_role)
