"""What a job's program is started with, once its isolation mode has laid out its container paths."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# (container path, the job's folder): what a job sees where.
Mounts = Sequence[tuple[str, Path]]


@dataclass(frozen=True)
class Launch:
    argv: list[str]
    env: dict[str, str]
    cwd: Path
    shown: list[str]  # the job's command as the job sees it, for its log
