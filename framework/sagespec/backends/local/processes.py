"""Whether a process the control plane recorded (an endpoint server, an execution's runner) still runs."""

from __future__ import annotations

import os
from pathlib import Path


def running(pid: int | None, marker: bytes | None = None) -> bool:
    """`pid` exists and is not a zombie; with `marker`, its command line also contains it (a
    recycled pid running something else is not ours). Without /proc (macOS) kill(0) decides."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    try:
        status = Path(f"/proc/{pid}/stat").read_text(errors="replace").split(") ", 1)[-1][:1]
        command = Path(f"/proc/{pid}/cmdline").read_bytes() if marker else b""
    except OSError:
        return True
    return status != "Z" and (marker is None or marker in command)
