"""Which IAM actions an S3 request needs, on which resources, with which condition keys.

From "Required permissions for Amazon S3 API operations" (Amazon S3 User Guide,
using-with-s3-policy-actions.html) and "Actions, resources, and condition keys for Amazon S3"
(Service Authorization Reference): the operation is read from the HTTP method, whether the
path names a bucket and a key, and the subresource in the query, as S3's REST API routes it.
A request sagespec cannot name is not guessed: it is refused as S3 refuses an operation it does
not implement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote
from xml.etree import ElementTree

from sagespec.aws.partitions import Partition

# (method, target) -> {subresource in the query: IAM action}; "" is the request without one.
# A target is "service" (no bucket), "bucket" or "object".
_ACTIONS: dict[tuple[str, str], dict[str, str]] = {
    ("GET", "service"): {"": "s3:ListAllMyBuckets"},
    ("GET", "bucket"): {
        "": "s3:ListBucket",  # ListObjects and ListObjectsV2
        "location": "s3:GetBucketLocation",
        "uploads": "s3:ListBucketMultipartUploads",
        "versions": "s3:ListBucketVersions",
        "policy": "s3:GetBucketPolicy",
        "acl": "s3:GetBucketAcl",
        "tagging": "s3:GetBucketTagging",
        "encryption": "s3:GetEncryptionConfiguration",
        "versioning": "s3:GetBucketVersioning",
        "cors": "s3:GetBucketCORS",
        "lifecycle": "s3:GetLifecycleConfiguration",
        "notification": "s3:GetBucketNotification",
    },
    ("HEAD", "bucket"): {"": "s3:ListBucket"},  # HeadBucket
    ("PUT", "bucket"): {
        "": "s3:CreateBucket",
        "policy": "s3:PutBucketPolicy",
        "tagging": "s3:PutBucketTagging",
        "versioning": "s3:PutBucketVersioning",
        "encryption": "s3:PutEncryptionConfiguration",
    },
    ("DELETE", "bucket"): {"": "s3:DeleteBucket", "policy": "s3:DeleteBucketPolicy", "tagging": "s3:PutBucketTagging"},
    ("POST", "bucket"): {"delete": "s3:DeleteObject"},  # DeleteObjects: each key is decided on its own
    ("GET", "object"): {
        "": "s3:GetObject",
        "tagging": "s3:GetObjectTagging",
        "acl": "s3:GetObjectAcl",
        "uploadId": "s3:ListMultipartUploadParts",  # ListParts
        "attributes": "s3:GetObject",  # GetObjectAttributes needs GetObject (and GetObjectAttributes)
    },
    ("HEAD", "object"): {"": "s3:GetObject"},  # HeadObject
    ("PUT", "object"): {
        "": "s3:PutObject",  # PutObject, CopyObject (plus GetObject on the source)
        "uploadId": "s3:PutObject",  # UploadPart, UploadPartCopy
        "tagging": "s3:PutObjectTagging",
        "acl": "s3:PutObjectAcl",
    },
    ("POST", "object"): {
        "uploads": "s3:PutObject",  # CreateMultipartUpload
        "uploadId": "s3:PutObject",  # CompleteMultipartUpload
        "restore": "s3:RestoreObject",
        "select": "s3:GetObject",
    },
    ("DELETE", "object"): {"": "s3:DeleteObject", "uploadId": "s3:AbortMultipartUpload", "tagging": "s3:DeleteObjectTagging"},
}
# Query parameters that only shape a request (ListObjectsV2's list-type, UploadPart's partNumber, ...).
_NOT_SUBRESOURCES = {
    "list-type",
    "prefix",
    "delimiter",
    "max-keys",
    "continuation-token",
    "start-after",
    "encoding-type",
    "fetch-owner",
    "marker",
    "partNumber",
    "versionId",
    "x-id",
    "key-marker",
    "upload-id-marker",
    "max-uploads",
    "max-parts",
    "part-number-marker",
    "response-content-type",
    "response-content-disposition",
    "response-cache-control",
    "response-content-encoding",
    "response-content-language",
    "response-expires",
    "version-id-marker",
    "optional-object-attributes",
}
_VERSIONED = {
    "s3:GetObject": "s3:GetObjectVersion",
    "s3:DeleteObject": "s3:DeleteObjectVersion",
    "s3:GetObjectTagging": "s3:GetObjectVersionTagging",
    "s3:GetObjectAcl": "s3:GetObjectVersionAcl",
}
# PutObject and CopyObject, CompleteMultipartUpload, DeleteObject, DeleteObjects.
_CHANGES_OBJECTS = {("PUT", ""), ("POST", "uploadId"), ("DELETE", ""), ("POST", "delete")}
_LIST_CONDITIONS = {"prefix": "s3:prefix", "delimiter": "s3:delimiter", "max-keys": "s3:max-keys"}
_SIGNED_QUERY = re.compile(r"^X-Amz-")


class NotServed(ValueError):
    """An S3 operation sagespec does not decide (S3 answers NotImplemented)."""


@dataclass
class Needed:
    action: str
    resource: str
    context: dict[str, Any] = field(default_factory=dict)
    key: str | None = None  # the object key (for KMS: an object request)


@dataclass
class S3Request:
    method: str
    bucket: str | None
    key: str | None
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes

    @property
    def target(self) -> str:
        return "object" if self.key else "bucket" if self.bucket else "service"

    @property
    def changes_objects(self) -> bool:
        """It creates, replaces or deletes whole objects (an UploadPart does not, until the upload completes)."""
        return (self.method, self.operation) in _CHANGES_OBJECTS

    @property
    def operation(self) -> str:
        subresources = [q for q in self.query if q not in _NOT_SUBRESOURCES and not _SIGNED_QUERY.match(q)]
        return subresources[0] if subresources else ""


def deleted_keys(body: bytes) -> list[str]:
    """The keys of a DeleteObjects request body (<Delete><Object><Key>...)."""
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return []
    return [el.text or "" for el in root.iter() if el.tag.rsplit("}", 1)[-1] == "Key"]


def needed(request: S3Request, aws: Partition) -> list[Needed]:
    """Every decision the request needs, in the order S3 makes them."""
    method = "GET" if request.method == "HEAD" and request.target == "service" else request.method
    table = _ACTIONS.get((method, request.target), {})
    operation = request.operation
    if operation not in table:
        shown = f"{request.method} on {'an object' if request.key else 'a bucket' if request.bucket else 'the service'}"
        raise NotServed(f"{shown} with ?{operation}" if operation else shown)
    action = table[operation]
    if "versionId" in request.query:
        action = _VERSIONED.get(action, action)
    bucket = request.bucket or ""
    if request.target == "service":
        return [Needed(action, "*")]
    if request.target == "bucket" and operation == "delete":
        return [Needed(action, aws.bucket(bucket, key), key=key) for key in deleted_keys(request.body)]
    if request.target == "bucket":
        context = {cond: request.query[param] for param, cond in _LIST_CONDITIONS.items() if param in request.query}
        return [Needed(action, aws.bucket(bucket), context)]
    key = request.key or ""
    context = {}
    for header in ("x-amz-server-side-encryption", "x-amz-server-side-encryption-aws-kms-key-id", "x-amz-acl"):
        if header in request.headers:
            context["s3:" + header] = request.headers[header]
    found = [Needed(action, aws.bucket(bucket, key), context, key=key)]
    source = request.headers.get("x-amz-copy-source")
    if source and method == "PUT":  # CopyObject and UploadPartCopy read their source
        source_bucket, _, source_key = unquote(source.split("?", 1)[0]).lstrip("/").partition("/")
        found.append(Needed("s3:GetObject", aws.bucket(source_bucket, source_key), key=source_key))
    return found
