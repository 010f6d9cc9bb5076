"""What the accounts file means, beyond its schema: the checks `validate` and every accounts
command run on it, each a located finding (E4012).

- every account of the topology is its own AWS account: the cross-account workflow's isolation
  (the blog's data science, shared services, deployment and workload accounts) is gone when two
  roles share an account ID;
- the KMS key is in the topology's region and partition, and in the shared-services account
  that owns the artifacts;
- the artifact prefix is a literal path: wildcards would widen every rendered policy;
- the region is one the partition has SageMaker in (botocore's endpoint data, the same table
  boto3 resolves endpoints from).
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from sagespec.aws import partitions
from sagespec.diagnostics import Diagnostic
from sagespec.spec.source import Document
from sagespec.spec.source import Path as JsonPath

WILDCARDS = ("*", "?")


def _accounts(data: dict[str, Any]) -> list[tuple[JsonPath, str, object]]:
    """(path, name, id) of every account, workloads included."""
    found: list[tuple[JsonPath, str, object]] = []
    for name, spec in (data.get("accounts") or {}).items():
        if name == "workloads" and isinstance(spec, dict):
            found += [(("accounts", "workloads", w, "id"), w, (ws or {}).get("id")) for w, ws in spec.items() if isinstance(ws, dict)]
        elif isinstance(spec, dict):
            found.append((("accounts", name, "id"), name, spec.get("id")))
    return found


def check_accounts(document: Document) -> list[Diagnostic]:
    data = document.data if isinstance(document.data, dict) else {}
    found: list[Diagnostic] = []

    def report(message: str, path: JsonPath, hint: str | None = None) -> None:
        found.append(Diagnostic("E4012", message, document.source.span(path), path, hint))

    seen: dict[str, str] = {}
    for path, name, account_id in _accounts(data):
        account_id = str(account_id)
        if account_id in seen:
            report(
                f"accounts {seen[account_id]} and {name} have the same ID {account_id}; the workflow needs separate accounts",
                path,
                hint="each role of the cross-account workflow lives in its own AWS account",
            )
        else:
            seen[account_id] = name
    region, partition = data.get("region"), data.get("partition")
    region_partition = partitions.region_partition(region) if isinstance(region, str) else None
    if isinstance(region, str) and region_partition is None:
        report(f"region {region!r} belongs to no AWS partition", ("region",), hint="e.g. " + ", ".join(partitions.regions("aws")[:6]))
    elif region_partition is not None and isinstance(partition, str) and partition != region_partition.name:
        report(
            f"region {region!r} is in partition {region_partition.name!r}, not {partition!r}",
            ("partition",),
            hint="leave `partition` out: it follows from the region",
        )
    partition = partition if isinstance(partition, str) else region_partition.name if region_partition else None
    if isinstance(region, str) and isinstance(partition, str):
        known = partitions.service_regions("api.sagemaker", partition)
        if known and region not in known:
            report(
                f"region {region!r} has no SageMaker in partition {partition!r}",
                ("region",),
                hint="one of: " + ", ".join(sorted(known)[:12]) + ("..." if len(known) > 12 else ""),
            )
    artifacts = data["artifacts"] if isinstance(data.get("artifacts"), dict) else {}
    key = artifacts.get("kms_key")
    owner_name = artifacts.get("owner", "shared_services")
    owner = ((data.get("accounts") or {}).get(owner_name) or {}).get("id")
    if isinstance(key, str) and key.startswith("arn:"):
        parts = key.split(":")
        if len(parts) >= 6:
            if parts[1] != partition:
                report(f"the KMS key is in partition {parts[1]!r}, the topology in {partition!r}", ("artifacts", "kms_key"))
            if parts[3] != region:
                report(
                    f"the KMS key is in region {parts[3]!r}, the topology in {region!r}",
                    ("artifacts", "kms_key"),
                    hint="a KMS key is regional: use the key of the topology's region",
                )
            if owner is not None and parts[4] != str(owner):
                report(
                    f"the KMS key belongs to account {parts[4]}, not to {owner_name.replace('_', ' ')} ({owner}), which owns the artifacts",
                    ("artifacts", "kms_key"),
                    hint="the key is in the account named by artifacts.owner (shared_services unless said otherwise)",
                )
    prefix = artifacts.get("prefix")
    if isinstance(prefix, str) and any(w in prefix for w in WILDCARDS):
        report(
            f"artifact prefix {prefix!r} has a wildcard; every policy rendered from it would grant more than the prefix",
            ("artifacts", "prefix"),
            hint="write the literal folder, e.g. california-housing",
        )
    bucket = artifacts.get("bucket")
    if isinstance(bucket, str) and any(w in bucket for w in WILDCARDS):
        report(f"artifact bucket {bucket!r} has a wildcard", ("artifacts", "bucket"))
    for index, spec in enumerate(data.get("pipelines") or []):
        # Specs the roles are derived from are the project's own: read nothing outside it.
        if isinstance(spec, str) and (PurePosixPath(spec).is_absolute() or ".." in PurePosixPath(spec).parts or spec.startswith("~")):
            report(
                f"pipelines entry {spec!r} leaves the project", ("pipelines", index), hint="name a spec, folder or glob inside the project"
            )
    return found
