"""Headless check mode: open the window on one photo, wait until the map shows its markers, save
a PNG of the whole window and print one JSON line describing what is shown."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QApplication

from ..core.predict.results import PhotoResult
from .main_window import MainWindow


class ScreenshotCheck(QObject):
    def __init__(self, window: MainWindow, photo: str, out: Path, timeout_s: float = 300):
        super().__init__(window)
        self.window = window
        self.photo = str(Path(photo))
        self.out = Path(out)
        self.result: PhotoResult | None = None
        self.exit_code: int | None = None
        window.predictionShown.connect(self._on_shown)
        window.modelFailed.connect(lambda message: self._fail(f"model: {message}"))
        QTimer.singleShot(int(timeout_s * 1000), lambda: self._fail(f"timed out after {timeout_s:.0f} s"))

    def _on_shown(self, result: PhotoResult) -> None:
        if Path(result.path) != Path(self.photo) or self.result is not None:
            return
        self.result = result
        if not result.ok:
            self._fail(f"{result.path}: {result.error}")
            return
        self._poll()

    def _poll(self) -> None:
        self.window.map.markers(self._check_markers)

    def _check_markers(self, markers: list[dict]) -> None:
        result = self.result
        assert result is not None  # polled only once the photo's result was shown
        wanted = len(result.predictions) + (1 if result.exif_gps else 0)
        if len(markers) < wanted:
            QTimer.singleShot(100, self._poll)
            return
        shown_unix = time.time()  # the photo, its rows and its markers are all shown now
        # Give the page a moment to paint what it reported, then take the picture.
        QTimer.singleShot(600, lambda: self._save(markers, shown_unix))

    def _save(self, markers: list[dict], shown_unix: float) -> None:
        if not self.window.grab().save(str(self.out)):
            self._fail(f"cannot write {self.out}")
            return
        r = self.result
        assert r is not None  # saved only once the photo's result was shown
        model = r.model
        assert model is not None  # a result shown with its markers was predicted by the model
        gps = r.exif_gps
        print(
            json.dumps(
                {
                    "photo": {
                        "path": r.path,
                        "name": r.name,
                        "size": list(r.size) if r.size else None,
                        "camera": r.meta.camera if r.meta else "",
                        "taken": r.meta.taken if r.meta else "",
                        "exif_gps": gps.as_dict() if gps else None,
                    },
                    "model": model.as_dict(),
                    "rows": self.window.guesses.rows(),
                    "markers": markers,
                    "window_icon": not self.window.windowIcon().isNull(),
                    "screenshot": str(self.out),
                    "shown_unix": shown_unix,
                },
                ensure_ascii=False,
            ),
            flush=True,
        )
        self._finish(0)

    def _fail(self, message: str) -> None:
        if self.exit_code is None:
            print(f"geoguess-app: error: {message}", file=sys.stderr, flush=True)
            self._finish(1)

    def _finish(self, code: int) -> None:
        if self.exit_code is None:
            self.exit_code = code
            app = QApplication.instance()
            assert app is not None  # the check runs inside the application
            app.exit(code)
