"""AWS partitions, and every ARN, service principal and endpoint host sagespec writes.

A partition is a group of regions with its own accounts, ARNs and DNS suffix (`aws`,
`aws-cn`, `aws-us-gov`, ...; "Identify AWS resources with Amazon Resource Names (ARNs)" in the
IAM User Guide). The data is botocore's own (`botocore/data/partitions.json`), read as a file so
that commands which never call AWS do not import botocore. Nothing else in sagespec spells
`arn:aws:`, a DNS suffix or a default region: it asks a `Partition` from here.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Where a command acts when nothing names a region: no --region, no spec session.region, no
# accounts file, no AWS configuration. botocore's own default partition's first region, and the
# region of the SageMaker examples; said, never guessed silently (context.py names its source).
DEFAULT_REGION = "us-east-1"

# Service principals: "<service>.<dnsSuffix of the aws partition>" in every partition, except
# those listed here ("AWS service principals", IAM User Guide; in the China Regions EC2 is the
# documented exception that takes the partition's own suffix, other services keep
# amazonaws.com, e.g. monitoring.rds.amazonaws.com, ecs-tasks.amazonaws.com).
PRINCIPAL_EXCEPTIONS = {("aws-cn", "ec2"): "ec2.amazonaws.com.cn"}
PRINCIPAL_SUFFIX = "amazonaws.com"


def service_principal(service: str, partition_name: str) -> str:
    """The principal `service` acts as in partition `partition_name`."""
    return PRINCIPAL_EXCEPTIONS.get((partition_name, service), f"{service}.{PRINCIPAL_SUFFIX}")


class UnknownPartition(ValueError):
    """A region or partition name botocore does not know."""


@functools.cache
def _data() -> list[dict[str, Any]]:
    spec = importlib.util.find_spec("botocore")
    if spec is None or spec.origin is None:
        raise UnknownPartition("botocore is not installed: its partitions.json is where partitions are read")
    path = Path(spec.origin).parent / "data" / "partitions.json"
    partitions: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))["partitions"]
    return partitions


@dataclass(frozen=True)
class Partition:
    name: str  # aws | aws-cn | aws-us-gov | ...
    dns_suffix: str  # amazonaws.com | amazonaws.com.cn | ...

    # -- ARNs ------------------------------------------------------------------------------
    def arn(self, service: str, region: str, account: str, resource: str) -> str:
        """arn:<partition>:<service>:<region>:<account>:<resource> (region and account may be empty)."""
        return f"arn:{self.name}:{service}:{region}:{account}:{resource}"

    def role(self, account: str, name: str) -> str:
        return self.arn("iam", "", account, f"role/{name}")

    def root(self, account: str) -> str:
        return self.arn("iam", "", account, "root")

    def sagemaker(self, region: str, account: str, resource: str) -> str:
        return self.arn("sagemaker", region, account, resource)

    def bucket(self, bucket: str, key: str | None = None) -> str:
        return self.arn("s3", "", "", bucket if key is None else f"{bucket}/{key}")

    # -- principals and endpoints -----------------------------------------------------------
    def service_principal(self, service: str) -> str:
        """The principal a service acts as in this partition's policies (sagemaker.amazonaws.com)."""
        return service_principal(service, self.name)

    def endpoint_host(self, service: str, region: str) -> str:
        """A regional endpoint's host name (s3.eu-west-1.amazonaws.com), the value of kms:ViaService."""
        return f"{service}.{region}.{self.dns_suffix}"

    def ecr_registry(self, account: str, region: str) -> str:
        """An ECR registry host (<account>.dkr.ecr.<region>.amazonaws.com[.cn])."""
        return f"{account}.dkr.ecr.{region}.{self.dns_suffix}"


@functools.cache
def partition(name: str) -> Partition:
    for entry in _data():
        if entry["id"] == name:
            return Partition(entry["id"], entry["outputs"]["dnsSuffix"])
    raise UnknownPartition(f"'{name}' is not an AWS partition (known: {', '.join(names())})")


@functools.cache
def of_region(region: str) -> Partition:
    """The partition a region belongs to: listed there, or matching its region pattern."""
    for entry in _data():
        if region in entry["regions"] or re.match(entry["regionRegex"], region):
            return partition(entry["id"])
    raise UnknownPartition(f"'{region}' is not a region of any AWS partition")


@functools.cache
def dns_suffixes() -> frozenset[str]:
    return frozenset(entry["outputs"]["dnsSuffix"] for entry in _data())


def region_partition(region: str) -> Partition | None:
    """The partition of `region`, or None for a name no partition has."""
    try:
        return of_region(region)
    except UnknownPartition:
        return None


@functools.cache
def service_regions(endpoint_prefix: str, partition_name: str) -> frozenset[str]:
    """The regions of `partition_name` with an endpoint of the service (by its endpoint prefix:
    SageMaker's control plane is "api.sagemaker", as botocore's service model names it), from
    botocore's endpoints.json, the table boto3 resolves endpoints from; empty where it has none."""
    spec = importlib.util.find_spec("botocore")
    if spec is None or spec.origin is None:
        return frozenset()
    table = json.loads((Path(spec.origin).parent / "data" / "endpoints.json").read_text(encoding="utf-8"))
    for entry in table.get("partitions", []):
        if entry.get("partition") == partition_name:
            endpoints = entry.get("services", {}).get(endpoint_prefix, {}).get("endpoints", {})
            return frozenset(name for name in endpoints if name in entry.get("regions", {}))
    return frozenset()


def names() -> list[str]:
    return [entry["id"] for entry in _data()]


def regions(name: str) -> list[str]:
    """The regions botocore lists for a partition (without its *-global pseudo regions)."""
    entry = next(e for e in _data() if e["id"] == name)
    return sorted(r for r in entry["regions"] if not r.endswith("-global"))


def of_arn(arn: str) -> Partition | None:
    """The partition an ARN names, or None when it is no ARN."""
    parts = arn.split(":", 2)
    if len(parts) < 3 or parts[0] != "arn":
        return None
    try:
        return partition(parts[1])
    except UnknownPartition:
        return None
