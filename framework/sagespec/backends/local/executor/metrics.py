"""Metrics read from a job's log by its metric definitions, as SageMaker reads them.

"Define metrics and environment variables" (SageMaker developer guide): each definition is a
regex over the log; the value is what its first group captures, and the last match is the final
value (FinalMetricDataList). Unparsable captures are skipped. While the job runs, the latest value
of each metric is shown live, with the epoch where the log names one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sagespec.backends.local.database import now

# "epoch 3", "Epoch 3/50", "epoch=3", "[epoch: 3]": the number right after the word.
_EPOCH = re.compile(r"\bepoch\b\s*[:=]?\s*(\d+)", re.IGNORECASE)


def _values(regex: re.Pattern[str], text: str) -> list[float]:
    values = []
    for match in regex.finditer(text):
        try:
            values.append(float(match.group(1)))
        except (IndexError, TypeError, ValueError):
            continue
    return values


def final_metrics(definitions: Sequence[dict[str, Any]], log_path: Path) -> list[dict[str, Any]]:
    """FinalMetricDataList: each definition's last value over the whole log."""

    text = log_path.read_text(encoding="utf-8", errors="replace") if log_path.exists() else ""
    found = []
    for definition in definitions:
        values = _values(re.compile(definition["Regex"]), text)
        if values:
            found.append({"MetricName": definition["Name"], "Value": values[-1], "Timestamp": now()})
    return found


class LiveMetrics:
    """The latest value of each metric while the log grows, read incrementally (whole lines only)."""

    def __init__(self, definitions: Sequence[dict[str, Any]], log_path: Path):
        self.regexes = [(d["Name"], re.compile(d["Regex"])) for d in definitions]
        self.log_path = log_path
        self.offset = 0
        self.latest: dict[str, float] = {}
        self.epoch: int | None = None

    def update(self) -> bool:
        """Read what the log gained; True when a value changed."""
        try:
            with open(self.log_path, "rb") as handle:
                handle.seek(self.offset)
                chunk = handle.read()
        except OSError:
            return False
        end = chunk.rfind(b"\n") + 1
        if not end:
            return False
        self.offset += end
        text = chunk[:end].decode("utf-8", errors="replace")
        before = (dict(self.latest), self.epoch)
        for name, regex in self.regexes:
            values = _values(regex, text)
            if values:
                self.latest[name] = values[-1]
        epochs = _EPOCH.findall(text)
        if epochs and self.latest:
            self.epoch = int(epochs[-1])
        return (self.latest, self.epoch) != before

    def summary(self) -> str:
        shown = ", ".join(f"{name} {value:g}" for name, value in self.latest.items())
        return f"{shown} (epoch {self.epoch})" if self.epoch is not None and shown else shown
