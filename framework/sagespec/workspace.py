"""Where sagespec keeps local state: the workspace folder (default `.sagespec/` in the project).

Read once at the edge (the CLI) and passed down explicitly; nothing reads it as a global.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "SAGESPEC_WORKSPACE"
DEFAULT_NAME = ".sagespec"


def workspace_dir(project_root: Path, override: str | os.PathLike | None = None) -> Path:
    chosen = override or os.environ.get(ENV_VAR)
    return Path(chosen).resolve() if chosen else project_root / DEFAULT_NAME


def compile_cache_dir(workspace: Path) -> Path:
    return workspace / "cache" / "compile"
