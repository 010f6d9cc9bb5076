"""Where a project's requests land, beyond what a pipeline definition says: the partition and
region, the artifact bucket's KMS key, the workload roles that serve registered versions, the
shared model package groups. Its own module because every local backend needs it, and a
registry command must not load the needs analysis (start-up time, bench/registry.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sagespec.aws.partitions import Partition
    from sagespec.spec.topology import Topology


@dataclass
class Places:
    """What the definition does not say but the context and the topology do."""

    aws: Partition
    region: str
    bucket_keys: dict[str, str] = field(default_factory=dict)  # bucket -> the KMS key its objects are encrypted with
    endpoint_roles: list[str] = field(default_factory=list)  # workload roles that serve registered versions
    served_groups: set[str] = field(default_factory=set)  # group ARNs whose versions are promoted to the workloads


def places_of(topology: Topology, aws: Partition, region: str) -> Places:
    """What the accounts file adds to the context's partition and region: the artifact bucket's
    key, the endpoint roles, the shared groups (nothing, for a project without one)."""
    bucket_keys: dict[str, str] = {}
    if topology.artifacts.get("bucket") and topology.artifacts.get("kms_key"):
        bucket_keys[topology.artifacts["bucket"]] = topology.artifacts["kms_key"]
    endpoint_roles = [a.principal.arn for a in topology.workloads]
    served = {topology.group_arn(g) for g in topology.model_package_groups} if topology.shared_services else set()
    return Places(aws, region, bucket_keys, endpoint_roles, served)
