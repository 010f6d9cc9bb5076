"""Values a naive schema accepts but JSON or SageMaker does not: NaN and infinity, control
characters, S3 bucket names AWS refuses, durations that overflow, and SageMaker's request limits
(sagespec.aws.limits)."""

from __future__ import annotations

import math
import re
from datetime import timedelta
from typing import TYPE_CHECKING

from sagespec.aws.durations import duration_seconds
from sagespec.aws.limits import LIMITS, places
from sagespec.diagnostics import QUOTE_LIMIT
from sagespec.diagnostics.text import CONTROL_CHARACTERS
from sagespec.spec.checks.base import CheckContext, rule

if TYPE_CHECKING:
    from sagespec.spec.source import Path as JsonPath

# Free text may hold newlines and tabs; nothing else below U+0020, and no DEL or C1 controls.
FREE_TEXT_KEYS = {"description", "error_message"}
_CONTROL_IN_FREE_TEXT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

# Amazon S3 User Guide, "General purpose bucket naming rules": 3-63 characters; lowercase letters,
# numbers, dots and hyphens; begin and end with a letter or number; no two adjacent dots; not an
# IP address; not starting with "xn--", "sthree-" or "amzn-s3-demo-"; not ending with "-s3alias",
# "--ol-s3", ".mrap" or "--x-s3".
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_BUCKET_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BUCKET_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3")
_IP = re.compile(r"\d+\.\d+\.\d+\.\d+")


def quoted(value: object) -> str:
    text = str(value)
    return repr(text if len(text) <= QUOTE_LIMIT else text[:QUOTE_LIMIT] + "...")


def bucket_problem(bucket: str) -> str | None:
    if "${" in bucket or "{{" in bucket:
        return None  # a reference or template expression: checked where it resolves
    if not _BUCKET.fullmatch(bucket):
        return "3 to 63 lowercase letters, numbers, dots and hyphens, beginning and ending with a letter or number"
    if ".." in bucket or _IP.fullmatch(bucket):
        return "no two adjacent dots and not an IP address"
    if bucket.startswith(_BUCKET_PREFIXES) or bucket.endswith(_BUCKET_SUFFIXES):
        return "no reserved prefix (xn--, sthree-, amzn-s3-demo-) or suffix (-s3alias, --ol-s3, .mrap, --x-s3)"
    return None


@rule
def finite_numbers(ctx: CheckContext) -> None:
    def walk(value: object, path: JsonPath) -> None:
        if isinstance(value, float) and not math.isfinite(value):
            ctx.report("E2008", f"{value} is not a number JSON can carry (NaN and infinity are not JSON)", path)
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(v, path + (k,))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, path + (i,))

    walk(ctx.data, ())


@rule
def control_characters(ctx: CheckContext) -> None:
    for path, text in ctx.strings:
        free = any(isinstance(p, str) and p in FREE_TEXT_KEYS for p in path)
        found = (_CONTROL_IN_FREE_TEXT if free else CONTROL_CHARACTERS).search(text)
        if found:
            ctx.report(
                "E2005",
                f"value {quoted(text)} contains the control character U+{ord(found.group()):04X}",
                path,
                hint="a trailing newline often comes from a `|` block scalar; use a plain or quoted scalar",
            )


@rule
def s3_buckets(ctx: CheckContext) -> None:
    session = ctx.data["session"] if isinstance(ctx.data.get("session"), dict) else {}
    named: list[tuple[JsonPath, str]] = (
        [(("session", "default_bucket"), session["default_bucket"])] if isinstance(session.get("default_bucket"), str) else []
    )
    named += [(path, text[5:].split("/", 1)[0]) for path, text in ctx.strings if text.startswith("s3://")]
    for path, bucket in named:
        problem = bucket_problem(bucket)
        if problem:
            ctx.report(
                "E4010",
                f"{quoted(bucket)} is not a valid S3 bucket name: {problem}",
                path,
                hint="Amazon S3 User Guide, bucket naming rules",
            )


@rule
def durations(ctx: CheckContext) -> None:
    longest = timedelta.max.total_seconds()
    for i, step in ctx.steps():
        cache = step.get("cache")
        text = cache.get("expire_after") if isinstance(cache, dict) else None
        if isinstance(text, str):
            seconds = duration_seconds(text)
            if seconds is not None and seconds > longest:
                ctx.report(
                    "E2006",
                    f"cache duration {quoted(text)} is longer than any date can be (about 2.7 million years)",
                    ("steps", i, "cache", "expire_after"),
                    hint="SageMaker caches for an ISO 8601 duration such as P30D",
                )


@rule
def sagemaker_limits(ctx: CheckContext) -> None:
    for i, step in ctx.steps():
        for limit in LIMITS:
            if step.get("kind") != limit.kind:
                continue
            for path, value, is_key in places(step, limit.path):
                if limit.measure == "count" and isinstance(value, (list, dict)):
                    size, unit = len(value), "items" if isinstance(value, list) else "entries"
                elif limit.measure == "length" and isinstance(value, str):
                    size, unit = len(value), "characters"
                else:
                    continue
                if not limit.minimum <= size <= limit.maximum:
                    what = "key" if is_key else "value"
                    ctx.report(
                        "E2006",
                        f"{'/'.join(map(str, path))} has {size} {unit}; SageMaker takes {limit.minimum} to {limit.maximum}"
                        + (f" (a {what} of {limit.member})" if limit.measure == "length" else f" ({limit.member})"),
                        ("steps", i, *path),
                        key=is_key,
                        hint=f"SageMaker API Reference: {limit.shape}",
                    )
