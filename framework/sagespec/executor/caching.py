"""The step cache's rules: which objects a step reads (their bytes are part of its key) and how
long a CacheConfig's ExpireAfter lasts."""

from __future__ import annotations

import re


def input_uris(arguments: dict) -> list[str]:
    """What a step reads (not where it writes): processing inputs, training channels, submitted code."""
    uris = [i.get("S3Input", {}).get("S3Uri") for i in arguments.get("ProcessingInputs", [])]
    uris += [c["DataSource"]["S3DataSource"]["S3Uri"] for c in arguments.get("InputDataConfig", [])]
    code = (arguments.get("HyperParameters") or {}).get("sagemaker_submit_directory")
    if isinstance(code, str):
        uris.append(code.strip('"'))
    return sorted({u for u in uris if isinstance(u, str) and u.startswith("s3://")})


_DURATION = re.compile(r"P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?")


def expire_after(text: str):
    """An ISO 8601 duration as a timedelta (years as 365 days, months as 30, as SageMaker documents none finer)."""
    from datetime import timedelta

    m = _DURATION.fullmatch(text or "")
    if not m:
        return timedelta(days=30)
    y, mo, w, d, h, mi, se = (int(g or 0) for g in m.groups())
    return timedelta(days=365 * y + 30 * mo + 7 * w + d, hours=h, minutes=mi, seconds=se)
