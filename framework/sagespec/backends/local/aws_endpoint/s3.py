"""S3 for a job's own calls: moto's S3 protocol over the local object store, decided by sagespec's IAM.

moto (a well-kept AWS mock, already sagespec's test double for AWS) speaks S3's REST protocol:
GetObject with ranges, PutObject with checksums and aws-chunked bodies, ListObjectsV2 with its
pagination, multipart uploads, HeadObject, CopyObject, DeleteObjects. It keeps objects in memory,
so the local object store stays the one place objects live: before a request the objects it
touches are brought into moto when the store has a different version, and after a request that
changed something the changed objects are written back to the store (and removed ones removed),
so `sagespec data`, the runner and the next run see what a script wrote. Measured on this machine
(docs/how-to/own-scripts.md): importing moto's S3 costs about 0.4 s, once per run and only when a
job calls S3; a GetObject then takes about 5 ms.

Before moto sees a request, each action it needs is decided by sagespec.backends.local.access as
the job's role (identity policies, the bucket policy, the bucket's KMS key policy): a call the
role could not make on AWS fails with S3's AccessDenied and AWS's message.
"""

from __future__ import annotations

import hashlib
import io
import re
import sqlite3
from collections.abc import Callable, Iterable
from typing import Any
from xml.sax.saxutils import escape

from sagespec.accounts.places import Places
from sagespec.backends.local.access import LocalAccess
from sagespec.backends.local.aws_endpoint.s3_actions import Malformed, Needed, NotServed, S3Request, needed
from sagespec.backends.local.objects import ObjectStore
from sagespec.iam import AccessDenied, Principal

# Bucket names as S3 allows them ("Bucket naming rules", S3 User Guide): checked before moto sees one.
_BUCKET_NAME = re.compile(r"^(?!xn--)(?!sthree-)(?!.*-s3alias$)(?!\d+\.\d+\.\d+\.\d+$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
# The key actions a read or a write of an SSE-KMS object needs ("Using SSE-KMS", S3 User Guide;
# multipart uploads need Decrypt as well as GenerateDataKey).
_KEY_USE = {
    "s3:GetObject": ("kms:Decrypt",),
    "s3:GetObjectVersion": ("kms:Decrypt",),
    "s3:PutObject": ("kms:GenerateDataKey", "kms:Decrypt"),
}
# Listings: every object under the listed prefix is brought in before moto lists.
_LISTINGS = ("s3:ListBucket", "s3:ListBucketVersions")

WsgiResponse = tuple[int, list[tuple[str, str]], bytes]


def s3_error(status: int, code: str, message: str, resource: str = "") -> WsgiResponse:
    """S3's REST error document ("Error responses", S3 API Reference)."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{escape(message)}</Message><Resource>{escape(resource)}</Resource>"
        "<RequestId>0000000000000000</RequestId></Error>"
    ).encode()
    return status, [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))], body


class S3Face:
    """Not thread-safe on its own: the server (server.py) hands it one request at a time."""

    def __init__(self, store: ObjectStore, conn: sqlite3.Connection, places: Places):
        self.store, self.conn, self.places = store, conn, places
        self.access = LocalAccess(conn)
        self.synced: dict[tuple[str, str], tuple[str, str]] = {}  # (bucket, key) -> (sha256, moto ETag) when last equal
        self._app: Any = None
        self._backend: Any = None

    # -- moto, loaded on the first S3 request of the run -------------------------------------
    def _moto(self) -> tuple[Any, Any]:
        if self._app is None:
            from moto.core.models import DEFAULT_ACCOUNT_ID  # start-up: moto only when a job calls S3
            from moto.moto_server.werkzeug_app import create_backend_app  # start-up: as above
            from moto.s3.models import s3_backends  # start-up: as above

            self._app = create_backend_app("s3")
            self._backend = s3_backends[DEFAULT_ACCOUNT_ID][self.places.aws.name]
        return self._app, self._backend

    def _bucket(self, backend: Any, bucket: str) -> Any:
        try:
            return backend.get_bucket(bucket)
        except Exception:  # noqa: BLE001 - moto's MissingBucket: every bucket exists locally
            return backend.create_bucket(bucket, self.places.region)

    # -- the store and moto kept equal -------------------------------------------------------
    def _bring_in(self, backend: Any, bucket: str, prefix: str, exact: bool) -> None:
        """Make moto hold what the store holds for the key `prefix` (exact) or every key under it."""
        base = f"s3://{bucket}/"
        moto_bucket = self._bucket(backend, bucket)
        stored = {
            row["uri"][len(base) :]: row["sha256"] for row in self.store.describe(base + prefix) if not exact or row["uri"] == base + prefix
        }
        in_moto = [prefix] if exact else [k for k in list(moto_bucket.keys.keys()) if k.startswith(prefix)]
        for key in in_moto:
            if key not in stored and moto_bucket.keys.get(key) is not None:
                backend.delete_object(bucket, key)  # gone from the store since moto last held it
                self.synced.pop((bucket, key), None)
        for key, digest in stored.items():
            current = moto_bucket.keys.get(key)
            if current is not None and self.synced.get((bucket, key)) == (digest, current.etag):
                continue
            fake = backend.put_object(bucket, key, self.store.get(base + key), disable_notification=True)
            self.synced[(bucket, key)] = (digest, fake.etag)

    def _write_back(self, backend: Any, bucket: str, keys: Iterable[str]) -> None:
        """Store what moto now holds for `keys`."""
        moto_bucket = self._bucket(backend, bucket)
        for key in sorted(set(keys)):
            uri = f"s3://{bucket}/{key}"
            current = moto_bucket.keys.get(key)
            if current is None or getattr(current, "is_delete_marker", False):
                self.synced.pop((bucket, key), None)
                self.store.delete(uri)
                continue
            known = self.synced.get((bucket, key))
            if known is not None and known[1] == current.etag:
                continue
            data = current.value
            self.store.put(uri, data)
            self.synced[(bucket, key)] = (hashlib.sha256(data).hexdigest(), current.etag)

    # -- a request -------------------------------------------------------------------------
    def decide(self, principal: Principal, request: S3Request) -> list[Needed]:
        """Each action the request needs, decided as `principal`; raises AccessDenied at the first denied."""
        decisions = needed(request, self.places.aws)
        for need in decisions:
            self.access.require(principal, need.action, need.resource, need.context)
            # An object under SSE-KMS (its own bucket's key): S3 uses the key as the caller ("Using SSE-KMS", S3 User Guide).
            key_arn = self.places.bucket_keys.get(_bucket_of(need.resource)) if need.key is not None else None
            if key_arn and need.action in _KEY_USE:
                via = {"kms:ViaService": self.places.aws.endpoint_host("s3", self.places.region)}
                for kms in _KEY_USE[need.action]:
                    self.access.require(principal, kms, key_arn, via)
        return decisions

    def handle(self, principal: Principal, request: S3Request, environ: dict[str, Any], denied: Callable[[str], None]) -> WsgiResponse:
        resource = f"/{request.bucket or ''}{'/' + request.key if request.key else ''}"
        if request.bucket and not _BUCKET_NAME.match(request.bucket):
            return s3_error(400, "InvalidBucketName", "The specified bucket is not valid.", resource)
        try:
            decisions = self.decide(principal, request)
        except Malformed as exc:
            return s3_error(400, exc.code, str(exc), resource)
        except NotServed as exc:
            return s3_error(501, "NotImplemented", f"the local S3 endpoint does not serve {exc}", resource)
        except AccessDenied as exc:
            denied(exc.message)
            return s3_error(403, "AccessDenied", exc.message.split("\n")[0], resource)
        # What the request touches: its objects exactly, or a listing's prefix.
        touched = [(_bucket_of(need.resource), need.key) for need in decisions if need.key is not None]
        listed = request.query.get("prefix", "") if decisions and decisions[0].action in _LISTINGS and request.method == "GET" else None
        try:
            app, backend = self._moto()
        except ImportError:
            return s3_error(501, "NotImplemented", "the local S3 endpoint needs moto: pip install 'sagespec[local]'", resource)
        if request.bucket:
            self._bucket(backend, request.bucket)
        for bucket, key in touched:
            self._bring_in(backend, bucket, key, exact=True)
        if listed is not None and request.bucket:
            self._bring_in(backend, request.bucket, listed, exact=False)
        environ["wsgi.input"] = io.BytesIO(request.body)
        # Path-style only: moto would read a bucket from a dotted Host header (virtual-host style),
        # where sagespec decided on the path's.
        environ["HTTP_HOST"] = environ["SERVER_NAME"] = "127.0.0.1"
        status, headers, body = _call(app, environ)
        if request.changes_objects and status < 300:
            for bucket in {b for b, _ in touched}:
                self._write_back(backend, bucket, [k for b, k in touched if b == bucket])
        return status, headers, body

    def close(self) -> None:
        """Drop what moto holds of this run's objects (its state is the process's, not the run's)."""
        if self._backend is None:
            return
        for bucket, key in list(self.synced):
            try:
                self._backend.delete_object(bucket, key)
            except Exception:  # noqa: BLE001 - already gone: nothing to drop
                pass
        self.synced.clear()


def _bucket_of(resource: str) -> str:
    return resource.split(":::", 1)[-1].split("/", 1)[0]


def _call(app: Any, environ: dict[str, Any]) -> WsgiResponse:
    captured: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        captured["status"], captured["headers"] = int(status.split(" ", 1)[0]), headers
        return lambda data: None

    chunks = app(environ, start_response)
    try:
        body = b"".join(chunks)
    finally:
        if hasattr(chunks, "close"):
            chunks.close()
    return captured["status"], captured["headers"], body
