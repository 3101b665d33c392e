"""Geotagging a folder from the window: plan (predict, fuse, a dry run), review, write.

The photos are predicted in the background, then fused as a set (core/fusion: time zones, the
photos taken before and after each, the photos with their own GPS), then appear as rows
(thumbnail, time, place, probability, where the position came from, its radius, the evidence,
existing GPS, status) and on a map fitted to the answers: the answers joined in time order as a
track, each photo's own single-photo guess faint beside it; choosing a row shows its photo up close
(and clicking a photo on the map chooses its row). Rows sort by any column and filter by kind;
only photos at or above the acceptance threshold (or placed by GPS data) are ticked to begin with. The keyboard
reviews (Space toggles, A accepts, R rejects). "Write accepted" asks first, then writes on the
background thread, with progress and Cancel (offered only while planning or writing), through the
same writer and undo journal as ``geoguess tag``. An untrained or unverified model is said in red
above the rows; the counts and the end are said in the ordinary colour.
"""

from __future__ import annotations

import datetime
import logging
import threading
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
)

from ..core.fusion.evidence import MEASURED
from ..core.fusion.fuse import FusedAnswer, split_in_time
from ..core.fusion.inputs import FusionPhoto
from ..core.fusion.settings import FusionSettings, PreparedFusion
from ..core.fusion.travel import TravelModel
from ..core.geotag.job import GeotagJob, Planned
from ..core.geotag.outcome import ERROR, REFUSED, SKIPPED, WOULD_WRITE, WRITTEN, Status, TagOutcome
from ..core.geotag.policy import ASKED_IN_WINDOW, DEFAULT_MIN_PROBABILITY, TagPolicy
from ..core.geotag.writer import PhotoWriter
from ..core.names import display_path
from ..core.predict.cache import PredictionCache
from ..core.predict.decoding import decode_plan
from ..core.predict.pipeline import Predictor
from .batch_table import FILTERS, BatchTable
from .map_view import MapView
from .qt_helpers import plain_label
from .tasks import TaskRunner, log_failure
from .write_choices import write_choices

log = logging.getLogger(__name__)
MAP_WIDTH = 420  # the least the map gets of the dialog's default width
DEFAULT_THRESHOLD = DEFAULT_MIN_PROBABILITY * 100  # percent: the command line's default too


class BatchDialog(QDialog):
    planned = Signal()  # every photo has a row
    finished = Signal()  # writing ended (done or cancelled)

    def __init__(
        self,
        tasks: TaskRunner,
        model,
        journal,
        paths: list[str],
        parent=None,
        online_tiles: bool = True,
        fusion: FusionSettings | PreparedFusion = FusionSettings(),
    ):
        """``fusion``: what places the photos besides their pixels, best prepared by the caller
        (folder_options.py: a track that cannot be read is said there, before this dialog)."""
        super().__init__(parent)
        self.setWindowTitle("Geotag photos")
        self._tasks, self._model, self._journal = tasks, model, journal
        self.plan = GeotagJob.planner(
            fusion, TagPolicy(consent=ASKED_IN_WINDOW, **write_choices())
        )  # the write asks first
        self.job: GeotagJob | None = None  # the run that writes the accepted photos
        self._gps_tracks = [t.line() for t in self.plan.fusion.tracks] if self.plan.fusion else []
        self._cancel = threading.Event()
        self._total = len(paths)
        self._predicted = 0
        self.outcomes: dict[str, TagOutcome] = {}
        self.ticked: dict[str, bool] = {}  # ticked for writing, by path (not `accepted`: QDialog's signal)
        self.answers: dict[str, tuple[FusionPhoto, FusedAnswer]] = {}  # set once, before the rows come
        self.confirmation: QMessageBox | None = None
        self._stopped = ""  # why planning stopped early, kept above the counts
        self._planning_done = False  # writing waits for the whole plan
        self.model_warning = plain_label(self._model_note() if model.info.warning else "", self)
        self.model_warning.setWordWrap(True)
        self.model_warning.setStyleSheet("color: #b00020; font-weight: bold")
        self.model_warning.setVisible(bool(model.info.warning))
        self.header = plain_label(f"{len(paths)} photos. Predicting...", self)
        self.header.setWordWrap(True)  # the counts are long: they wrap instead of widening the dialog
        self.table = BatchTable(self.outcomes, self)
        self.table.acceptChanged.connect(self._on_accept_changed)
        self.table.currentCellChanged.connect(lambda row, *_: self._show_row(row))
        self.map = MapView(self, online_tiles=online_tiles)
        self.map.rankClicked.connect(self._choose_point)
        self._points: list[str] = []  # the photos on the map, in the order the map numbers them (from 1)
        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(self.table)
        split.addWidget(self.map)
        table_width = self.table.needed_width()  # every column in view, beside a map of 420 pixels at least
        width = max(1300, table_width + MAP_WIDTH + 60)
        self.resize(width, 720)
        split.setSizes([table_width, width - table_width - 60])  # the margins' share goes to both
        self.threshold = QDoubleSpinBox(self)
        self.threshold.setRange(0.0, 100.0)
        self.threshold.setSingleStep(5.0)
        self.threshold.setSuffix(" %")
        self.threshold.setValue(DEFAULT_THRESHOLD)
        self.threshold.setToolTip("Photos below this fused probability are not ticked for writing")
        self.accept_above = QPushButton("Accept all &above", self)
        self.accept_above.clicked.connect(self.accept_all_above)
        self.filter = QComboBox(self)
        self.filter.addItems(list(FILTERS))
        self.filter.currentTextChanged.connect(self.table.apply_filter)
        tools = QHBoxLayout()
        for widget in (QLabel("Accept from", self), self.threshold, self.accept_above):
            tools.addWidget(widget)
        tools.addStretch(1)
        tools.addWidget(QLabel("Show", self))
        tools.addWidget(self.filter)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, len(paths))
        self.write_button = QPushButton("&Write accepted", self)
        self.write_button.setEnabled(False)
        self.write_button.clicked.connect(self.write_accepted)
        self.cancel_button = QPushButton("Cancel", self)  # while planning or writing
        self.cancel_button.clicked.connect(self._cancel.set)
        self.close_button = QPushButton("Close", self)
        self.close_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.progress, 1)
        for b in (self.write_button, self.cancel_button, self.close_button):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addWidget(self.model_warning)
        layout.addWidget(self.header)
        layout.addLayout(tools)
        layout.addWidget(split, 1)
        layout.addLayout(buttons)
        self._tasks.run(self._plan, paths, on_success=lambda _: self._planned(), on_failure=self._planned)

    # ----- planning: predict, fuse, a dry run --------------------------------------------------
    def _plan(self, paths: list[str]) -> None:  # background thread
        with PredictionCache() as cache:
            reduced = self._model.info.precision == "fast"  # the fast precision's decode goes with it
            predictor = Predictor(
                self._model, top_k=1, preview_size=96, cache=cache, decoding=decode_plan(reduced=reduced)
            )
            for outcome in self.plan.run(
                paths,
                predictor,
                cancel=self._cancel,
                on_predicted=lambda _: self._tasks.post(self._one_predicted),
                on_fusing=self._fusing,
                on_fused=self._fused,
            ):
                self._tasks.post(self._add_row, outcome)

    def _fusing(self, count: int) -> None:  # background thread
        sources = "time zones, neighbours, GPS" + (", tracks" if self.plan.fusion and self.plan.fusion.tracks else "")
        self._tasks.post(self.header.setText, f"Fusing {count} photos ({sources})...")

    def _fused(self, photos: list[FusionPhoto], answers: list[FusedAnswer]) -> None:  # background thread
        self._tasks.post(self._keep_answers, {p.path: (p, a) for p, a in zip(photos, answers)})  # before the rows

    def _keep_answers(self, answers: dict[str, tuple[FusionPhoto, FusedAnswer]]) -> None:
        self.answers = answers

    def _one_predicted(self) -> None:
        self._predicted += 1
        self.progress.setValue(self._predicted)
        self.header.setText(f"{self._total} photos. Predicted {self._predicted}...")

    def _add_row(self, outcome: TagOutcome) -> None:
        self.outcomes[outcome.path] = outcome
        self.ticked[outcome.path] = self._above_threshold(outcome)
        photo, answer = self.answers.get(outcome.path, (None, None))
        when = photo.time if photo is not None else None
        radius = answer.radius_km if answer is not None else None
        self.table.add_row(outcome, when, radius, self.ticked[outcome.path])
        self._update_map()
        self._update_header()

    def _above_threshold(self, outcome: TagOutcome) -> bool:
        if outcome.status != WOULD_WRITE or outcome.guess is None:
            return False
        return outcome.source in MEASURED or outcome.guess.probability * 100 >= self.threshold.value()

    def _planned(self, error: BaseException | None = None) -> None:
        """Every photo has its row, or planning stopped at ``error``: the rows so far can be written."""
        if error is not None:
            log_failure("planning the geotagging stopped", error)
        self._stopped = f"Stopped: {error}\n" if error is not None else ""  # stays above the rows so far
        self.progress.setValue(self.progress.maximum())
        self._planning_done = True
        self.cancel_button.setEnabled(False)  # nothing runs until Write accepted
        ready = [o for o in self.outcomes.values() if o.status == WOULD_WRITE]
        if self._model.info.warning and ready and all(o.source in MEASURED for o in ready):
            # the model's warning stays, but nothing ready to write comes from it: said so, not in red
            self.model_warning.setText(
                self._model_note() + " No position ready to write comes from it: all are from GPS data."
            )
            self.model_warning.setStyleSheet("")
        self._update_header()
        self.planned.emit()

    def _update_header(self) -> None:
        """The counts, true after every change."""
        ready = [o for o in self.outcomes.values() if o.status == WOULD_WRITE]
        accepted = [o for o in ready if self.ticked.get(o.path)]
        kinds = {k: sum(o.source == k for o in accepted) for k in ("fused", "model")}
        measured = sum(o.source in MEASURED for o in accepted)
        failed = sum(o.failed for o in self.outcomes.values())
        own = sum(o.source == "gps" for o in self.outcomes.values())
        text = (
            f"{self._stopped}{len(self.outcomes)} photos: {len(accepted)} of {len(ready)} ready "
            f"accepted for writing ({kinds['fused']} fused, {measured} from GPS data, {kinds['model']} from the photo "
            f"alone); {own} have their own GPS; {failed} refused or failed."
        )
        if self.job is None:
            text += " Space toggles, A accepts, R rejects; click a column to sort."
        self.header.setText(text)
        self.write_button.setEnabled(bool(accepted) and self.job is None and self._planning_done)

    def _update_map(self) -> None:
        points, timed = [], []
        self._points = []
        for o in self.outcomes.values():
            photo, answer = self.answers.get(o.path, (None, None))
            if o.guess is not None:
                lat, lon, place, probability = o.guess.lat, o.guess.lon, o.guess.place, o.guess.probability
            elif o.source == "gps" and answer is not None and answer.position is not None:
                (lat, lon), place, probability = answer.position, "its own GPS position", 1.0
            else:
                continue
            single = answer.single if answer is not None and o.source != "gps" else None
            predicted = o.source not in MEASURED and o.source != "gps"
            points.append(
                {
                    "name": Path(o.path).name,
                    "lat": lat,
                    "lon": lon,
                    "place": place,
                    "probability": probability,
                    "accepted": self.ticked.get(o.path, False),
                    "untrained": o.untrained,
                    # a model's answer only: a position from GPS data says nothing of the model
                    "unverified": predicted and not o.untrained and o.verified is False,
                    "source": o.source,
                    "evidence": list(o.evidence),
                    "radius_km": answer.radius_km if answer is not None else None,
                    "single": {"lat": single[0], "lon": single[1]} if single else None,
                }
            )
            self._points.append(o.path)
            if photo is not None and photo.utc is not None:
                timed.append((photo.utc, photo.index, (lat, lon)))
        # one line per sequence: none across a long gap, which fusion does not cross either
        fusion = self.plan.fusion
        gap = datetime.timedelta(hours=fusion.settings.max_gap_h) if fusion else TravelModel().max_gap
        segments = split_in_time([(when, where) for when, _, where in sorted(timed)], gap)
        self.map.show_points(points, [s for s in segments if len(s) > 1], self._gps_tracks)

    def _show_row(self, row: int) -> None:
        """A row chosen: its photo up close on the map (the map keeps that view until asked again)."""
        if row < 0 or self.table.item(row, 0) is None:
            return
        path = self.table.row_path(row)
        if path in self._points:
            self.map.focus_point(self._points.index(path) + 1)

    def _choose_point(self, number: int) -> None:
        """A photo clicked on the map: its row."""
        if 1 <= number <= len(self._points):
            row = self.table.row_of(self._points[number - 1])
            self.table.setCurrentCell(row, self.table.currentColumn() if self.table.currentColumn() >= 0 else 1)

    # ----- review ----------------------------------------------------------------------------
    def accept_all_above(self) -> None:
        """Tick every photo ready to write at or above the threshold (or placed by GPS data)."""
        for row in range(self.table.rowCount()):
            if self._above_threshold(self.outcomes[self.table.row_path(row)]):
                self.table.set_accepted(row, True)

    def _on_accept_changed(self, path: str, wanted: bool) -> None:
        if self.ticked.get(path) != wanted:
            self.ticked[path] = wanted
            self._update_header()
            self._update_map()

    # ----- writing ---------------------------------------------------------------------------
    def _todo(self) -> list[str]:
        return [p for p, ok in self.ticked.items() if ok and self.outcomes[p].status == WOULD_WRITE]

    def write_accepted(self) -> None:
        """Ask first (``self.confirmation``), then write the accepted photos."""
        todo = self._todo()
        kinds = [self.outcomes[p].source for p in todo]
        text = (
            f"Write a GPS position into {len(todo)} photos?\n\n"
            f"{kinds.count('fused')} fused from several photos, {sum(k in MEASURED for k in kinds)} from GPS data "
            f"(not predictions), {kinds.count('model')} from the photo alone. Each is marked in the photo as what it "
            "is, and every write can be undone."
        )
        if self._model.info.warning and any(k not in MEASURED for k in kinds):  # some positions are predicted
            text += "\n\n" + self._model_note()
        self.confirmation = QMessageBox(
            QMessageBox.Icon.Question,
            "Write positions",
            text,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        self.confirmation.button(QMessageBox.StandardButton.Yes).setText("Write")
        self.confirmation.accepted.connect(lambda: self._start_writing(todo))
        self.confirmation.open()

    def _start_writing(self, todo: list[str]) -> None:
        self._cancel.clear()
        self.write_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setRange(0, len(todo))
        self.progress.setValue(0)
        self.job = self.plan.writing(self._journal, command=f"GeoGuess window: geotag {len(todo)} photos")
        self._tasks.run(self._write, todo, on_success=lambda _: self._written(), on_failure=self._written)

    @property
    def writer(self) -> PhotoWriter | None:
        return self.job.writer if self.job is not None else None

    def _model_note(self) -> str:
        info = self._model.info
        return (
            "UNTRAINED MODEL: the predicted positions are random."
            if info.untrained
            else "UNVERIFIED MODEL: its files are not the published LocationNet files."
        )

    def _write(self, todo: list[str]) -> None:  # background thread
        assert self.job is not None
        planned = [Planned(self.outcomes[path], self.answers.get(path, (None, None))[1]) for path in todo]
        try:  # the run records its photos, and then its end (journal_check)
            for i, outcome in enumerate(self.job.write_planned(planned, self._cancel), start=1):
                if outcome.status == SKIPPED and self._cancel.is_set():  # cancelled: the rest stay as planned
                    return
                self._tasks.post(self._show_written, outcome.path, outcome.status, outcome.summary, i)
        finally:
            self.job.finish()

    def _show_written(self, path: str, status: Status, message: str, done: int) -> None:
        self.outcomes[path].status = status
        self.outcomes[path].message = message.partition(": ")[2] if status != WRITTEN else ""
        self.table.show_status(path, message, untick=status in (REFUSED, ERROR))  # a refused photo loses its tick
        self.progress.setValue(done)

    def _written(self, error: BaseException | None = None) -> None:
        """The writing ended: done, cancelled, or stopped by ``error`` (said in the header, and logged)."""
        statuses = [o.status for o in self.outcomes.values()]
        written, refused, failed = statuses.count(WRITTEN), statuses.count(REFUSED), statuses.count(ERROR)
        undo = (
            f" Undo: Edit > Undo in the window (Ctrl+Z), or geoguess undo --run {self.writer.run}"
            if self.writer is not None and written
            else ""
        )
        notes = self.writer.notices if self.writer is not None else []
        for note in notes:
            log.warning("%s", note)
        if error is not None:
            log_failure("writing the accepted photos stopped", error)
            notes = [*notes, f"writing stopped: {error}"]
        self.header.setText(
            f"{written} written, {refused} refused, {failed} failed"
            + (" (cancelled)" if self._cancel.is_set() else "")
            + "."
            + undo
            + "".join(f"\n{display_path(n)}" for n in notes)
        )
        self.cancel_button.setEnabled(False)
        self._update_map()
        self.finished.emit()

    def reject(self) -> None:
        self._cancel.set()
        super().reject()
