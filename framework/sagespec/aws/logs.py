"""Libraries whose INFO logging must stay off the terminal.

botocore and boto3 log lines such as "Found credentials in environment variables." through the
root logger as soon as anything configures logging (the SageMaker SDK does); users see
sagespec's own output and diagnostics instead.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

AWS_LOGGERS = ("botocore", "boto3", "s3transfer", "urllib3")


def quiet(names: Iterable[str] = AWS_LOGGERS, level: str = "WARNING") -> None:
    for name in names:
        logging.getLogger(name).setLevel(getattr(logging, level))
