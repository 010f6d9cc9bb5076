"""Durations as SageMaker's CacheConfig ExpireAfter takes them: ISO 8601 (P30D, PT12H, P1Y2M) and
the forms of "Turn on step caching" (SageMaker Developer Guide, pipelines-caching-enabling):
"30d", "5y", "T16m", "30dT5h", letters in either case, the P optional. Years count as 365 days
and months as 30, as SageMaker documents none finer."""

from __future__ import annotations

import re

_DURATION = re.compile(
    r"P?(?=\d|T\d)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?", re.IGNORECASE
)


def duration_seconds(text: str) -> int | None:
    """The duration in seconds, or None when `text` is not an ISO 8601 duration."""
    m = _DURATION.fullmatch(text or "")
    if not m:
        return None
    y, mo, w, d, h, mi, s = (int(g or 0) for g in m.groups())
    return (((365 * y + 30 * mo + 7 * w + d) * 24 + h) * 60 + mi) * 60 + s
