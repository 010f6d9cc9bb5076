"""How an interrupted local execution ends: SIGTERM handled like Ctrl-C, and each kind of
interruption's status and reason (Stopped for a signal or a closed pipe, Failed for a full disk,
a read-only workspace or a bug)."""

from __future__ import annotations

import errno
import signal
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, NoReturn

if TYPE_CHECKING:
    from types import FrameType


class Terminated(KeyboardInterrupt):
    """SIGTERM while an execution runs: handled as an interruption (the execution ends Stopped)."""


class termination_as_interrupt:
    """Within the block, SIGTERM raises Terminated in the main thread (as SIGINT raises
    KeyboardInterrupt), so `kill PID` ends an execution cleanly instead of leaving it Executing."""

    def __enter__(self) -> termination_as_interrupt:
        # The handler SIGTERM had (what signal.signal returns), put back on exit.
        self.previous: Callable[[int, FrameType | None], Any] | int | signal.Handlers | None = None
        if threading.current_thread() is threading.main_thread():

            def terminate(signum: int, frame: FrameType | None) -> NoReturn:
                raise Terminated("terminated (SIGTERM)")

            self.previous = signal.signal(signal.SIGTERM, terminate)
        return self

    def __exit__(self, *exc: object) -> Literal[False]:
        if self.previous is not None:
            signal.signal(signal.SIGTERM, self.previous)
        return False


def interrupted(exc: BaseException) -> tuple[str, str]:
    """(status, reason) of an execution that `exc` interrupted."""

    if isinstance(exc, Terminated):
        return "Stopped", "terminated (SIGTERM) while running"
    if isinstance(exc, KeyboardInterrupt):
        return "Stopped", "interrupted (Ctrl-C) while running"
    if isinstance(exc, BrokenPipeError):
        return "Stopped", "its output was closed (broken pipe) while running"
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return "Failed", "no space left on the device of the workspace"
    if isinstance(exc, OSError) and exc.errno in (errno.EROFS, errno.EACCES):
        return "Failed", f"the workspace cannot be written: {exc.strerror}"
    return "Failed", f"the local executor stopped on {type(exc).__name__}: {exc}"
