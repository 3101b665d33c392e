"""The window's geotagging actions: write a guess (or the dragged pin's position) into the current
photo, and open the batch dialog for a folder. Mixed into MainWindow, whose state it uses
(results, current, journal, tasks, map, model)."""

from __future__ import annotations

import dataclasses
import logging
import os
from concurrent.futures import Future
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from ..core.errors import GeoGuessError
from ..core.geotag.writer import GeoTag, PhotoWriter
from ..core.photos.decode import list_photos
from ..core.names import display_path
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

    def choose(self, title: str, text: str, choices: list[tuple[str, str]]) -> str | None:
        """Ask which of ``choices`` ((key, button text)) to take; None for Cancel (tests replace this)."""
        box = QMessageBox(QMessageBox.Icon.Question, title, text, QMessageBox.StandardButton.Cancel, self)
        box.setTextFormat(Qt.TextFormat.PlainText)
        buttons = {box.addButton(label, QMessageBox.ButtonRole.AcceptRole): key for key, label in choices}
        box.exec()
        return buttons.get(box.clickedButton())

    def _hardlinks_choice(self, path: str, name: str) -> str | None:
        """How to write a photo with several hard links: asked; "refuse" when it has one name."""
        try:
            links = os.stat(path).st_nlink
        except OSError:
            return "refuse"  # the writer says why
        if links < 2:
            return "refuse"
        return self.choose(
            "The photo has other names",
            f"{name} is one of {links} names (hard links) of the same file.\n\n"
            "Write into the shared file, so that every name shows the position, or give this name a "
            "new file of its own, leaving the others as they are?",
            [("in-place", "Write the shared file"), ("split", "Only this name")])

    def _pin_moved(self, lat: float, lon: float) -> None:
        if self.current in self.results:
            self._adjusted[self.current] = (lat, lon)
            self.statusBar().showMessage(f"Position to write adjusted to {lat:.6f}, {lon:.6f}", 10000)

    def write_guess(self, rank: int) -> None:
        result = self.results.get(self.current or "")
        if result is None or not result.ok or not 1 <= rank <= len(result.predictions):
            return
        guess = result.predictions[rank - 1]
        name = display_path(result.name)
        what = f"{guess.lat:.6f}, {guess.lon:.6f} ({guess.place}, guess #{rank}, {guess.probability * 100:.1f}%)"
        adjusted = self._adjusted.get(result.path)
        if adjusted is not None:
            what = f"{adjusted[0]:.6f}, {adjusted[1]:.6f} (guess #{rank} moved on the map)"
        if result.model.untrained and not self.confirm(
                "Untrained model", f"The model is an UNTRAINED stand-in: this position is random.\n\n"
                                   f"Write {what} into {name} anyway?"):
            self.photoWritten.emit(result.path, "cancelled")
            return
        if not result.model.untrained and not result.model.verified and not self.confirm(
                "Unverified model", f"The model's files are not the published LocationNet files (their md5 sums "
                                    f"differ): this position is not LocationNet's answer. The photo will record "
                                    f"that the model was unverified.\n\nWrite {what} into {name} anyway?"):
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
        hardlinks = self._hardlinks_choice(result.path, name)
        if hardlinks is None:
            self.photoWritten.emit(result.path, "cancelled")
            return
        tag = GeoTag.from_guess(guess, result.model)
        if adjusted is not None:
            tag = dataclasses.replace(tag, lat=adjusted[0], lon=adjusted[1], adjusted=True)
        self.statusBar().showMessage(f"Writing {what} into {name}...")
        writer = PhotoWriter(self.journal, command=f"GeoGuess window: Write GPS to {display_path(result.path)}",
                             hardlinks=hardlinks)

        def done(future: Future) -> None:
            error = future.exception()
            notes = "".join(f"; {display_path(note)}" for note in writer.notices)
            for note in writer.notices:
                log.warning("%s", note)
            if error is None:
                message = f"written: {what} into {name} (undo: geoguess undo --run {writer.run}){notes}"
            elif isinstance(error, GeoGuessError):
                message = f"refused: {error}"
                show_error(self, "The position was not written", f"{name} was left as it was: {error}")
            else:
                log.error("writing GPS failed", exc_info=error)
                message = f"error: {error}"
                show_error(self, "The position was not written", f"{name}: {error}")
            self.statusBar().showMessage(message, 15000)
            self.photoWritten.emit(result.path, message)

        self.tasks.run(writer.write_gps, done, result.path, tag, overwrite_gps=overwrite)

    def geotag_folder(self, folder: str | None = None) -> None:
        """Open the batch geotagging dialog on a folder (asked for when not given)."""
        if self.engine is None:
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
            self.batch_dialog = BatchDialog(self.tasks, self.engine.classifier, self.journal, paths, self,
                                            online_tiles=self.online_tiles)
            self.batch_dialog.open()

        self.tasks.run(list_photos, listed, [Path(folder)])

