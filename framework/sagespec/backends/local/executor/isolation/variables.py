"""The variables-only mode: the job runs as a plain process; the SM_* variables name its folders.

Where no mount namespace can be made, a script that hard-codes /opt/ml/... cannot find its files,
and, run as root, it would create them on the host. So the job's Python gets an audit hook
(guard/sitecustomize.py) that refuses any access under /opt/ml with a message naming this mode:
the script fails at its first container path instead of reading or writing the host's.
"""

from __future__ import annotations

import os
from pathlib import Path

from sagespec.backends.local.executor.isolation.launch import Launch, Mounts

GUARD = Path(__file__).parent / "guard"


class Variables:
    name = "variables"
    summary = "no container paths: scripts find their folders through SM_* variables; /opt/ml is refused"
    caveat = "no /opt/ml paths: scripts must read the SM_* variables"

    def unavailable(self) -> str | None:
        return None

    def launch(self, argv: list[str], env: dict[str, str], cwd: Path, mounts: Mounts, work: Path) -> Launch:
        path = [str(GUARD)] + [p for p in (env.get("PYTHONPATH") or os.environ.get("PYTHONPATH") or "").split(os.pathsep) if p]
        return Launch(argv, {**env, "PYTHONPATH": os.pathsep.join(path)}, cwd, argv)


MODE = Variables()
