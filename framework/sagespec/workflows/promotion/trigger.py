"""Promotion started by approvals: the registry's "SageMaker Model Package State Change" events.

Locally the events come from the control plane's event table, read with a per-subscriber
cursor that moves only after the promotion succeeded, so a failed promotion is retried on the
next run. In AWS, the EventBridge rule of `sagespec cicd render` plays this part.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sagespec.backends.protocols import Registry
    from sagespec.workflows.promotion.promoter import Plan, Promoter


@dataclass
class Approval:
    version: int | None  # the newest version approved by the new events that is still Approved
    seen: int  # how many new events there were
    _acknowledge: Callable[[], None] | None = field(default=None, repr=False)

    def acknowledge(self) -> None:
        if self._acknowledge:
            self._acknowledge()


def next_approval(registry: Registry, subscriber: str, group_name: str) -> Approval:
    after = registry.cursor(subscriber)
    events = registry.events(after)
    if not events:
        return Approval(None, 0)
    approved = {
        e["detail"]["ModelPackageVersion"]: e["detail"]["ModelPackageArn"]
        for e in events
        if e["detail"].get("ModelPackageGroupName") == group_name and e["detail"].get("ModelApprovalStatus") == "Approved"
    }
    # Approved, then rejected again: not that one.
    version = next((v for v in sorted(approved, reverse=True) if registry.describe(approved[v]).status == "Approved"), None)
    last = events[-1]["id"]
    return Approval(version, len(events), lambda: registry.acknowledge(subscriber, last))


def promote_on_approval(
    registry: Registry,
    promoter: Promoter,
    carry_out: Callable[[Plan], None],
    say: Callable[[str], None],
    follow: bool = False,
    poll_seconds: float = 2.0,
) -> None:
    """Promote each newly approved version of the promoter's group, once or (`follow`) until interrupted.

    `carry_out(plan)` shows, gates and executes a plan; `say(text)` reports. The cursor moves
    only after the promotion succeeded (an exception leaves it, so the next run tries again).
    """

    subscriber = f"promote:{promoter.group_name}:{promoter.stage}"
    while True:
        found = next_approval(registry, subscriber, promoter.group_name)
        if found.version is not None:
            say(f"version {found.version} of {promoter.group_name} was approved ({found.seen} new event(s))")
            carry_out(promoter.plan_promote(found.version))
        elif found.seen:
            say(f"{found.seen} new event(s), no version still Approved among them")
        found.acknowledge()
        if not follow:
            if found.version is None and not found.seen:
                say(f"no new approvals of {promoter.group_name}")
            return
        time.sleep(poll_seconds)
