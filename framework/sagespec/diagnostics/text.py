"""User-supplied text made safe to print.

C0 and C1 control characters (newline, carriage return, escape, NUL, DEL...) in user-supplied
text are printed as escapes, so a value cannot start a line CI reads as a command ("::error")
or move the terminal's cursor.
"""

from __future__ import annotations

import re

CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: object) -> str:
    """`text` with every control character written as a visible escape (\\n, \\x1b, ...)."""
    text = str(text)
    return CONTROL_CHARACTERS.sub(lambda m: repr(m.group())[1:-1], text) if CONTROL_CHARACTERS.search(text) else text
