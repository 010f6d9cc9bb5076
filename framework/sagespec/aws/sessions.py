"""boto3 sessions for commands that talk to AWS, with errors a person can act on.

A session is made *as* someone: a named profile, or the default credential chain, optionally
assuming a role (the cross-account path: a deployment account's CI assumes a role in a workload
account). Problems become `UserError`s naming the profile, role or resource.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

import boto3
import botocore.exceptions

from sagespec.aws.logs import quiet
from sagespec.diagnostics import UserError


def session(profile: str | None = None, region: str | None = None, assume_role: str | None = None) -> boto3.Session:
    quiet()

    try:
        base = boto3.Session(profile_name=profile, region_name=region)
    except botocore.exceptions.ProfileNotFound:
        raise UserError(
            "E6003",
            f"AWS profile '{profile}' is not configured",
            hint="list profiles with `aws configure list-profiles`, or drop --profile to use the default chain",
        ) from None
    if base.get_credentials() is None:
        raise UserError(
            "E6001",
            "no AWS credentials found" + (f" for profile '{profile}'" if profile else ""),
            hint="set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run `aws sso login`",
        )
    if not base.region_name:
        raise UserError("E6003", "no AWS region configured", hint="pass --region, set AWS_REGION, or set a region in the profile")
    if not assume_role:
        return base
    with aws_errors(f"assuming {assume_role}"):
        creds = base.client("sts").assume_role(RoleArn=assume_role, RoleSessionName="sagespec")["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=base.region_name,
    )


@contextmanager
def aws_errors(doing: str) -> Iterator[None]:
    """Turn botocore failures inside the block into UserErrors that say what was being done."""

    try:
        yield
    except botocore.exceptions.NoCredentialsError:
        raise UserError("E6001", f"no AWS credentials while {doing}") from None
    except botocore.exceptions.ClientError as exc:
        error = exc.response.get("Error", {})
        code, message = error.get("Code", "Unknown"), error.get("Message", str(exc))
        # A HEAD request (HeadObject, HeadBucket) has no body, so botocore's code is the bare HTTP status:
        # S3 answers 403 for access denied and 404 for a missing object or bucket (Amazon S3 API
        # Reference, HeadObject and HeadBucket).
        if code in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "403") or "not authorized" in message:
            raise UserError(
                "E6002", f"AWS denied {doing}: {message}", hint="check the identity policy of the caller and the resource's policy"
            ) from None
        missing = any(phrase in message.lower() for phrase in ("does not exist", "could not find", "not found"))
        not_found = ("ResourceNotFound", "ResourceNotFoundException", "NoSuchEntity", "NoSuchKey", "NoSuchBucket", "404")
        if code in not_found or (code == "ValidationException" and missing):
            raise UserError("E6005", f"{doing}: {message}") from None
        raise UserError("E6004", f"{doing} failed: {code}: {message}") from None
    except botocore.exceptions.EndpointConnectionError as exc:
        raise UserError(
            "E6004", f"{doing} failed: cannot reach {exc.kwargs.get('endpoint_url', 'AWS')}", hint="check the region and the network"
        ) from None
    except botocore.exceptions.BotoCoreError as exc:
        raise UserError("E6004", f"{doing} failed: {exc}") from None


class _Account(Protocol):
    """What a session needs of an account of the topology (sagespec.spec.topology.Account)."""

    @property
    def id(self) -> str: ...
    @property
    def profile(self) -> str | None: ...
    @property
    def assume_role(self) -> str | None: ...


class _Topology(Protocol):
    """What a session needs of the topology (sagespec.spec.topology.Topology)."""

    @property
    def region(self) -> str | None: ...
    @property
    def partition(self) -> str | None: ...


def default_session_for(topology: _Topology, assume_role_name: str | None = None) -> Callable[[_Account], boto3.Session]:
    """A function giving the boto3 session of each account of `topology`: by the account's
    profile or assume_role, or (AWS Organizations style) by assuming `assume_role_name` in every
    account from the current credentials."""

    def session_for(account: _Account) -> boto3.Session:
        if assume_role_name:
            return session(None, topology.region, f"arn:{topology.partition}:iam::{account.id}:role/{assume_role_name}")
        return session(account.profile, topology.region, account.assume_role)

    return session_for
