"""One loopback HTTP server per local run, for the AWS calls of the run's jobs.

Each job is issued its own temporary credentials (an `ASIA...` access key, a secret and a
session token, as STS issues to an assumed role) for the role it runs as: SageMaker jobs as
`assumed-role/<role>/SageMaker`, Lambda functions as `assumed-role/<role>/<function>`. The
job's environment points the AWS SDKs here (AWS_ENDPOINT_URL, the credentials, the region, a
config file of its own so nothing in $HOME is read). A request is accepted only when its SigV4
signature checks out with credentials this server issued, as AWS refuses an unknown access key;
the service in the signature's scope picks S3 or SageMaker. The server listens on 127.0.0.1
only and stops with the run; issued credentials die with it.

Werkzeug's threaded server (the WSGI server moto itself runs on) serves the requests; the socket
is bound when the run starts (about a millisecond), moto and botocore's model are loaded by the
first request that needs them.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import string
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from sagespec.accounts.places import Places
from sagespec.aws.partitions import dns_suffixes
from sagespec.backends.local.aws_endpoint import sigv4
from sagespec.backends.local.aws_endpoint.s3 import S3Face, s3_error
from sagespec.backends.local.aws_endpoint.s3_actions import S3Request
from sagespec.backends.local.aws_endpoint.sagemaker_api import Call, invoke_endpoint, json_error, respond
from sagespec.backends.local.database import connect
from sagespec.backends.local.objects import ObjectStore
from sagespec.iam import Principal

_KEY_ALPHABET = string.ascii_uppercase + "234567"
GUARD = Path(__file__).parent / "guard"
_INVOCATION = re.compile(r"^/endpoints/([^/]+)/invocations$")


def without_aws_settings(environ: dict[str, str]) -> dict[str, str]:
    """An environment without its AWS settings: a job's AWS calls use only what its run gives it
    (on SageMaker a container has none of the caller's profiles, keys or endpoints)."""
    return {k: v for k, v in environ.items() if not k.startswith("AWS_")}


@dataclass(frozen=True)
class Issued:
    access_key: str
    secret: str
    token: str
    principal: Principal
    log_path: Path | None  # where a denial is also written, for the job's author


class LocalAwsEndpoint:
    def __init__(self, workspace: Path, places: Places):
        self.workspace, self.places = workspace, places
        self.issued: dict[str, Issued] = {}
        self._denials: dict[str, list[str]] = {}
        self.conn = connect(workspace)
        self.s3 = S3Face(ObjectStore(workspace, self.conn), self.conn, places)
        self.lock = threading.Lock()  # one request at a time uses the connection (decisions, moto and the store, the control plane)
        self._server: Any = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> LocalAwsEndpoint:
        from werkzeug.serving import WSGIRequestHandler, make_server  # start-up: the server only when a run starts

        class Quiet(WSGIRequestHandler):
            def log_request(self, *args: object) -> None:  # each request goes to its job's log instead
                pass

        self._server = make_server("127.0.0.1", 0, self.wsgi, threaded=True, request_handler=Quiet)
        # A short poll: shutdown() waits for the loop's next turn (0.5 s by default, on every run's end).
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="local-aws-endpoint", daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        self.s3.close()
        self.conn.close()
        self.issued.clear()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    # -- credentials -------------------------------------------------------------------------
    def issue(self, role_arn: str, session: str, log_path: Path | None = None) -> Issued:
        """Temporary credentials of an assumed-role session of `role_arn`, good until the run ends."""
        parts = role_arn.split(":")
        if len(parts) != 6 or parts[2] != "iam" or not parts[5].startswith("role/"):
            raise ValueError(f"{role_arn!r} is not a role ARN")
        account, role_name = parts[4], parts[5].split("/")[-1]
        principal = Principal(account, f"arn:{parts[1]}:sts::{account}:assumed-role/{role_name}/{session}")
        credentials = Issued(
            "ASIA" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16)),
            secrets.token_urlsafe(30)[:40],
            secrets.token_urlsafe(48),
            principal,
            log_path,
        )
        self.issued[credentials.access_key] = credentials
        return credentials

    def environment(self, role_arn: str, session: str, work: Path, log_path: Path | None = None) -> dict[str, str]:
        """A job's AWS variables: this endpoint, its own credentials, the run's region, and a
        config file of its own (path-style S3 addressing, which a loopback endpoint needs, and
        SigV4 for presigned URLs, the only signature this endpoint checks)."""
        credentials = self.issue(role_arn, session, log_path)
        config = work / ".aws-config"
        # Presigned URLs signed with SigV4 as well (boto3 would sign them with SigV2 for us-east-1).
        config.write_text(
            f"[default]\nregion = {self.places.region}\ns3 =\n    addressing_style = path\n    signature_version = s3v4\n", encoding="utf-8"
        )
        path = [str(GUARD)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
        return {
            "PYTHONPATH": os.pathsep.join(path),  # guard/sitecustomize.py: an SDK's own AWS endpoint comes here too
            "SAGESPEC_AWS_DNS_SUFFIXES": ",".join(sorted(dns_suffixes())),
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": credentials.access_key,
            "AWS_SECRET_ACCESS_KEY": credentials.secret,
            "AWS_SESSION_TOKEN": credentials.token,
            "AWS_REGION": self.places.region,
            "AWS_DEFAULT_REGION": self.places.region,
            "AWS_CONFIG_FILE": str(config),
            "AWS_SHARED_CREDENTIALS_FILE": str(config),
            "AWS_PROFILE": "default",
            "AWS_EC2_METADATA_DISABLED": "true",
            # A proxy of this machine's must not stand between a job and its loopback endpoint.
            **{name: ",".join([*filter(None, [os.environ.get(name, "")]), "127.0.0.1"]) for name in ("NO_PROXY", "no_proxy")},
        }

    # -- requests --------------------------------------------------------------------------
    def wsgi(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        try:
            status, headers, body = self._answer(environ)
        except Exception as exc:  # noqa: BLE001 - a job's request never takes the server down: AWS's 500 instead
            status, headers, body = s3_error(500, "InternalError", f"the local AWS endpoint failed: {type(exc).__name__}: {exc}")
        reasons = {
            200: "OK",
            204: "No Content",
            206: "Partial Content",
            304: "Not Modified",
            400: "Bad Request",
            403: "Forbidden",
            404: "Not Found",
            409: "Conflict",
            412: "Precondition Failed",
            416: "Range Not Satisfiable",
            501: "Not Implemented",
        }
        if environ["REQUEST_METHOD"] != "HEAD":  # a HEAD's Content-Length is the object's, its body empty
            headers = [(k, v) for k, v in headers if k.lower() != "content-length"] + [("Content-Length", str(len(body)))]
        start_response(f"{status} {reasons.get(status, 'Status')}", headers)
        return [body] if environ["REQUEST_METHOD"] != "HEAD" else [b""]

    def _answer(self, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(key):
                headers[key.replace("_", "-").lower()] = environ[key]
        raw_path = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", "/")
        raw_path, _, raw_query = raw_path.partition("?")
        raw_query = raw_query or environ.get("QUERY_STRING", "")
        if not raw_path.startswith("/"):  # an absolute-form target: not what an SDK sends its endpoint
            return s3_error(400, "InvalidRequest", "the request target must be a path")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if environ.get("wsgi.input_terminated"):  # a chunked body: read to its end
            body = environ["wsgi.input"].read()
        else:
            body = environ["wsgi.input"].read(length) if length else b""
        method = environ["REQUEST_METHOD"]
        try:
            signed = sigv4.parse(headers, raw_query)
        except sigv4.Unsigned:
            return s3_error(
                403,
                "AccessDenied",
                "Anonymous and Signature Version 2 requests are not served: sign them with SigV4 and the job's credentials",
            )
        except sigv4.Malformed as exc:
            return s3_error(400, "AuthorizationHeaderMalformed", str(exc))
        issued = self.issued.get(signed.access_key)
        s3 = signed.service == "s3"
        if issued is None:
            if s3:
                return s3_error(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
            return json_error("UnrecognizedClientException", "The security token included in the request is invalid.", 403)
        if signed.security_token != issued.token:
            if s3:
                return s3_error(400, "InvalidToken", "The provided token is malformed or otherwise invalid.")
            return json_error("UnrecognizedClientException", "The security token included in the request is invalid.", 403)
        stale = sigv4.freshness(signed, datetime.now(timezone.utc), dict(sigv4.query_pairs(raw_query)).get("X-Amz-Expires"))
        if stale:
            code = "AccessDenied" if signed.presigned else "RequestTimeTooSkewed"
            return s3_error(403, code, stale) if s3 else json_error("InvalidSignatureException", stale, 403)
        if not sigv4.payload_matches(headers, body):
            message = "The provided 'x-amz-content-sha256' header does not match what was computed."
            return s3_error(400, "XAmzContentSHA256Mismatch", message) if s3 else json_error("InvalidSignatureException", message, 403)
        if not sigv4.verify(issued.secret, signed, method, raw_path, raw_query, headers, body):
            message = "The request signature we calculated does not match the signature you provided. Check your key and signing method."
            return s3_error(403, "SignatureDoesNotMatch", message) if s3 else json_error("InvalidSignatureException", message, 403)
        if s3:
            bucket, _, key = unquote(raw_path).lstrip("/").partition("/")
            pairs = sigv4.query_pairs(raw_query)
            if len({k for k, _ in pairs}) != len(pairs):  # S3 and moto could read a repeated parameter differently
                return s3_error(400, "InvalidArgument", "a query parameter is repeated")
            request = S3Request(method, bucket or None, key or None, dict(pairs), headers, body)
            with self.lock:
                answered = self.s3.handle(issued.principal, request, environ, lambda message: self._denied(issued, message))
            self._log(issued, f"{method} s3://{request.bucket or ''}{'/' + request.key if request.key else ''} -> {answered[0]}")
            return answered
        invocation = _INVOCATION.match(raw_path) if signed.service == "sagemaker" and method == "POST" else None
        if invocation:  # SageMaker Runtime signs as "sagemaker" too
            with self.lock:
                call = Call(self.conn, self.workspace, issued.principal, self.places)
                answered = invoke_endpoint(
                    call, unquote(invocation[1]), body, headers.get("content-type", ""), headers.get("x-amzn-sagemaker-target-variant")
                )
            self._log(issued, f"SageMaker Runtime InvokeEndpoint {unquote(invocation[1])} -> {answered[0]}")
            return answered
        if signed.service == "sagemaker":
            target = headers.get("x-amz-target", "")
            if not target.startswith("SageMaker."):
                return json_error("UnknownOperationException", f"no SageMaker operation in X-Amz-Target {target!r}")
            try:
                params = json.loads(body or b"{}")
            except ValueError:
                return json_error("SerializationException", "the request body is not JSON")
            if not isinstance(params, dict):
                return json_error("SerializationException", "the request body is not a JSON object")
            with self.lock:
                answered = respond(target.split(".", 1)[1], Call(self.conn, self.workspace, issued.principal, self.places), params)
            if answered[0] == 400 and b"AccessDenied" in answered[2]:
                self._denied(issued, json.loads(answered[2])["message"])
            self._log(issued, f"SageMaker {target.split('.', 1)[1]} -> {answered[0]}")
            return answered
        if signed.service == "sts" and b"Action=GetCallerIdentity" in body:
            self._log(issued, "STS GetCallerIdentity -> 200")
            return caller_identity(issued.principal, issued.access_key)
        return json_error(
            "UnknownServiceException",
            f"the local AWS endpoint answers S3 and SageMaker; {signed.service} is not served here",
        )

    def _denied(self, issued: Issued, message: str) -> None:
        self._denials.setdefault(issued.access_key, []).append(message)
        self._log(issued, f"AccessDenied: {message}")

    def denials(self, access_key: str) -> list[str]:
        """The AccessDenied messages of the job holding `access_key`, in order."""
        return list(self._denials.get(access_key, []))

    def _log(self, issued: Issued, line: str) -> None:
        if issued.log_path is not None:
            with open(issued.log_path, "a", encoding="utf-8") as log:
                log.write(f"[local AWS endpoint] {line}\n")


@contextmanager
def aws_endpoint(workspace: Path, places: Places) -> Iterator[LocalAwsEndpoint | None]:
    """The run's endpoint, or None where its server (the `local` extra's werkzeug) is not installed:
    the jobs then get no AWS endpoint or credentials at all, never this machine's."""
    try:
        import werkzeug.serving  # noqa: F401  start-up: only whether the server is installed, when a run starts
    except ImportError:
        yield None
        return
    with LocalAwsEndpoint(workspace, places) as endpoint:
        yield endpoint


def caller_identity(principal: Principal, access_key: str) -> tuple[int, list[tuple[str, str]], bytes]:
    """STS GetCallerIdentity, which needs no permission ("GetCallerIdentity", AWS STS API
    Reference): the SageMaker SDK asks it for the default bucket's account. UserId is the role's
    unique ID and the session name; a local role's ID is derived from the access key."""
    session = principal.arn.rsplit("/", 1)[-1]
    body = (
        "<GetCallerIdentityResponse><GetCallerIdentityResult>"
        f"<Arn>{principal.arn}</Arn><UserId>AROA{access_key[4:]}:{session}</UserId><Account>{principal.account}</Account>"
        "</GetCallerIdentityResult><ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000000</RequestId>"
        "</ResponseMetadata></GetCallerIdentityResponse>"
    ).encode()
    return 200, [("Content-Type", "text/xml")], body
