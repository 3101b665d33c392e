"""File > Geotag a folder, the window's side of it: what else places the photos (folder_options),
then the review and write (batch_dialog), whose writes become one step of Edit > Undo. A part of
GeotagActions (geotag_actions.py), kept apart by its job."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import SignalInstance
from PySide6.QtWidgets import QFileDialog, QWidget

from ..core.fusion.settings import PreparedFusion
from ..core.geotag.journal import Journal
from ..core.geotag.outcome import WRITTEN
from ..core.names import display_path
from ..core.photos.decode import list_photos
from . import settings
from .batch_dialog import BatchDialog
from .folder_options import FolderOptions
from .model_controller import ModelController
from .qt_helpers import show_error
from .tasks import TaskRunner
from .undo_actions import Entry, UndoActions


class FolderGeotag:
    """Mixed into GeotagActions, whose window, model, tasks, journal and undo stack it uses."""

    options_dialog: FolderOptions | None
    batch_dialog: BatchDialog | None
    # GeotagActions' own, used here
    _window: QWidget
    _model: ModelController
    _tasks: TaskRunner
    _written: dict[str, str]
    online_tiles: bool
    undo: UndoActions
    gpsChanged: SignalInstance
    journal: Journal

    # ----- a folder --------------------------------------------------------------------------
    def geotag_folder(self, folder: str | None = None) -> None:
        """Geotag a folder (asked for when not given): first what else places its photos
        (``options_dialog``: tracks, region, album, gap, clock), then the review (``batch_dialog``)."""
        engine = self._model.engine
        if engine is None:
            show_error(self._window, "No model", "The model is not loaded yet.")
            return
        folder = folder or QFileDialog.getExistingDirectory(
            self._window, "Geotag the photos of a folder", settings.LAST_FOLDER.get()
        )
        if not folder:
            return
        options = FolderOptions(folder, self._window)
        options.accepted.connect(lambda: self._review_folder(folder, options.prepared))
        self.options_dialog = options
        options.open()

    def _review_folder(self, folder: str, fusion: PreparedFusion | None) -> None:
        engine = self._model.engine
        if engine is None or fusion is None:
            return

        def listed(found: list[Path]) -> None:
            paths = [str(p) for p in found]
            if not paths:
                show_error(self._window, "No photos", f"No photos found in {folder}.")
                return
            dialog = BatchDialog(
                self._tasks,
                engine.classifier,
                self.journal,
                paths,
                self._window,
                online_tiles=self.online_tiles,
                fusion=fusion,
            )
            dialog.finished.connect(lambda: self._record_batch(dialog, folder))
            self.batch_dialog = dialog
            dialog.open()

        self._tasks.run(
            list_photos,
            [Path(folder)],
            on_success=listed,
            failure_title=f"The photos of {folder} could not be listed",
            parent=self._window,
        )

    def _record_batch(self, dialog: BatchDialog, folder: str) -> None:
        """The photos a folder's geotagging wrote: one step of Edit > Undo (not redone from there)."""
        written = [p for p, o in dialog.outcomes.items() if o.status == WRITTEN]
        if dialog.writer is not None and written:
            for p in written:
                self._written[p] = "a position"
                self.gpsChanged.emit(p, True)
            label = f"{len(written)} positions into {display_path(Path(folder).name)}"
            self.undo.record(Entry(label, dialog.writer.run, None, tuple(written)))
