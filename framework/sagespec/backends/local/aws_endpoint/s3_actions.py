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
from urllib.parse import unquote, urlsplit
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
        "encryption": "s3:PutEncryptionConfiguration",  # (no PutBucketVersioning: local buckets stay unversioned)
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
    def subresources(self) -> list[str]:
        return [q for q in self.query if q not in _NOT_SUBRESOURCES and not _SIGNED_QUERY.match(q)]

    @property
    def operation(self) -> str:
        found = self.subresources
        return found[0] if found else ""


class Malformed(ValueError):
    """A request S3 would refuse as malformed (its code and message)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def deleted_objects(body: bytes) -> list[tuple[str, bool]]:
    """(key, with a VersionId) of each object of a DeleteObjects body (<Delete><Object><Key>...)."""
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        raise Malformed(
            "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema."
        ) from None
    found = []
    for element in root.iter():
        if element.tag.rsplit("}", 1)[-1] == "Object":
            fields = {child.tag.rsplit("}", 1)[-1]: child.text or "" for child in element}
            found.append((fields.get("Key", ""), "VersionId" in fields))
    if not found:
        raise Malformed("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema.")
    return found


def copy_source(header: str) -> tuple[str, str, str | None]:
    """(bucket, key, versionId) of x-amz-copy-source, read as moto reads it (the URL's path,
    percent-decoded); a form the two could read differently is refused."""
    parsed = urlsplit(header)
    if parsed.scheme or parsed.netloc or parsed.fragment or "#" in header or header.lstrip("/").startswith("/"):
        raise Malformed("InvalidArgument", "Copy Source must mention the source bucket and key: sourcebucket/sourcekey")
    bucket, _, key = unquote(parsed.path).lstrip("/").partition("/")
    if not bucket or not key:
        raise Malformed("InvalidArgument", "Copy Source must mention the source bucket and key: sourcebucket/sourcekey")
    version = dict(q.partition("=")[::2] for q in parsed.query.split("&") if q).get("versionId")
    return bucket, key, version


def needed(request: S3Request, aws: Partition) -> list[Needed]:
    """Every decision the request needs, in the order S3 makes them."""
    method = "GET" if request.method == "HEAD" and request.target == "service" else request.method
    table = _ACTIONS.get((method, request.target), {})
    operation = request.operation
    if len(request.subresources) > 1 or (method == "PUT" and operation == "uploadId" and "partNumber" not in request.query):
        # S3 would route these by its own precedence; one decision must name exactly what runs.
        raise NotServed(f"{request.method} with ?{'&'.join(request.subresources)}")
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
        return [
            Needed("s3:DeleteObjectVersion" if versioned else action, aws.bucket(bucket, key), key=key)
            for key, versioned in deleted_objects(request.body)
        ]
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
        source_bucket, source_key, version = copy_source(source)
        read = "s3:GetObjectVersion" if version else "s3:GetObject"
        found.append(Needed(read, aws.bucket(source_bucket, source_key), key=source_key))
    return found
