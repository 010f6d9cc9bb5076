"""Objects by their S3 URI, in S3 (backends.protocols.Objects): what promotion reads (registered
metrics, test data) and `data` commands list on AWS."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

import botocore.exceptions

from sagespec.aws.s3 import split_uri
from sagespec.aws.sessions import aws_errors

if TYPE_CHECKING:
    import builtins

    import boto3


class S3Objects:
    def __init__(self, session: boto3.Session):
        self.s3 = session.client("s3")

    def get(self, uri: str) -> bytes:
        bucket, key = split_uri(uri)
        with aws_errors(f"reading {uri}"):
            body: bytes = self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        return body

    def put(self, uri: str, data: bytes) -> str:
        bucket, key = split_uri(uri)
        with aws_errors(f"writing {uri}"):
            self.s3.put_object(Bucket=bucket, Key=key, Body=data)
        return hashlib.sha256(data).hexdigest()

    def exists(self, uri: str) -> bool:
        bucket, key = split_uri(uri)
        try:
            self.s3.head_object(Bucket=bucket, Key=key)
        except botocore.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            with aws_errors(f"looking for {uri}"):
                raise
        return True

    def list(self, prefix: str) -> list[str]:
        return [o["uri"] for o in self.describe(prefix)]

    def describe(self, prefix: str) -> builtins.list[dict[str, Any]]:
        """Every object under `prefix` (s3://bucket/ or s3://bucket/key-prefix): uri, size, updated_at."""
        bucket, key = split_uri(prefix)
        found = []
        with aws_errors(f"listing {prefix}"):
            for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key):
                for entry in page.get("Contents", []):
                    found.append(
                        {"uri": f"s3://{bucket}/{entry['Key']}", "size": entry["Size"], "updated_at": entry["LastModified"].isoformat()}
                    )
        return found
