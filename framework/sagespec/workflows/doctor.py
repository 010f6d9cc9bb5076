"""`sagespec doctor`: what this machine offers a local run (isolation, Docker, SDK, extras)."""

from __future__ import annotations

from sagespec.backends.local.machine import Machine, report
from sagespec.context import Context


def doctor(ctx: Context) -> Machine:
    return report(ctx.isolation)
