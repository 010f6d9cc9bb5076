"""The namespace mode: each job in its own user and mount namespace, SageMaker's paths bound in.

`unshare --user --map-root-user --mount` (util-linux) gives the job a mount table of its own,
as an unprivileged user may have one (user_namespaces(7)); the job runs as root *mapped to you*,
so what it creates in the workspace is yours outside. Inside, before the job starts, a shell:

1. builds the job's own /opt in its work folder: every entry of the host's /opt bound back in
   (a Python installed there stays visible), except `ml`, which is an empty folder of the job's;
2. binds that over /opt, so the host's /opt and /opt/ml are hidden from the job and never written;
3. binds each of the job's folders at its container path (parents first), creating the mount
   point inside the job's own /opt/ml;
4. enters the job's folder (its container path) and execs the job: same process, so its exit status, its signals and the executor's process-group
   stop behave as without the namespace.

Everything else (the workspace, /tmp, this environment's interpreter and site-packages) is the
host's, unchanged. The mounts vanish with the job's last process: nothing to clean up.
"""

from __future__ import annotations

import functools
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from sagespec.backends.local.executor.isolation.launch import Launch, Mounts

OPT = Path("/opt")
ML = "/opt/ml"
UNSHARE = ("unshare", "--user", "--map-root-user", "--mount")


@functools.cache
def _probe() -> str | None:
    if not sys.platform.startswith("linux"):
        return f"mount namespaces are Linux's ({sys.platform} has none)"
    for tool in ("unshare", "mount", "sh"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (util-linux)"
    if not OPT.is_dir():
        return "this machine has no /opt to lay /opt/ml over"
    try:
        done = subprocess.run([*UNSHARE, "mount", "--rbind", str(OPT), str(OPT)], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unshare does not run ({exc})"
    if done.returncode != 0:
        first = (done.stderr or done.stdout).strip().splitlines()
        reason = first[0] if first else f"exit status {done.returncode}"
        return f"the kernel refuses an unprivileged user and mount namespace (`unshare -rm`: {reason})"
    return None


def translate(value: str, mounts: Mounts) -> str:
    """`value` with a job folder's path replaced by its container path (SM_CHANNEL_TRAIN=/opt/ml/input/data/train)."""
    for container, local in sorted(mounts, key=lambda m: -len(str(m[1]))):
        base = str(local)
        if value == base or value.startswith(base + "/"):
            return container.rstrip("/") + value[len(base) :]
    return value


def script(mounts: Mounts, root: Path, cwd: str) -> str:
    """The shell commands that lay out the job's /opt under `root`, bind it over /opt and enter `cwd`."""
    lines = ["set -e"]
    root.mkdir(parents=True, exist_ok=True)
    (root / "ml").mkdir(exist_ok=True)
    for entry in sorted(OPT.iterdir()):
        if entry.name == "ml":
            continue
        mine = root / entry.name
        if entry.is_symlink():
            if not mine.is_symlink():
                mine.symlink_to(os.readlink(entry))
            continue
        if entry.is_dir():
            mine.mkdir(exist_ok=True)
        else:
            mine.touch(exist_ok=True)
        lines.append(f"mount --rbind {shlex.quote(str(entry))} {shlex.quote(str(mine))}")
    lines.append(f"mount --rbind {shlex.quote(str(root))} {shlex.quote(str(OPT))}")
    # Before the first mkdir: /opt must be the job's own now. The namespace's root is your user
    # outside; run by root, that is the host's root, which could write the host's /opt.
    lines.append(
        f"test {shlex.quote(str(OPT))} -ef {shlex.quote(str(root))} || {{ echo 'sagespec: /opt is still the host one' >&2; exit 70; }}"
    )
    for container, local in sorted(mounts, key=lambda m: len(m[0])):
        target = shlex.quote(container.rstrip("/"))
        lines.append(f"mkdir -p {target} && mount --bind {shlex.quote(str(local))} {target}")
    lines.append(f"cd {shlex.quote(cwd)}")  # after the mounts: the job's folder may be a container path
    lines.append('exec "$@"')
    return "\n".join(lines)


def outside_ml(mounts: Mounts) -> list[str]:
    """The container paths not under /opt/ml. ProcessingS3Input/ProcessingS3Output: "LocalPath ...
    must begin with /opt/ml/processing/" (SageMaker API Reference); training's are all under /opt/ml."""
    return [c for c, _ in mounts if not (c.rstrip("/") + "/").startswith(ML + "/")]


def refuse_outside_ml(mounts: Mounts) -> None:
    """Both layout modes bind only under /opt/ml (the private /opt keeps the host's other entries)."""
    outside = outside_ml(mounts)
    if outside:
        raise ValueError(f"container paths outside {ML}: {', '.join(outside)}")


class Namespace:
    name = "namespace"
    summary = "each job in its own mount namespace, its folders at SageMaker's /opt/ml paths"
    caveat = ""

    def unavailable(self) -> str | None:
        return _probe()

    def launch(self, argv: list[str], env: dict[str, str], cwd: Path, mounts: Mounts, work: Path) -> Launch:
        refuse_outside_ml(mounts)
        body = script(mounts, work / ".container" / "opt", translate(str(cwd), mounts))
        inside = [translate(a, mounts) for a in argv]
        return Launch(
            [*UNSHARE, "sh", "-c", body, "sh", *inside],
            {k: translate(v, mounts) for k, v in env.items()},
            work,  # the host's: Popen enters it before the namespace exists
            inside,
        )


MODE = Namespace()
