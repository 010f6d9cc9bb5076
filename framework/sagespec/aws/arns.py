"""Reading ARNs: arn:partition:service:region:account-id:resource ("Identify AWS resources with
Amazon Resource Names (ARNs)", IAM User Guide). Building them is aws.partitions' job."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Arn:
    partition: str
    service: str
    region: str
    account: str
    resource: str

    def __str__(self) -> str:
        return f"arn:{self.partition}:{self.service}:{self.region}:{self.account}:{self.resource}"


def parse(text: object) -> Arn | None:
    """The parts of an ARN, or None when `text` is none."""
    if not isinstance(text, str) or not text.startswith("arn:"):
        return None
    parts = text.split(":", 5)
    if len(parts) != 6:
        return None
    return Arn(*parts[1:])


def account_of(arn: str) -> str:
    """The account ID of an ARN ('' for ARNs without one, like S3 buckets')."""
    parsed = parse(arn)
    return parsed.account if parsed else ""


def partition_of(arn: str) -> str | None:
    parsed = parse(arn)
    return parsed.partition if parsed else None
