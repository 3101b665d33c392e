"""Every setting the window keeps between runs, declared once with its key, type and default.

They live in QSettings (the organisation and application names are set by app.main); the keys
are those earlier versions wrote, so saved settings still load.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Setting:
    """One saved value: ``get()`` gives it as ``type`` (the default when unset or unreadable),
    ``set(value)`` saves it."""

    key: str
    type: type
    default: Any = None  # or a callable making it, for defaults that depend on the machine

    def get(self) -> Any:
        value = QSettings().value(self.key)
        if value is None:
            return self._default()
        if isinstance(value, self.type):
            return value
        try:
            return self.type(value)
        except (TypeError, ValueError):
            log.warning("setting %s: cannot read %r as %s; using the default", self.key, value, self.type.__name__)
            return self._default()

    def set(self, value: Any) -> None:
        QSettings().setValue(self.key, value)

    def _default(self) -> Any:
        return self.default() if callable(self.default) else self.default


DEVICE = Setting("device", str, "auto")  # auto, cpu or gpu:N: the last one chosen
RUNTIME = Setting("runtime", str, "auto")  # auto, openvino, onnxruntime or mxnet: the last one chosen
PRECISION = Setting("precision", str, "exact")  # exact, or fast (bfloat16) when chosen in the Device menu
LAST_FOLDER = Setting("last_folder", str, lambda: str(Path.home()))  # where the file dialogs open
GEOMETRY = Setting("geometry", QByteArray)  # the window's size and place (QWidget.saveGeometry)
SPLIT = Setting("split", QByteArray)  # photo and guesses | map (QSplitter.saveState)
LEFT = Setting("left", QByteArray)  # photo over guesses (QSplitter.saveState)
SIDECAR_NAME = Setting("sidecar_name", str, "NAME.xmp")  # a new sidecar's name (core.geotag.metadata.SIDECAR_NAMES)
RAW_IN_FILE = Setting("raw_in_file", str, "no")  # RAW files written in-file: no, dng, all (metadata.RAW_IN_FILE)
