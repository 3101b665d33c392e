"""Where GeoGuess's resources (web assets, basemap, icons) are: resources/ at the top of the
source tree, or inside a PyInstaller build, or where GEOGUESS_RESOURCES points."""

from __future__ import annotations

import sys
from pathlib import Path

from . import environment


def resources_dir() -> Path:
    override = environment.resources()
    if override:
        return Path(override)
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"
