"""The cache files made from the GeoNames data, made in a separate process so that the window's
thread is never held.

Reading the GeoNames data (17 MB of JSON) and sorting its names are long single calls that hold
Python's interpreter lock for 0.2-1 s each: from a background thread of the window they would
freeze it just as much. So the files made from that data (place names, the place search's index)
are made once in a separate process started by ``spawn`` (on every system), which writes them into
the user cache folder; the calling thread only waits, then reads the file in short calls.
"""

from __future__ import annotations

import concurrent.futures
import logging
import multiprocessing
import os
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

log = logging.getLogger(__name__)

T = TypeVar("T")

#: What reading a missing, cut-short or otherwise damaged numpy file raises.
DAMAGED = (OSError, KeyError, ValueError, UnicodeDecodeError, zipfile.BadZipFile, EOFError)


def save_npz(path: Path, **arrays: Any) -> None:
    """Write ``arrays`` to ``path`` whole or not at all (a temporary file, then renamed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def made_elsewhere(make: Callable[[str], None], path: Path) -> bool:
    """Whether ``make(str(path))`` (a module-level function that writes ``path`` whole or not at
    all) ran to its end in a separate process. False when no process could be started (a sandbox,
    a frozen app without multiprocessing support) or it failed: the caller then makes it itself."""
    try:
        context = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool:
            pool.submit(make, str(path)).result()
        return path.is_file()
    except (OSError, RuntimeError, ValueError, KeyError, ImportError) as error:
        log.info("%s not made in a separate process (%s): made here", path.name, error)
        return False


def read_or_make(path: Path, read: Callable[[Path], T], make: Callable[[str], None]) -> T | None:
    """What ``read`` finds in ``path``; when the file is missing or damaged, made first in a
    separate process by ``make``. None when neither gave a whole file: the caller makes it itself."""
    try:
        return read(path)
    except DAMAGED as error:
        if not isinstance(error, FileNotFoundError):
            log.info("%s is damaged (%s): made again", path, error)
    if made_elsewhere(make, path):
        try:
            return read(path)
        except DAMAGED as error:
            log.info("%s unreadable once made (%s): made here", path, error)
    return None
