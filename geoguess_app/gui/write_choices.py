"""File > RAW files and sidecars: where the window writes a RAW file's position, and how a new
sidecar is named, as ``--raw-in-file`` and ``--sidecar-name`` choose on the command line. Kept
between runs (settings.py); every write of the window (one photo, a group, a folder) uses them."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMenu, QWidget

from ..core.geotag.metadata import RAW_IN_FILE, SIDECAR_NAMES
from . import settings

SIDECAR_LABELS = {
    "NAME.xmp": "New sidecars named IMG_0001.xmp (Lightroom, Photini)",
    "NAME.EXT.xmp": "New sidecars named IMG_0001.CR2.xmp (darktable, digiKam)",
}
RAW_LABELS = {
    "no": "RAW files: into a sidecar, never touched",
    "dng": "RAW files: write DNG files themselves (others into a sidecar)",
    "all": "RAW files: write every RAW format ExifTool writes themselves",
}


def write_choices() -> dict[str, Any]:
    """The chosen ``sidecar_name`` and ``raw_in_file``, for a PhotoWriter or a TagPolicy (a value
    this version does not know is read as the default)."""
    name, raw = settings.SIDECAR_NAME.get(), settings.RAW_IN_FILE.get()
    return {
        "sidecar_name": name if name in SIDECAR_NAMES else SIDECAR_NAMES[0],
        "raw_in_file": raw if raw in RAW_IN_FILE else RAW_IN_FILE[0],
    }


def add_write_menu(parent: QWidget, menu: QMenu) -> QMenu:
    """The submenu, its choices ticked as saved; choosing one saves it."""
    sub = menu.addMenu("RAW files and &sidecars")
    sub.setToolTipsVisible(True)
    chosen = write_choices()
    for setting, labels, current in (
        (settings.RAW_IN_FILE, RAW_LABELS, chosen["raw_in_file"]),
        (settings.SIDECAR_NAME, SIDECAR_LABELS, chosen["sidecar_name"]),
    ):
        group = QActionGroup(parent)
        for value, label in labels.items():
            action = QAction(label, parent, checkable=True)
            action.setChecked(value == current)
            action.setData(value)
            action.toggled.connect(lambda on, s=setting, v=value: on and s.set(v))
            group.addAction(action)
            sub.addAction(action)
        sub.addSeparator()
    sub.actions()[-1].setVisible(False)  # (no separator after the last group)
    tip = "A sidecar a photo already has, of either naming, is the one updated, keeping what it holds."
    for action in sub.actions():
        if action.data() in SIDECAR_NAMES:
            action.setToolTip(tip)
    return sub
