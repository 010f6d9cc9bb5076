"""The buckets an upsert writes to, checked before the first upload into an account, and created
on request the way the accounts file's bucket is: owner-enforced, no public access, SSE-KMS with
the accounts file's key, TLS only.

Without the check a first upsert into a new account fails at PutObject with NoSuchBucket and no
hint; HeadBucket answers 404 for a missing bucket and 403 for one that exists but is not the
caller's to read (then the upload itself says what is wrong).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import botocore.exceptions

from sagespec.aws import partitions
from sagespec.aws.s3 import create_bucket_configuration, tls_only_statement
from sagespec.aws.sessions import aws_errors

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_s3.type_defs import ServerSideEncryptionRuleTypeDef


def missing(session: boto3.Session, buckets: list[str]) -> list[str]:
    """The buckets of `buckets` that do not exist (HeadBucket 404)."""

    s3 = session.client("s3")
    absent = []
    for bucket in buckets:
        try:
            s3.head_bucket(Bucket=bucket)
        except botocore.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchBucket", "NotFound"):
                absent.append(bucket)
            # 403: it exists and belongs to someone, or the caller may not look; the upload will say
    return absent


def create(session: boto3.Session, bucket: str, region: str, kms_key: str | None, policy: dict[str, Any] | None = None) -> list[str]:
    """Create `bucket` in the caller's account; return what was done, one line per request.
    `policy`: the bucket policy (default: TLS only)."""
    s3 = session.client("s3")
    done = []
    request: dict[str, Any] = {"Bucket": bucket, "ObjectOwnership": "BucketOwnerEnforced"}
    configuration = create_bucket_configuration(region)
    if configuration:
        request["CreateBucketConfiguration"] = configuration
    with aws_errors(f"creating bucket {bucket}"):
        s3.create_bucket(**request)
    done.append(f"created bucket {bucket} in {region} (object ownership: bucket owner enforced)")
    with aws_errors(f"blocking public access to bucket {bucket}"):
        s3.put_public_access_block(
            Bucket=bucket,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
    done.append("blocked public access")
    rule: ServerSideEncryptionRuleTypeDef = (
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": kms_key}, "BucketKeyEnabled": True}
        if kms_key
        else {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
    )
    with aws_errors(f"setting the default encryption of bucket {bucket}"):
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [rule]})
    done.append(
        f"default encryption SSE-KMS with {kms_key}" if kms_key else "default encryption SSE-S3 (the accounts file names no KMS key)"
    )
    document = policy or {"Version": "2012-10-17", "Statement": [tls_only_statement(partitions.of_region(region).bucket(bucket))]}
    with aws_errors(f"setting the policy of bucket {bucket}"):
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(document))
    sids = ", ".join(s.get("Sid", "?") for s in document["Statement"])
    done.append(f"bucket policy: {sids}")
    return done
