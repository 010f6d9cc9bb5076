"""What S3 decides about buckets ("CreateBucket", Amazon S3 API Reference; "Security best
practices for Amazon S3")."""

from __future__ import annotations

from sagespec.diagnostics import UserError

# CreateBucket in us-east-1 takes no LocationConstraint; every other region needs its own.
NO_LOCATION_CONSTRAINT = "us-east-1"


def create_bucket_configuration(region: str) -> dict[str, str] | None:
    """CreateBucketConfiguration for a bucket in `region` (None where S3 wants none)."""
    return None if region == NO_LOCATION_CONSTRAINT else {"LocationConstraint": region}


def tls_only_statement(bucket_arn: str) -> dict[str, object]:
    """Deny any request to the bucket that is not sent over HTTPS (aws:SecureTransport false)."""
    return {
        "Sid": "DenyRequestsWithoutTls",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def split_uri(uri: str) -> tuple[str, str]:
    """(bucket, key) of an s3://bucket/key URI."""
    if not uri.startswith("s3://") or "/" not in uri[5:]:
        raise UserError("E6017", f"'{uri}' is not an s3://bucket/key URI")
    bucket, key = uri[5:].split("/", 1)
    return bucket, key
