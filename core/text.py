"""Text as people typed it, measured and stored the same way whichever way it came."""

from __future__ import annotations

import re

_LINE_BREAK = re.compile(r"\r\n?")


def normalise_newlines(value: str) -> str:
    """``value`` with every CRLF and lone CR as LF.

    Browsers send a textarea's line breaks as CRLF, so without this each line break of a
    description would count as two characters against its limit (and be stored as two).
    """
    return _LINE_BREAK.sub("\n", value)


__all__ = ["normalise_newlines"]
