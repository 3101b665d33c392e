"""Where GeoGuess keeps its files, per user, on each system (as qutebrowser's ``standarddir``):
computed here once, from platformdirs (the XDG folders on Linux, ~/Library on macOS, %LOCALAPPDATA%
on Windows).

- ``data()``: what must be kept: the model (``model()``) and the undo journal (``journal()``);
- ``cache()``: what can be made again: predictions, place names, converted models, photo locks;
- ``logs()``: the window's log files.

Each can be moved for a test or a portable install with the usual variables (XDG_DATA_HOME,
XDG_CACHE_HOME on Linux); the model folder also with GEOGUESS_MODEL_DIR (core/model/store.py).
"""

from __future__ import annotations

from pathlib import Path

import platformdirs

APP = "GeoGuess"


def data() -> Path:
    return platformdirs.user_data_path(APP, appauthor=False)


def cache() -> Path:
    return platformdirs.user_cache_path(APP, appauthor=False)


def logs() -> Path:
    return platformdirs.user_log_path(APP, appauthor=False)


def model() -> Path:
    """The installed LocationNet model's folder."""
    return data() / "models" / "locationnet"


def journal() -> Path:
    """The undo journal of every write."""
    return data() / "geotag-journal.jsonl"


def predictions() -> Path:
    """The prediction cache."""
    return cache() / "predictions.sqlite3"


def locks() -> Path:
    """The photo lock files (core/system.py)."""
    return cache() / "locks"
