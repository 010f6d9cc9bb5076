"""Signature Version 4, checked on the server side.

The local AWS endpoint accepts a request only when it is signed with credentials sagespec issued
to a job, as AWS refuses an unknown access key. The check follows "Create a signed AWS API
request" and "Authenticating Requests: Using Query Parameters" (IAM User Guide, Signature
Version 4; S3 API Reference, sigv4-query-string-auth): the canonical request, the string to
sign, the derived signing key. Written here because no library verifies SigV4 on the server:
botocore only signs, and moto's own check is tied to moto's IAM users.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import quote, unquote

ALGORITHM = "AWS4-HMAC-SHA256"
_AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+),\s*SignedHeaders=(?P<headers>[^,\s]+),\s*Signature=(?P<signature>[0-9a-f]+)"
)


class Unsigned(ValueError):
    """The request carries no SigV4 signature at all."""


class Malformed(ValueError):
    """The request's signature parts cannot be read."""


@dataclass(frozen=True)
class Signed:
    access_key: str
    date: str  # YYYYMMDD of the credential scope
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str
    amz_date: str
    security_token: str | None
    presigned: bool

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/aws4_request"


def query_pairs(raw_query: str) -> list[tuple[str, str]]:
    pairs = []
    for part in raw_query.split("&") if raw_query else []:
        key, _, value = part.partition("=")
        pairs.append((unquote(key), unquote(value)))
    return pairs


def parse(headers: dict[str, str], raw_query: str) -> Signed:
    """The signature of a request: from its Authorization header, or from the query of a presigned URL."""
    authorization = headers.get("authorization", "")
    query = dict(query_pairs(raw_query))
    if authorization:
        found = _AUTHORIZATION.match(authorization)
        if found is None:
            raise Malformed("the Authorization header is not an AWS4-HMAC-SHA256 signature")
        credential, signed, signature = found["credential"], found["headers"], found["signature"]
        amz_date, token, presigned = headers.get("x-amz-date", ""), headers.get("x-amz-security-token"), False
    elif query.get("X-Amz-Algorithm") == ALGORITHM:
        credential, signed, signature = (
            query.get("X-Amz-Credential", ""),
            query.get("X-Amz-SignedHeaders", ""),
            query.get("X-Amz-Signature", ""),
        )
        amz_date, token, presigned = query.get("X-Amz-Date", ""), query.get("X-Amz-Security-Token"), True
    else:
        raise Unsigned("the request is not signed")
    parts = credential.split("/")
    if "host" not in signed.split(";"):
        raise Malformed("the signed headers must include host")
    if len(parts) != 5 or parts[4] != "aws4_request" or not amz_date:
        raise Malformed(f"the credential scope {credential!r} is not <key>/<date>/<region>/<service>/aws4_request")
    return Signed(parts[0], parts[1], parts[2], parts[3], tuple(signed.split(";")), signature, amz_date, token, presigned)


def freshness(signed: Signed, now: datetime, expires: str | None) -> str | None:
    """Why S3 would refuse the request's time, or None: a presigned URL past its X-Amz-Expires
    ("Request has expired"), a signed request more than 15 minutes from the server's clock
    (RequestTimeTooSkewed), as the S3 API Reference's sigv4 pages say."""
    try:
        signed_at = datetime.strptime(signed.amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        return f"X-Amz-Date {signed.amz_date!r} is not YYYYMMDDTHHMMSSZ"
    if signed_at - now > timedelta(minutes=15):
        return "The difference between the request time and the current time is too large."
    if signed.presigned:
        # X-Amz-Expires: 1 to 604800 seconds (seven days).
        if expires is None or not expires.isdigit() or not 1 <= int(expires) <= 604800:
            return "X-Amz-Expires must be between 1 and 604800 seconds"
        if now > signed_at + timedelta(seconds=int(expires)):
            return "Request has expired"
        return None
    if now - signed_at > timedelta(minutes=15):
        return "The difference between the request time and the current time is too large."
    return None


def payload_matches(headers: dict[str, str], body: bytes) -> bool:
    """A payload hash given in x-amz-content-sha256 (hex) is the body's (S3 checks it: XAmzContentSHA256Mismatch)."""
    claimed = headers.get("x-amz-content-sha256", "")
    if len(claimed) != 64 or any(c not in "0123456789abcdef" for c in claimed):
        return True  # UNSIGNED-PAYLOAD, the streaming forms: nothing to compare
    return hmac.compare_digest(claimed, hashlib.sha256(body).hexdigest())


def _encode(text: str) -> str:
    return quote(text, safe="-_.~")


def canonical_request(method: str, raw_path: str, raw_query: str, headers: dict[str, str], signed: Signed, body: bytes) -> str:
    # S3 signs the path as sent; every other service encodes each segment once more.
    path = raw_path or "/"
    if signed.service != "s3":
        path = quote(path, safe="/~")
    pairs = [(k, v) for k, v in query_pairs(raw_query) if not (signed.presigned and k == "X-Amz-Signature")]
    query = "&".join(f"{k}={v}" for k, v in sorted((_encode(k), _encode(v)) for k, v in pairs))
    canonical_headers = "".join(f"{name}:{' '.join(headers.get(name, '').split())}\n" for name in signed.signed_headers)
    if signed.presigned:
        payload = "UNSIGNED-PAYLOAD"
    else:
        payload = headers.get("x-amz-content-sha256") or hashlib.sha256(body).hexdigest()
    return "\n".join([method, path, query, canonical_headers, ";".join(signed.signed_headers), payload])


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def signature(secret: str, signed: Signed, canonical: str) -> str:
    to_sign = "\n".join([ALGORITHM, signed.amz_date, signed.scope, hashlib.sha256(canonical.encode("utf-8")).hexdigest()])
    key = _hmac(("AWS4" + secret).encode("utf-8"), signed.date)
    for part in (signed.region, signed.service, "aws4_request"):
        key = _hmac(key, part)
    return hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def verify(secret: str, signed: Signed, method: str, raw_path: str, raw_query: str, headers: dict[str, str], body: bytes) -> bool:
    expected = signature(secret, signed, canonical_request(method, raw_path, raw_query, headers, signed, body))
    return hmac.compare_digest(expected, signed.signature)
