"""A change to the policies of an account: what it is, the diff against what is there, and the
write that makes it. Planned by a backend (sagespec.backends.sagemaker.policies reads AWS,
sagespec.backends.local.policy_admin the local control plane), shown, then executed."""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Change:
    account: str
    what: str  # e.g. "s3 bucket policy of sagespec-shared-artifacts-222222222222"
    action: str  # create | update | delete | unchanged
    diff: str
    write: Callable[[], object] | None = None  # does the change

    @property
    def changes(self) -> bool:
        return self.action != "unchanged"


def text(document: object) -> list[str]:
    """A policy document as sorted, indented JSON lines (what a diff compares)."""
    return json.dumps(document, indent=2, sort_keys=True).splitlines() if document is not None else []


def normal(document: object) -> object:
    if isinstance(document, str):
        document = json.loads(document)
    return json.loads(json.dumps(document, sort_keys=True))


def change(account: str, what: str, current: object, wanted: object, write: Callable[[], object]) -> Change:
    """The change from `current` (None: absent) to `wanted`: unchanged when they are the same JSON."""
    if current is not None and normal(current) == normal(wanted):
        return Change(account, what, "unchanged", "")
    diff = "\n".join(difflib.unified_diff(text(current), text(wanted), "current", "rendered", lineterm="", n=2))
    return Change(account, what, "create" if current is None else "update", diff, write)


def deletion(account: str, what: str, current: object, write: Callable[[], object]) -> Change:
    return Change(account, what, "delete", "\n".join(f"-{line}" for line in text(current)), write)
