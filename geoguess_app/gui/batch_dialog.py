"""Geotagging a folder from the window: plan (a dry run), review, write the accepted photos.

The photos are predicted in the background and appear as rows (thumbnail, best guess's place,
probability, existing GPS, status) and as points on a map. Rows can be sorted by confidence and
accepted or rejected with the keyboard (Space toggles, A accepts, R rejects). "Write accepted"
writes them one by one on the background thread, with progress and Cancel, through the same
writer and undo journal as ``geoguess tag``.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from ..core.geotag.batch import tag_photos
from ..core.geotag.outcome import REFUSED, WOULD_WRITE, WRITTEN, Status, TagOutcome, write_one
from ..core.geotag.writer import GeoTag, PhotoWriter
from ..core.names import display_path
from ..core.predict.pipeline import Predictor
from .map_view import MapView
from .qt_helpers import plain_label, qimage_from_array
from .tasks import TaskRunner, log_failure

log = logging.getLogger(__name__)
COLUMNS = ["Write", "Photo", "Best guess", "Probability", "GPS already there", "Status"]
SORT_ROLE = Qt.ItemDataRole.UserRole + 10


class _SortItem(QTableWidgetItem):
    def __lt__(self, other):  # numeric where a sort value is set
        a, b = self.data(SORT_ROLE), other.data(SORT_ROLE)
        if a is not None and b is not None:
            return a < b
        return self.text() < other.text()


class BatchDialog(QDialog):
    planned = Signal()  # every photo has a row
    finished = Signal()  # writing ended (done or cancelled)

    def __init__(self, tasks: TaskRunner, model, journal, paths: list[str], parent=None, online_tiles: bool = True):
        super().__init__(parent)
        self.setWindowTitle("Geotag photos")
        self.resize(1200, 700)
        self._tasks, self._model, self._journal = tasks, model, journal
        self._cancel = threading.Event()
        self.writer: PhotoWriter | None = None  # the run that writes the accepted photos
        self.outcomes: dict[str, TagOutcome] = {}
        self.accepted: dict[str, bool] = {}
        self.header = plain_label(f"{len(paths)} photos. Predicting...", self)
        if model.info.warning:
            self.header.setText(self.header.text() + "  " + self._model_note())
            self.header.setStyleSheet("color: #b00020; font-weight: bold")
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setIconSize(QPixmap(64, 64).size())
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        for column, width in enumerate((50, 180, 160, 75, 140)):
            header.resizeSection(column, width)
        self.table.installEventFilter(self)
        self.table.itemChanged.connect(self._on_item_changed)
        self.map = MapView(self, online_tiles=online_tiles)
        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(self.table)
        split.addWidget(self.map)
        split.setSizes([800, 400])
        self.progress = QProgressBar(self)
        self.progress.setRange(0, len(paths))
        self.write_button = QPushButton("&Write accepted", self)
        self.write_button.setEnabled(False)
        self.write_button.clicked.connect(self.write_accepted)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.clicked.connect(self._cancel.set)
        self.close_button = QPushButton("Close", self)
        self.close_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.progress, 1)
        for b in (self.write_button, self.cancel_button, self.close_button):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addWidget(split, 1)
        layout.addLayout(buttons)
        self._tasks.run(self._plan, paths, on_success=lambda _: self._planned(), on_failure=self._planned)

    # ----- planning (a dry run) ------------------------------------------------------------
    def _plan(self, paths: list[str]) -> None:  # background thread
        predictor = Predictor(self._model, top_k=1, preview_size=96)
        for outcome in tag_photos(paths, predictor, write=False, cancel=self._cancel):
            self._tasks.post(self._add_row, outcome)

    def _add_row(self, outcome: TagOutcome) -> None:
        self.outcomes[outcome.path] = outcome
        self.accepted[outcome.path] = outcome.status == WOULD_WRITE
        self.table.setSortingEnabled(False)
        row = self.table.rowCount()
        self.table.insertRow(row)
        check = _SortItem()
        check.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
        check.setCheckState(Qt.CheckState.Checked if self.accepted[outcome.path] else Qt.CheckState.Unchecked)
        check.setData(Qt.ItemDataRole.UserRole, outcome.path)
        photo = QTableWidgetItem(Path(outcome.path).name)
        photo.setToolTip(outcome.path)
        if outcome.preview is not None:
            photo.setIcon(QIcon(QPixmap.fromImage(qimage_from_array(outcome.preview))))
        g = outcome.guess
        prob = _SortItem(f"{g.probability * 100:.1f}%" if g else "")
        prob.setData(SORT_ROLE, g.probability if g else -1.0)
        items = [
            check,
            photo,
            QTableWidgetItem(g.place if g else ""),
            prob,
            QTableWidgetItem(outcome.existing_gps or ""),
            QTableWidgetItem(self._status_text(outcome)),
        ]
        for column, item in enumerate(items):
            self.table.setItem(row, column, item)
        self.table.setRowHeight(row, 70)
        self.table.setSortingEnabled(True)
        self.progress.setValue(len(self.outcomes))
        self._update_map()

    @staticmethod
    def _status_text(outcome: TagOutcome) -> str:
        if outcome.status == WOULD_WRITE:
            return "ready to write"
        if outcome.status == REFUSED and outcome.existing_gps:
            return "has its own GPS: kept"
        return f"{outcome.status}: {outcome.message}"

    def _planned(self, error: BaseException | None = None) -> None:
        """Every photo has its row, or planning stopped at ``error``: the rows so far can be written."""
        stopped = ""
        if error is not None:
            log_failure("planning the geotagging stopped", error)
            stopped = f"Stopped: {error}\n"  # stays above the rows planned so far
        done = len(self.outcomes)
        self.header.setText(
            f"{stopped}{done} photos: {sum(self.accepted.values())} accepted for writing. "
            "Space toggles, A accepts, R rejects; click a column to sort."
            + ("  " + self._model_note() if self._model.info.warning else "")
        )
        self.write_button.setEnabled(any(self.accepted.values()))
        self.planned.emit()

    def _update_map(self) -> None:
        self.map.show_points(
            [
                {
                    "name": Path(o.path).name,
                    "lat": o.guess.lat,
                    "lon": o.guess.lon,
                    "place": o.guess.place,
                    "probability": o.guess.probability,
                    "accepted": self.accepted.get(o.path, False),
                    "untrained": o.untrained,
                    "unverified": not o.untrained and o.verified is False,
                }
                for o in self.outcomes.values()
                if o.guess is not None
            ]
        )

    # ----- review ----------------------------------------------------------------------------
    def _row_path(self, row: int) -> str:
        return self.table.item(row, 0).data(Qt.ItemDataRole.UserRole)

    def set_accepted(self, row: int, accepted: bool) -> None:
        path = self._row_path(row)
        if accepted and self.outcomes[path].status != WOULD_WRITE:
            return  # refused or unreadable photos cannot be accepted
        self.table.item(row, 0).setCheckState(Qt.CheckState.Checked if accepted else Qt.CheckState.Unchecked)

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if item.column() != 0:
            return
        path = item.data(Qt.ItemDataRole.UserRole)
        wanted = item.checkState() == Qt.CheckState.Checked
        if wanted and self.outcomes[path].status != WOULD_WRITE:
            item.setCheckState(Qt.CheckState.Unchecked)
            return
        if self.accepted.get(path) != wanted:
            self.accepted[path] = wanted
            self.write_button.setEnabled(any(self.accepted.values()))
            self._update_map()

    def eventFilter(self, obj, event):  # keyboard review in the table
        if obj is self.table and event.type() == QEvent.Type.KeyPress:
            row = self.table.currentRow()
            key = event.key()
            if row >= 0 and key in (Qt.Key.Key_Space, Qt.Key.Key_A, Qt.Key.Key_R):
                current = self.table.item(row, 0).checkState() == Qt.CheckState.Checked
                self.set_accepted(row, {Qt.Key.Key_Space: not current, Qt.Key.Key_A: True, Qt.Key.Key_R: False}[key])
                if key != Qt.Key.Key_Space and row + 1 < self.table.rowCount():
                    self.table.setCurrentCell(row + 1, 0)
                return True
        return super().eventFilter(obj, event)

    # ----- writing ---------------------------------------------------------------------------
    def write_accepted(self) -> None:
        todo = [p for p, ok in self.accepted.items() if ok and self.outcomes[p].status == WOULD_WRITE]
        self._cancel.clear()
        self.write_button.setEnabled(False)
        self.progress.setRange(0, len(todo))
        self.progress.setValue(0)
        self._tasks.run(self._write, todo, on_success=lambda _: self._written(), on_failure=self._written)

    def _model_note(self) -> str:
        info = self._model.info
        return (
            "UNTRAINED MODEL: the positions are random."
            if info.untrained
            else "UNVERIFIED MODEL: its files are not the published LocationNet files."
        )

    def _write(self, todo: list[str]) -> None:  # background thread
        self.writer = PhotoWriter(self._journal, command=f"GeoGuess window: geotag {len(todo)} photos")
        for i, path in enumerate(todo, start=1):
            if self._cancel.is_set():
                return
            planned = self.outcomes[path]
            outcome = write_one(self.writer, path, GeoTag.from_guess(planned.guess, planned.model))
            self._tasks.post(self._show_written, path, outcome.status, outcome.summary, i)

    def _show_written(self, path: str, status: Status, message: str, done: int) -> None:
        self.outcomes[path].status = status
        for row in range(self.table.rowCount()):
            if self._row_path(row) == path:
                self.table.item(row, 5).setText(message)
        self.progress.setValue(done)

    def _written(self, error: BaseException | None = None) -> None:
        """The writing ended: done, cancelled, or stopped by ``error`` (said in the header, and logged)."""
        written = sum(o.status == WRITTEN for o in self.outcomes.values())
        undo = f" Undo: geoguess undo --run {self.writer.run}" if self.writer is not None and written else ""
        notes = self.writer.notices if self.writer is not None else []
        for note in notes:
            log.warning("%s", note)
        if error is not None:
            log_failure("writing the accepted photos stopped", error)
            notes = [*notes, f"writing stopped: {error}"]
        self.header.setText(
            f"{written} photos written"
            + (" (cancelled)" if self._cancel.is_set() else "")
            + "."
            + undo
            + "".join(f"\n{display_path(n)}" for n in notes)
        )
        self.finished.emit()

    def reject(self) -> None:
        self._cancel.set()
        super().reject()
