"""Making a data file in a separate process, so that the window's thread is never held.

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
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)


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
