"""The bubblewrap mode: the namespace mode's layout, made by `bwrap` in one process.

Where bubblewrap is installed it does what the namespace mode's shell does (a private /opt of
the job's own in its work folder, the host's /opt entries bound back except `ml`, the job's folders
at their container paths) with its own mount calls instead of one `mount` process per folder:
about 10 ms per job here against the shell's 30 (bench/local_run.py). `bwrap` reads every bind's
source in the host's tree and creates mount points only inside the new one, so nothing is made
under the host's /opt. It stays in the job's process group and passes on its exit status, but
the job is its child: a job killed by a signal comes back as exit status 128+N, so the executor
reports it as the algorithm's error, not SageMaker's InternalServerError. Hence only on request
($SAGESPEC_ISOLATION=bubblewrap).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

from sagespec.backends.local.executor.isolation.launch import Launch, Mounts
from sagespec.backends.local.executor.isolation.namespace import OPT, refuse_outside_ml, translate

BWRAP = ("bwrap", "--dev-bind", "/", "/", "--unshare-user", "--uid", "0", "--gid", "0")


@functools.cache
def _probe() -> str | None:
    if not sys.platform.startswith("linux"):
        return f"bubblewrap is Linux's ({sys.platform})"
    if shutil.which("bwrap") is None:
        return "bwrap is not installed (apt-get install bubblewrap; the namespace mode does the same, slower)"
    if not OPT.is_dir():
        return "this machine has no /opt to lay /opt/ml over"
    try:
        done = subprocess.run([*BWRAP, "true"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap does not run ({exc})"
    if done.returncode != 0:
        first = (done.stderr or done.stdout).strip().splitlines()
        return "bwrap cannot make a user namespace here (" + (first[0] if first else f"exit status {done.returncode}") + ")"
    return None


class Bubblewrap:
    name = "bubblewrap"
    summary = "as the namespace mode, made by bwrap; used only when SAGESPEC_ISOLATION=bubblewrap asks for it"
    caveat = ""

    def unavailable(self) -> str | None:
        return _probe()

    def launch(self, argv: list[str], env: dict[str, str], cwd: Path, mounts: Mounts, work: Path) -> Launch:
        refuse_outside_ml(mounts)
        root = work / ".container" / "opt"
        (root / "ml").mkdir(parents=True, exist_ok=True)
        command = [*BWRAP, "--bind", str(root), str(OPT)]
        for entry in sorted(OPT.iterdir()):
            if entry.name == "ml":
                continue
            if entry.is_symlink():
                command += ["--symlink", os.readlink(entry), str(OPT / entry.name)]
            else:
                command += ["--bind", str(entry), str(OPT / entry.name)]
        for container, local in sorted(mounts, key=lambda m: len(m[0])):
            command += ["--bind", str(local), container.rstrip("/")]
        inside = [translate(a, mounts) for a in argv]
        command += ["--chdir", translate(str(cwd), mounts), "--", *inside]
        return Launch(command, {k: translate(v, mounts) for k, v in env.items()}, work, inside)


MODE = Bubblewrap()
