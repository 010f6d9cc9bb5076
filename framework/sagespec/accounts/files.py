"""The policies as files: what `accounts render` writes (a JSON file per policy and role, or a
CloudFormation template per account) and what `accounts check --policies DIR` reads back."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sagespec.accounts import cloudformation
from sagespec.accounts.grants import VERSION
from sagespec.accounts.render import AccountPolicies, ResourcePolicy, render
from sagespec.diagnostics import UserError
from sagespec.spec.files import UnsafePath, read_bytes
from sagespec.spec.topology import Topology

if TYPE_CHECKING:
    from sagespec.accounts.needs import Need


def policy_files(topology: Topology, output: str = "json", needs: Sequence[Need] = ()) -> dict[str, dict[str, Any]]:
    """What `accounts render` writes, by relative path: one JSON file per policy and role
    (`<account>/<kind>.<resource>.json`, `<account>/role.<name>.json`), or one CloudFormation
    template per account (`<account>.template.json`)."""
    if output == "cloudformation":
        return {f"{name.replace('_', '-')}.template.json": t for name, t in cloudformation.templates(topology, needs).items()}
    files: dict[str, dict[str, Any]] = {}
    for account in render(topology, needs=needs):
        folder = account.name.replace("_", "-")
        for policy in account.resource_policies:
            files[f"{folder}/{policy.kind}.{policy.resource.rsplit('/', 1)[-1].rsplit(':', 1)[-1]}.json"] = policy.document
        for role in account.roles:
            files[f"{folder}/role.{role.name}.json"] = {
                "RoleName": role.name,
                "Arn": role.arn,
                "AssumeRolePolicyDocument": role.trust,
                "InlinePolicies": role.inline,
                **({"ManagedPolicyArns": role.managed} if role.managed else {}),
            }
    return files


def read_policy_files(policies: list[AccountPolicies], folder: str | os.PathLike[str], root: Path | None = None) -> list[AccountPolicies]:
    """The rendered policies with each document replaced by the file `accounts render -o DIR` wrote
    for it (edited or not); a file that is gone removes that policy, as deleting it in AWS would.
    Files are read as the project's files are: regular files of bounded size, no link out of it."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError("E0001", f"no policy folder at {folder}", hint="write one with `sagespec accounts render -o DIR`", exit_code=2)

    def load(relative: str) -> Any:
        path = folder / relative
        if not path.exists():
            return None
        try:
            return json.loads(read_bytes(path, root, str(path)))
        except UnsafePath as refused:
            raise UserError(refused.code, refused.message, exit_code=2) from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise UserError("E6018", f"{path} is not a JSON policy document: {exc}", exit_code=2) from None

    edited = copy.deepcopy(policies)
    for account in edited:
        prefix = account.name.replace("_", "-")
        kept = []
        for policy in account.resource_policies:
            document = load(f"{prefix}/{policy.kind}.{policy.resource.rsplit('/', 1)[-1].rsplit(':', 1)[-1]}.json")
            if document is not None:
                kept.append(ResourcePolicy(policy.kind, policy.resource, document))
        account.resource_policies = kept
        for role in account.roles:
            described = load(f"{prefix}/role.{role.name}.json")
            if not isinstance(described, dict):
                role.inline, role.managed, role.trust = {}, [], {"Version": VERSION, "Statement": []}
                continue
            role.trust = described.get("AssumeRolePolicyDocument") or {"Version": VERSION, "Statement": []}
            role.inline = described.get("InlinePolicies") or {}
            role.managed = list(described.get("ManagedPolicyArns") or [])
    return edited
