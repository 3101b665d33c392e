"""Every environment variable GeoGuess reads or sets, in one place.

GeoGuess's own:

- ``GEOGUESS_MODEL_DIR``: the model folder when --model-dir is not given.
- ``GEOGUESS_EXIFTOOL``: the ExifTool program to run (else ``exiftool`` on the PATH).
- ``GEOGUESS_RESOURCES``: the resources folder (web assets, icons, ExifTool config).

Read, and set before the libraries start when not set already: ``OMP_NUM_THREADS``,
``MXNET_ENGINE_TYPE`` and ``MXNET_SUBGRAPH_BACKEND`` (see ``core.model.mxnet.importer``), and for
the window ``DISPLAY``, ``WAYLAND_DISPLAY``, ``QT_QPA_PLATFORM`` and ``QTWEBENGINE_CHROMIUM_FLAGS``.
"""

from __future__ import annotations

import os

MODEL_DIR = "GEOGUESS_MODEL_DIR"
EXIFTOOL = "GEOGUESS_EXIFTOOL"
RESOURCES = "GEOGUESS_RESOURCES"


def _value(name: str) -> str | None:
    """The variable's value, or None when it is unset or empty."""
    return os.environ.get(name) or None


def model_dir() -> str | None:
    return _value(MODEL_DIR)


def exiftool() -> str | None:
    return _value(EXIFTOOL)


def resources() -> str | None:
    return _value(RESOURCES)


def omp_threads() -> int | None:
    """OMP_NUM_THREADS when it is a positive whole number."""
    wanted = os.environ.get("OMP_NUM_THREADS", "")
    return int(wanted) if wanted.isdigit() and int(wanted) > 0 else None


def set_defaults(defaults: dict[str, str]) -> None:
    """Set each variable that the person has not set themselves."""
    for key, value in defaults.items():
        os.environ.setdefault(key, value)


def prepare_qt(headless: bool) -> None:
    """Settings Qt and Chromium read once, before the application object exists."""
    if headless and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    flags = os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", "").split()
    if hasattr(os, "geteuid") and os.geteuid() == 0 and "--no-sandbox" not in flags:
        flags.append("--no-sandbox")  # Chromium refuses its sandbox to root
    if os.environ.get("QT_QPA_PLATFORM") == "offscreen" and "--disable-gpu" not in flags:
        flags.append("--disable-gpu")
    os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = " ".join(flags)
