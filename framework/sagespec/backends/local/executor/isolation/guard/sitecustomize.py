"""Loaded first by a job's Python in sagespec's variables-only mode (its folder leads PYTHONPATH).

An audit hook refuses every file access under /opt/ml: in this mode that path is the host's, not
the job's, and no local job may read or write it. Then the environment's own sitecustomize, if
any, is loaded as Python would have.
"""

import os
import sys

_ROOT = "/opt/ml"
_EVENTS = {
    "open",
    "os.mkdir",
    "os.rename",
    "os.remove",
    "os.rmdir",
    "os.listdir",
    "os.scandir",
    "os.chmod",
    "os.truncate",
    "shutil.copyfile",
}


def _under(path: object) -> bool:
    if isinstance(path, int):
        return False
    try:
        text = os.path.abspath(os.fsdecode(path))  # type: ignore[arg-type]
    except TypeError:
        return False
    return text == _ROOT or text.startswith(_ROOT + "/")


def _hook(event: str, args: tuple[object, ...]) -> None:
    if event in _EVENTS and args and (_under(args[0]) or (len(args) > 1 and event in ("os.rename", "shutil.copyfile") and _under(args[1]))):
        raise PermissionError(
            f"sagespec runs this job in the variables-only isolation mode: {os.fsdecode(args[0])!s} is not mapped "  # type: ignore[arg-type]
            "(the container paths exist only in the namespace mode; here read the SM_* variables; `sagespec doctor` says why)"
        )


sys.addaudithook(_hook)

_here = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _here]
_this = sys.modules.pop("sitecustomize", None)
try:
    import sitecustomize  # type: ignore[import-not-found]  # noqa: F401  (the environment's own, now that this one is off the path)
except ImportError:
    # None: this one stays registered, or Python reports "Error in sitecustomize" (a KeyError) at every start.
    sys.modules["sitecustomize"] = _this  # type: ignore[assignment]
