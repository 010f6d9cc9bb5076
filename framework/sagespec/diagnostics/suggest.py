"""'Did you mean' suggestions shared by every stage."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(word: object, choices: Iterable[object]) -> str | None:
    """The closest choice as a hint, by similarity or by one name being a prefix of the other."""
    word = str(word)
    options = [str(c) for c in choices]
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if not close:
        lowered = word.lower()
        close = [c for c in options if len(c) >= 3 and (lowered.startswith(c.lower()) or c.lower().startswith(lowered))][:1]
    return f"did you mean '{close[0]}'?" if close else None
