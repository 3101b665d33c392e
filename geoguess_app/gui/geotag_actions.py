"""The window's geotagging actions: write a guess (or the position the person set: the pin dragged,
a searched place, typed coordinates) into the shown photo, after asking what must be asked, and
open the batch dialog for a folder. A position the person set is written as set by a person
(GeoTag.set_by_person), never as a prediction, and the question before it says so.

The window composes one (``window.geotag``); it reaches the window only through what it is given:
the shown photo's result, the model controller, the task runner and the status bar.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QAbstractButton, QMessageBox, QStatusBar, QWidget

from ..core.geo.cells import format_km, great_circle_km
from ..core.geotag.journal import Journal
from ..core.geotag.outcome import REFUSED, RESTORED, WRITTEN, TagOutcome, write_one
from ..core.geotag.writer import GeoTag, PhotoWriter
from ..core.names import display_path
from ..core.predict.results import PhotoResult
from .folder_geotag import FolderGeotag
from .group_write import group_tag, kept, plan_text, said, summary, write_group
from .model_controller import ModelController
from .qt_helpers import show_error
from .set_position import SetPosition, describe_pin
from .tasks import TaskRunner, log_failure
from .undo_actions import Entry, UndoActions
from .write_choices import write_choices

log = logging.getLogger(__name__)


class GeotagActions(FolderGeotag, QObject):
    written = Signal(str, str)  # path, outcome ("written: ..." or "refused: ..." or "error: ..." or "cancelled")
    pinChanged = Signal(str)  # where the pin was moved (its place, its distance from the guess); "" when back
    gpsChanged = Signal(str, bool)  # path; True: GeoGuess's position is in it now, False: taken out again

    def __init__(
        self,
        window: QWidget,
        tasks: TaskRunner,
        model: ModelController,
        status: QStatusBar,
        current: Callable[[], PhotoResult | None],
        online_tiles: bool = True,
    ):
        super().__init__(window)
        self._window, self._tasks, self._model, self._status = window, tasks, model, status
        self._current = current  # the result of the photo shown, if it has one
        self.selected: Callable[[], list[str]] = lambda: []  # the photos selected in the filmstrip
        self.result_of: Callable[[str], PhotoResult | None] = lambda path: None
        self.selected_rank: Callable[[], int] = lambda: 1  # the guess chosen in the results panel
        self.online_tiles = online_tiles
        self.undo = UndoActions(window, tasks, Journal(), status)  # Edit > Undo, Redo, History
        self.undo.undone.connect(self._forget_undone)
        self.undo.undoneElsewhere.connect(self._forget_undone_elsewhere)
        self._adjusted: dict[str, SetPosition] = {}  # photo -> the position the person set for it
        self._coming: SetPosition | None = None  # a searched place or typed coordinates the pin is moving to
        self._written: dict[str, str] = {}  # photo -> the position written into it from this window
        self.twins: dict[str, str] = {}  # photo -> its RAW twin, written with it (photos/pairs.py)
        self.options_dialog = None  # File > Geotag a folder's dialogs, while open (folder_geotag.py)
        self.batch_dialog = None

    @property
    def journal(self) -> Journal:
        """The undo journal of every write from the window (the one Edit > Undo reads)."""
        return self.undo.journal

    @journal.setter
    def journal(self, journal: Journal) -> None:
        self.undo.journal = journal

    def confirm(self, title: str, text: str) -> bool:
        """Ask before doing something to a photo (tests replace this)."""
        box = QMessageBox(
            QMessageBox.Icon.Question,
            title,
            text,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self._window,
        )
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        return box.exec() == QMessageBox.StandardButton.Yes

    def choose(self, title: str, text: str, choices: list[tuple[str, str]]) -> str | None:
        """Ask which of ``choices`` ((key, button text)) to take; None for Cancel (tests replace this)."""
        box = QMessageBox(QMessageBox.Icon.Question, title, text, QMessageBox.StandardButton.Cancel, self._window)
        box.setTextFormat(Qt.TextFormat.PlainText)
        buttons: dict[QAbstractButton, str] = {
            box.addButton(label, QMessageBox.ButtonRole.AcceptRole): key for key, label in choices
        }
        box.exec()
        clicked = box.clickedButton()  # None when the box was closed without a button
        return buttons.get(clicked) if clicked is not None else None

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
            [("in-place", "Write the shared file"), ("split", "Only this name")],
        )

    # ----- the position to write ---------------------------------------------------------------
    def place_chosen(self, lat: float, lon: float, how: str, place: str = "") -> None:
        """A searched place or typed coordinates: the pin moving there next was put there that way."""
        self._coming = SetPosition(lat, lon, how, place if how == "searched" else "")

    def pin_moved(self, lat: float, lon: float, moving: bool = False) -> None:
        """The pin was dragged: that position is the one to write; the results panel says where it is
        (while it is still dragged, its coordinates and distance; once dropped, its place too)."""
        result, rank = self._current(), self.selected_rank()
        if result is None or not result.ok or not 1 <= rank <= len(result.predictions):
            return
        if moving:
            guess = result.predictions[rank - 1]
            away = format_km(great_circle_km(lat, lon, guess.lat, guess.lon))
            self.pinChanged.emit(f"Pin at {lat:.6f}, {lon:.6f}, {away} from guess #{rank}...")
            return
        coming, self._coming = self._coming, None
        if coming is not None and abs(coming.lat - lat) < 1e-9 and abs(coming.lon - lon) < 1e-9:
            position = coming
        else:  # dragged by hand
            position = SetPosition(lat, lon, "pin")
        self._adjusted[result.path] = position
        self.pinChanged.emit(f"Pin moved to {lat:.6f}, {lon:.6f}. Esc puts it back.")
        path = result.path

        def show(text: str) -> None:  # unless it moved again, or another photo is shown, meanwhile
            current = self._current()
            if current is not None and current.path == path and self._adjusted.get(path) == position:
                self.pinChanged.emit(text)

        self._tasks.run(describe_pin, lat, lon, result.predictions[rank - 1], on_success=show)

    def pin_adjusted(self) -> bool:
        result = self._current()
        return result is not None and result.path in self._adjusted

    def forget_adjustment(self, _rank: int = 0) -> None:
        """Another guess was chosen (or Esc): write it, not where the pin was dragged."""
        result = self._current()
        if result is not None:
            self._adjusted.pop(result.path, None)
        self.pinChanged.emit("")

    # ----- one photo -------------------------------------------------------------------------
    def group(self) -> list[str]:
        """The photos Write GPS writes: the one shown and every other one selected."""
        result = self._current()
        shown = [result.path] if result is not None else []
        return shown + [p for p in self.selected() if p not in shown]

    def write_guess(self, rank: int) -> None:
        result = self._current()
        if result is None or not result.ok or not 1 <= rank <= len(result.predictions):
            return
        if len(self.group()) > 1:  # several photos selected: all of them
            self._write_group(result, rank)
            return
        guess = result.predictions[rank - 1]
        name = display_path(result.name)
        person = self._adjusted.get(result.path)  # a position the person set: no model placed it
        if person is not None:
            what, note = person.describe(), "\n\n" + person.note()
        else:
            what = f"{guess.lat:.6f}, {guess.lon:.6f} ({guess.place}, guess #{rank}, {guess.probability * 100:.1f}%)"
            note = ""
            if not self._model_may_place(result, f"Write {what} into {name} anyway?"):
                self.written.emit(result.path, "cancelled")
                return
        overwrite = False
        gps = result.exif_gps
        earlier = self._written.get(result.path)
        if earlier is not None:  # written from this window since it was predicted: its result does not know
            if not self.confirm(
                "Replace GeoGuess's own position?",
                f"GeoGuess already wrote {earlier} into {name}.\n\nReplace it with {what}?{note}",
            ):
                self.written.emit(result.path, "cancelled")
                return
            overwrite = True
        elif gps is not None:
            predicted = "" if person is not None else "the predicted "
            if not self.confirm(
                "Replace the photo's GPS position?",
                f"{name} already has a GPS position: {gps.lat:.6f}, {gps.lon:.6f}.\n\n"
                f"Replace it with {predicted}{what}?{note}",
            ):
                self.written.emit(result.path, "cancelled")
                return
            overwrite = True
        elif person is not None and not self.confirm("Write the position you set?", f"Write {what} into {name}?{note}"):
            self.written.emit(result.path, "cancelled")
            return
        hardlinks = self._hardlinks_choice(result.path, name)
        if hardlinks is None:
            self.written.emit(result.path, "cancelled")
            return
        tag = person.tag() if person is not None else GeoTag.from_guess(guess, result.model)
        self._write(result.path, tag, overwrite, hardlinks, what)

    def _model_may_place(self, result: PhotoResult, question: str) -> bool:
        """Before writing a guess: the untrained stand-in's, or an unverified model's, only on Yes."""
        model = result.model
        assert model is not None  # only a predicted result has guesses to write
        if model.untrained:
            return self.confirm(
                "Untrained model", f"The model is an UNTRAINED stand-in: this position is random.\n\n{question}"
            )
        if not model.verified:
            return self.confirm(
                "Unverified model",
                "The model's files are not the published LocationNet files (their md5 sums differ): this "
                "position is not LocationNet's answer. The photo will record that the model was "
                f"unverified.\n\n{question}",
            )
        return True

    def _write(self, path: str, tag: GeoTag, overwrite: bool, hardlinks: str, what: str, redoing: bool = False) -> None:
        """Write ``tag`` into ``path`` (asked for already), and record it for Edit > Undo / Redo."""
        name = display_path(Path(path).name)
        self._status.showMessage(f"Writing {what} into {name}...")
        writer = PhotoWriter(
            self.journal,
            command=f"GeoGuess window: Write GPS to {display_path(path)}",
            hardlinks=hardlinks,
            **write_choices(),
        )

        def notes() -> str:
            for note in writer.notices:
                log.warning("%s", note)
            return "".join(f"; {display_path(note)}" for note in writer.notices)

        def done(outcome: TagOutcome) -> None:
            if outcome.status == WRITTEN:
                into = outcome.message or f"into {name}"  # a link's message names the file written
                if outcome.twin is not None:  # the RAW twin: written (into its sidecar), or why not
                    into += f"; its RAW twin: {outcome.twin.summary}"
                message = f"written: {what} {into} (Edit > Undo, Ctrl+Z){notes()}"
                self._written[path] = f"{tag.lat:.6f}, {tag.lon:.6f}"
                self.gpsChanged.emit(path, True)
                again = lambda: self._write(path, tag, True, hardlinks, what, redoing=True)  # noqa: E731
                self.undo.record(Entry(f"{what} into {name}", writer.run, again, (path,)), redoing=redoing)
            else:  # refused (the photo is as it was) or error (the file system failed)
                message = outcome.summary + notes()
                log.warning("%s: %s", path, outcome.summary)
                left = "was left as it was" if outcome.status == REFUSED else "could not be written"
                show_error(self._window, "The position was not written", f"{name} {left}: {outcome.message}")
            self._finish_write(path, message)

        def failed(error: BaseException) -> None:  # not about this photo: no ExifTool, or a bug
            log_failure("writing GPS failed", error)
            show_error(self._window, "The position was not written", f"{name}: {error}")
            self._finish_write(path, f"error: {error}{notes()}")

        twin = self.twins.get(path)

        def write() -> TagOutcome:  # background thread: one journal run, its photo and its end recorded
            writer.prepare_folders([path] + ([twin] if twin else []))
            try:
                outcome = write_one(writer, path, tag, overwrite_gps=overwrite)
                if twin and outcome.status == WRITTEN:  # the RAW twin's sidecar, in the same run
                    outcome.twin = write_one(writer, twin, tag, overwrite_gps=overwrite)
                return outcome
            finally:
                writer.finish()

        self._tasks.run(write, on_success=done, on_failure=failed)

    def _write_group(self, result: PhotoResult, rank: int) -> None:
        """The shown photo's chosen guess (or its pin's position) into every selected photo."""
        paths = self.group()
        guess = result.predictions[rank - 1]
        model = result.model
        assert model is not None  # the model that ranked the guesses
        person = self._adjusted.get(result.path)
        if person is not None:  # set by the person: no model placed it
            tag, what = person.tag(), person.describe()
        else:
            tag = GeoTag.from_guess(guess, model)
            what = f"{guess.lat:.6f}, {guess.lon:.6f} ({guess.place}, guess #{rank})"
        text = plan_text(paths, self.result_of, self._written, what)
        if person is not None:
            text += "\n\n" + person.note("Each photo")
        elif model.untrained:
            text += "\n\nThe model is an UNTRAINED stand-in: this position is random."
        elif not model.verified:
            text += "\n\nThe model's files are not the published LocationNet files: the photos will record it."
        if not self.confirm(f"Write to {len(paths)} photos?", text):
            for path in paths:
                self.written.emit(path, "cancelled")
            return
        todo = [p for p in paths if p not in self._written]  # GeoGuess's own positions are kept too
        shown = display_path(result.name)
        tags = {p: tag if p == result.path else group_tag(tag, shown, len(todo)) for p in todo}
        self._run_group(todo, tags, what)

    def _run_group(self, paths: list[str], tags: dict[str, GeoTag], what: str, redoing: bool = False) -> None:
        """Write each photo's tag, one journal run; record it for Edit > Undo, whose Redo writes the
        photos written again the same way."""
        self._status.showMessage(f"Writing {what} into {len(paths)} photos...")

        def done(answer: tuple[str, list[TagOutcome]]) -> None:
            run, outcomes = answer
            counts, others = summary(outcomes)
            wrote = [o.path for o in outcomes if o.status == WRITTEN]
            for path in wrote:
                self._written[path] = f"{tags[path].lat:.6f}, {tags[path].lon:.6f}"
                self.gpsChanged.emit(path, True)
            if wrote:
                again = lambda: self._run_group(wrote, tags, what, redoing=True)  # noqa: E731
                self.undo.record(Entry(f"{what} into {len(wrote)} photos", run, again, tuple(wrote)), redoing=redoing)
            if others:  # failures only: a photo keeping its GPS position was said in the question
                show_error(self._window, "Not every photo was written", "\n".join(others))
            self._status.showMessage(f"{what}: {counts}" + (" (Edit > Undo, Ctrl+Z)" if wrote else ""), 15000)
            for o in outcomes:
                self.written.emit(o.path, said(o) if kept(o) else o.summary)

        todo = {p: tags[p] for p in paths}
        self._tasks.run(write_group, self.journal, paths, todo, what, on_success=done, failure_title="Writing stopped")

    def _forget_undone(self, outcomes: list[TagOutcome]) -> None:
        for outcome in outcomes:
            if outcome.status == RESTORED:
                self._written.pop(outcome.path, None)
                self.gpsChanged.emit(outcome.path, False)

    def _forget_undone_elsewhere(self, entries: list[Entry]) -> None:
        for entry in entries:
            for path in entry.paths:
                self._written.pop(path, None)
                self.gpsChanged.emit(path, False)

    def _finish_write(self, path: str, message: str) -> None:
        self._status.showMessage(message, 15000)
        self.written.emit(path, message)
