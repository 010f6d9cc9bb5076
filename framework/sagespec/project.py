"""The project a command works on, built once at the edge (the CLI) and passed down.

Which folder is the project (code paths, templates, pipelines/accounts.yaml), where its local
state lives (the workspace), which target a command talks to (local or aws) and how to reach
AWS (profile, region, assumed role). Nothing below the CLI looks at the current directory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from sagespec.spec.topology import Topology, load_topology
from sagespec.workspace import workspace_dir


def default_target(profile: str | None = None) -> str:
    """aws when an AWS identity is configured (a profile, or credentials in the environment), else local."""
    return "aws" if profile or any(os.environ.get(v) for v in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID")) else "local"


@dataclass
class Project:
    root: Path
    workspace: Path
    target: str = "local"
    profile: str | None = None
    region: str | None = None
    assume_role: str | None = None
    accounts_file: Path | None = None
    _topologies: dict = field(default_factory=dict, repr=False)

    @classmethod
    def at(cls, root: Path, workspace: str | os.PathLike | None = None, **settings) -> Project:
        """The project rooted at `root`, its workspace `workspace` (default: $SAGESPEC_WORKSPACE or root/.sagespec)."""
        return cls(root=root, workspace=workspace_dir(root, workspace), **settings)

    def topology(self, validate: bool = False) -> Topology:
        """The accounts file's topology, loaded once (an empty one when the project has none and
        `validate` is off; `validate` also checks the file against its schema)."""
        if not validate and True in self._topologies:
            return self._topologies[True]  # a validated file is the same topology: not read twice
        if validate not in self._topologies:
            self._topologies[validate] = load_topology(self.root, self.accounts_file, validate=validate)
        return self._topologies[validate]

    def session(self, region: str | None = None, profile: str | None = None, assume_role: str | None = None):
        """A boto3 session as the project's AWS identity (or the one named)."""
        from sagespec import aws

        return aws.session(profile or self.profile, region or self.region, assume_role or self.assume_role)

    def session_for(self, assume_role_name: str | None = None):
        """Account -> boto3 session, for the accounts of the topology."""
        from sagespec import aws

        return aws.default_session_for(self.topology(), assume_role_name)
