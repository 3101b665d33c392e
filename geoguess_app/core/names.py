"""File names as a person can read them, whatever bytes they hold."""

from __future__ import annotations

import os
from pathlib import Path

_CONTROL = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def display_path(path: str | Path) -> str:
    """The name with control characters escaped (``a\\nb.jpg``) and bytes that are not UTF-8 as
    ``\\xff``, so that one name stays on one line and can always be printed."""
    out = []
    for ch in os.fspath(path):
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:  # a byte that is not UTF-8, as Python keeps it (surrogateescape)
            out.append(f"\\x{code - 0xDC00:02x}")
        elif code < 32 or code == 127:
            out.append(_CONTROL.get(ch, f"\\x{code:02x}"))
        else:
            out.append(ch)
    return "".join(out)
