"""Opening only regular files: a FIFO, a device or a socket named like a photo is refused, never read.

Reading a FIFO waits for a writer, and /dev/zero never ends: either would stop a run for good.
``open_regular`` looks at the path first (``os.stat``), then opens it without waiting (``O_NONBLOCK``
where the system has it: opening a FIFO for reading then returns at once) and looks again at what
it opened (``os.fstat``), so that a file swapped for a FIFO between the look and the open is
refused too. The same code on Linux, macOS and Windows (which has no FIFOs among files).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from ..errors import ImageError

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class NotRegularFile(ImageError, OSError):
    """The path names something other than a regular file; the message says what. An OSError too,
    for callers that treat any file that cannot be read alike."""


def kind_of(mode: int) -> str | None:
    """What a file of this ``st_mode`` is, when it is not a regular file; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    return next((kind for test, kind in _KINDS if test(mode)), "not a file GeoGuess knows")


def check_regular(path: str | Path) -> os.stat_result:
    """``os.stat`` of the path (links followed); NotRegularFile unless it is a regular file."""
    st = os.stat(path)
    kind = kind_of(st.st_mode)
    if kind is not None:
        raise NotRegularFile(f"not a regular file: {kind}")
    return st


def open_regular(path: str | Path) -> BinaryIO:
    """The regular file at ``path``, open for reading in binary; NotRegularFile for anything else
    (checked before opening and again on what was opened), OSError when it cannot be opened."""
    check_regular(path)
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
    fd = os.open(path, flags)
    try:
        kind = kind_of(os.fstat(fd).st_mode)
        if kind is not None:
            raise NotRegularFile(f"not a regular file: {kind}")
        # O_NONBLOCK changes nothing for a regular file: reads of it never wait
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
