"""The window's geotagging actions: write a guess (or the dragged pin's position) into the current
photo, and open the batch dialog for a folder. Mixed into MainWindow, whose state it uses
(results, current, journal, tasks, map, model)."""

from __future__ import annotations

import dataclasses
import logging
from concurrent.futures import Future
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from ..core.errors import GeoGuessError
from ..core.geotag import GeoTag, write_gps
from ..core.imaging import list_photos
from .batch_dialog import BatchDialog
from .dialogs import show_error

log = logging.getLogger(__name__)


class GeotagActions:
    def confirm(self, title: str, text: str) -> bool:
        """Ask before doing something to a photo (tests replace this)."""
        box = QMessageBox(QMessageBox.Icon.Question, title, text,
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, self)
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        return box.exec() == QMessageBox.StandardButton.Yes

    def _pin_moved(self, lat: float, lon: float) -> None:
        if self.current in self.results:
            self._adjusted[self.current] = (lat, lon)
            self.statusBar().showMessage(f"Position to write adjusted to {lat:.6f}, {lon:.6f}", 10000)

    def write_guess(self, rank: int) -> None:
        result = self.results.get(self.current or "")
        if result is None or not result.ok or not 1 <= rank <= len(result.predictions):
            return
        guess = result.predictions[rank - 1]
        name = result.name
        what = f"{guess.lat:.6f}, {guess.lon:.6f} ({guess.place}, guess #{rank}, {guess.probability * 100:.1f}%)"
        adjusted = self._adjusted.get(result.path)
        if adjusted is not None:
            what = f"{adjusted[0]:.6f}, {adjusted[1]:.6f} (guess #{rank} moved on the map)"
        if result.model.untrained and not self.confirm(
                "Untrained model", f"The model is an UNTRAINED stand-in: this position is random.\n\n"
                                   f"Write {what} into {name} anyway?"):
            self.photoWritten.emit(result.path, "cancelled")
            return
        overwrite = False
        gps = result.exif_gps
        if gps is not None:
            if not self.confirm("Replace the photo's GPS position?",
                                f"{name} already has a GPS position: {gps.lat:.6f}, {gps.lon:.6f}.\n\n"
                                f"Replace it with the predicted {what}?"):
                self.photoWritten.emit(result.path, "cancelled")
                return
            overwrite = True
        tag = GeoTag.from_guess(guess, result.model)
        if adjusted is not None:
            tag = dataclasses.replace(tag, lat=adjusted[0], lon=adjusted[1], adjusted=True)
        self.statusBar().showMessage(f"Writing {what} into {name}...")

        def done(future: Future) -> None:
            error = future.exception()
            if error is None:
                message = f"written: {what} into {name} (undo with 'geoguess undo')"
            elif isinstance(error, GeoGuessError):
                message = f"refused: {error}"
                show_error(self, "The position was not written", f"{name} was left as it was: {error}")
            else:
                log.error("writing GPS failed", exc_info=error)
                message = f"error: {error}"
                show_error(self, "The position was not written", f"{name}: {error}")
            self.statusBar().showMessage(message, 15000)
            self.photoWritten.emit(result.path, message)

        self.tasks.run(write_gps, done, result.path, tag, overwrite_gps=overwrite, journal=self.journal)

    def geotag_folder(self, folder: str | None = None) -> None:
        """Open the batch geotagging dialog on a folder (asked for when not given)."""
        if self.model is None:
            show_error(self, "No model", "The model is not loaded yet.")
            return
        folder = folder or QFileDialog.getExistingDirectory(self, "Geotag the photos of a folder", self._last_folder())
        if not folder:
            return

        def listed(future: Future) -> None:
            paths = [str(p) for p in future.result()]
            if not paths:
                show_error(self, "No photos", f"No photos found in {folder}.")
                return
            self.batch_dialog = BatchDialog(self.tasks, self.model, self.journal, paths, self,
                                            online_tiles=self.online_tiles)
            self.batch_dialog.open()

        self.tasks.run(list_photos, listed, [Path(folder)])

