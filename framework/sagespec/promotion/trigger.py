"""Promotion started by approvals: the registry's "SageMaker Model Package State Change" events.

Locally the events come from the control plane's event table, read with a per-subscriber
cursor that moves only after the promotion succeeded, so a failed promotion is retried on the
next run. In AWS, the EventBridge rule of `sagespec cicd render` plays this part.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Approval:
    version: int | None  # the newest version approved by the new events that is still Approved
    seen: int  # how many new events there were
    _acknowledge: object = field(default=None, repr=False)

    def acknowledge(self) -> None:
        if self._acknowledge:
            self._acknowledge()


def next_approval(registry, subscriber: str, group_name: str) -> Approval:
    after = registry.cursor(subscriber)
    events = registry.events(after)
    if not events:
        return Approval(None, 0)
    approved = {e["detail"]["ModelPackageVersion"]: e["detail"]["ModelPackageArn"] for e in events
                if e["detail"].get("ModelPackageGroupName") == group_name and e["detail"].get("ModelApprovalStatus") == "Approved"}
    # Approved, then rejected again: not that one.
    version = next((v for v in sorted(approved, reverse=True) if registry.describe(approved[v]).status == "Approved"), None)
    last = events[-1]["id"]
    return Approval(version, len(events), lambda: registry.acknowledge(subscriber, last))
