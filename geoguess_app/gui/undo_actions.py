"""Undo in the window: Edit > Undo / Redo over the writes made since the window opened, and
Edit > History, the undo journal's runs (this photo's folder, this window's, or all), any of which
can be undone. Everything goes through the same journal and undo as ``geoguess undo``, on a
background thread; each photo's outcome is said, and a refusal is shown with its reason.

The journal is shared with every other GeoGuess process: a QFileSystemWatcher sees it change, and
the window then reads it again and drops from Edit > Undo (to Redo) what was undone elsewhere;
Undo reads it again before undoing too, so it never offers, nor does, what is already undone.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QFileSystemWatcher, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QMenuBar,
    QPushButton,
    QStatusBar,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..core.geotag.journal import Journal
from ..core.geotag.outcome import FAILED, RESTORED, TagOutcome
from ..core.geotag.undo import UndoScope, undo
from ..core.geotag.undo_listing import RunSummary, list_runs
from ..core.names import display_path
from .qt_helpers import add_action, plain_label, show_error
from .tasks import TaskRunner, log_failure

log = logging.getLogger(__name__)
UNDONE_ELSEWHERE = "undone elsewhere (geoguess undo, or another GeoGuess window)"


@dataclass
class Entry:
    """One write (or set of writes) made from the window: its journal run, and how to make it again."""

    label: str  # "the position of guess #1 into hopper.jpg"
    run: str
    redo: Callable[[], None] | None  # writes it again (None: cannot be redone from here)
    paths: tuple[str, ...] = ()  # the photos it wrote


def _undo_all(journal: Journal, scope: UndoScope) -> list[TagOutcome]:  # background thread
    return list(undo(journal, scope))


JOURNAL_SETTLE_MS = 300  # the journal is read again once it has been quiet this long


def _undoable(journal: Journal) -> dict[str, int]:  # background thread
    """How many photos of each run of the journal can still be undone (read only: no folder is
    looked through, as ``list_runs`` does for lost records)."""
    contents = journal.read()
    return {run.id: sum(1 for w in run.undoable if w.restorable) for run in contents.runs.values()}


def _undo_what_is_left(journal: Journal, run: str) -> list[TagOutcome] | None:  # background thread
    """Undo the run, read from the journal as it is now: None when nothing of it is left to undo."""
    if not _undoable(journal).get(run, 0):
        return None
    return _undo_all(journal, UndoScope(run=run))


class UndoActions(QObject):
    """The Edit menu. The window's writers ``record`` each write that succeeded."""

    undone = Signal(list)  # TagOutcome of each photo put back (or refused), after an undo
    undoneElsewhere = Signal(list)  # Entry of each write found undone by another process
    changed = Signal()  # the stacks changed (tests, and the actions' enabled state)

    def __init__(self, window: QWidget, tasks: TaskRunner, journal: Journal, status: QStatusBar):
        super().__init__(window)
        self._window, self._tasks, self._status = window, tasks, status
        self.done: list[Entry] = []
        self.redoable: list[Entry] = []
        self.busy = False
        self.history: HistoryDialog | None = None
        self.folder: Callable[[], str | None] = lambda: None  # the folder of the photo shown
        self._watcher = QFileSystemWatcher(self)
        self._watcher.fileChanged.connect(self._journal_changed)
        self._watcher.directoryChanged.connect(self._journal_changed)  # created, or replaced
        self._settle = QTimer(self, singleShot=True, interval=JOURNAL_SETTLE_MS)  # a burst of appends: one read
        self._settle.timeout.connect(self.check_journal)
        self._checking = False  # the journal is being read again
        self._check_again = False  # it changed again meanwhile
        self.journal = journal

    @property
    def journal(self) -> Journal:
        return self._journal

    @journal.setter
    def journal(self, journal: Journal) -> None:
        self._journal = journal
        self._watch()

    def _watch(self) -> None:
        """Watch the journal file, and its folder (where it is created, or replaced, by others)."""
        watched = self._watcher.files() + self._watcher.directories()
        if watched:
            self._watcher.removePaths(watched)
        path = self._journal.path
        for each in (path.parent, path):
            if each.exists():
                self._watcher.addPath(str(each))

    def _journal_changed(self, _path: str = "") -> None:
        if str(self._journal.path) not in self._watcher.files():
            self._watch()  # created since, or replaced (a watcher loses a file that is renamed over)
        self._settle.start()

    def check_journal(self) -> None:
        """Read the journal again (in the background) and drop from Undo what is undone already."""
        if self._checking:
            self._check_again = True
            return
        if not self.done:
            return
        self._checking = True
        offered = list(self.done)
        self._tasks.run(
            _undoable,
            self._journal,
            on_success=lambda left: self._checked(offered, left),
            on_failure=self._check_failed,
        )

    def _checked(self, offered: list[Entry], left: dict[str, int]) -> None:
        self._checking = False
        gone = [e for e in offered if not left.get(e.run, 0) and any(e is d for d in self.done)]
        if gone:
            self._lost(gone)
        if self._check_again:
            self._check_again = False
            self.check_journal()

    def _check_failed(self, error: BaseException) -> None:
        self._checking = False
        log_failure("reading the undo journal again", error)

    def _lost(self, gone: list[Entry]) -> None:
        """Writes undone by another process: no longer offered by Undo; Redo writes them again."""
        self.done = [e for e in self.done if not any(e is g for g in gone)]
        self.redoable.extend(gone)
        self._status.showMessage(f"Writing {gone[-1].label} was {UNDONE_ELSEWHERE}", 15000)
        self._update()
        self.undoneElsewhere.emit(gone)

    def add_menu(self, menus: QMenuBar) -> None:
        edit = menus.addMenu("&Edit")
        self.undo_action = add_action(self._window, "&Undo", self.undo, "Ctrl+Z", edit)
        self.redo_action = add_action(self._window, "&Redo", self.redo, ["Ctrl+Shift+Z", "Ctrl+Y"], edit)
        edit.addSeparator()
        add_action(self._window, "&History of writes...", self.show_history, "Ctrl+H", edit)
        self._update()

    def record(self, entry: Entry, redoing: bool = False) -> None:
        self.done.append(entry)
        if not redoing:
            self.redoable.clear()
        if str(self._journal.path) not in self._watcher.files():
            self._watch()  # the first write created the journal
        self._update()

    def _update(self) -> None:
        top, next_redo = (self.done[-1] if self.done else None), (self.redoable[-1] if self.redoable else None)
        self.undo_action.setEnabled(top is not None and not self.busy)
        self.undo_action.setText(f"&Undo writing {top.label}" if top else "&Undo")
        self.redo_action.setEnabled(next_redo is not None and next_redo.redo is not None and not self.busy)
        self.redo_action.setText(f"&Redo writing {next_redo.label}" if next_redo else "&Redo")
        self.changed.emit()

    def undo(self) -> None:
        """Undo the latest write, read from the journal as it is now (another process may have
        undone it already: then nothing is done twice, and that is said)."""
        if not self.done or self.busy:
            return
        entry = self.done.pop()
        self.undo_run(entry.run, entry.label, lambda ok: self.redoable.append(entry) if ok else None, entry)

    def redo(self) -> None:
        if not self.redoable or self.busy:
            return
        redo = self.redoable[-1].redo
        if redo is None:
            return
        self.redoable.pop()
        self._update()
        redo()  # writes again, and records it (redoing=True)

    def undo_run(
        self, run: str, label: str, then: Callable[[bool], None] = lambda ok: None, entry: Entry | None = None
    ) -> None:
        """Put back every photo the run wrote that can still be undone; ``then(all put back)``.
        ``entry``: the Undo step it is (said as undone elsewhere when nothing of it is left)."""
        self.busy = True
        self._update()
        self._status.showMessage(f"Undoing {label}...")

        def finished(outcomes: list[TagOutcome] | None) -> None:
            self.busy = False
            if outcomes is None:  # nothing left: another process undid it
                if entry is not None:
                    self._lost([entry])
                else:
                    self._status.showMessage(f"Nothing left to undo of {label}: it was {UNDONE_ELSEWHERE}", 15000)
                    self._update()
                if self.history is not None and self.history.isVisible():
                    self.history.refresh()
                return
            failed = [o for o in outcomes if o.status in FAILED]
            restored = [o for o in outcomes if o.status == RESTORED]
            then(not failed)
            self._update()
            self._status.showMessage(f"Undone: {label} ({len(restored)} photo(s) put back)", 15000)
            if failed:
                lines = "\n".join(f"{display_path(o.path)}: {o.summary}" for o in failed)
                show_error(self._window, "Not everything could be undone", lines)
            self.undone.emit(outcomes)
            if self.history is not None and self.history.isVisible():
                self.history.refresh()

        def failed(error: BaseException) -> None:
            self.busy = False
            self._update()
            show_error(self._window, "Undo failed", str(error))

        self._tasks.run(_undo_what_is_left, self._journal, run, on_success=finished, on_failure=failed)

    def show_history(self) -> None:
        if self.history is None:
            self.history = HistoryDialog(self, self._window)
        self.history.refresh()
        self.history.show()
        self.history.activateWindow()


SCOPES = [("folder", "The shown photo's folder"), ("window", "Written from this window"), ("all", "All")]


class HistoryDialog(QDialog):
    """The journal's runs, newest first, in a scope; the selected one can be undone."""

    def __init__(self, actions: UndoActions, parent: QWidget):
        super().__init__(parent)
        self.setWindowTitle("History of writes")
        self.resize(900, 420)
        self._actions = actions
        self.runs: list[RunSummary] = []
        self.scope = QComboBox(self)
        for key, label in SCOPES:
            self.scope.addItem(label, key)
        self.scope.setCurrentIndex(2)
        self.scope.currentIndexChanged.connect(self.refresh)
        self.table = QTableWidget(0, 5, self)
        self.table.setHorizontalHeaderLabels(["When", "What", "Photos", "Can be undone", "Folders"])
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()  # "What" takes the room left; the others fit their text
        for col in range(5):
            header.setSectionResizeMode(
                col, QHeaderView.ResizeMode.Stretch if col == 1 else QHeaderView.ResizeMode.ResizeToContents
            )
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.itemSelectionChanged.connect(self._selected)
        self.note = plain_label("", self)
        self.undo_button = QPushButton("Undo this run", self)
        self.undo_button.clicked.connect(self.undo_selected)
        close = QPushButton("Close", self)
        close.clicked.connect(self.close)
        top = QHBoxLayout()
        top.addWidget(plain_label("Show:", self))
        top.addWidget(self.scope, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.note, 1)
        buttons.addWidget(self.undo_button)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)

    def refresh(self) -> None:
        self._actions._tasks.run(lambda: list_runs(self._actions.journal), on_success=self._show)

    def _show(self, listed: tuple[list[RunSummary], list]) -> None:
        runs, notes = listed
        serious = [n for n in notes if getattr(n, "serious", True)]
        key = self.scope.currentData()
        if key == "window":
            ours = {e.run for e in self._actions.done + self._actions.redoable}
            runs = [r for r in runs if r.run.id in ours]
        elif key == "folder":
            folder = self._actions.folder()
            runs = [r for r in runs if folder is not None and folder in r.folders]
        self.runs = list(reversed(runs))  # newest first
        self.table.setRowCount(len(self.runs))
        for row, summary in enumerate(self.runs):
            cells = [
                summary.run.time.replace("T", " ")[:19],
                summary.run.command,
                str(summary.written),
                str(summary.undoable),
                "; ".join(display_path(f) for f in summary.folders),
            ]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft)
                self.table.setItem(row, col, item)
        if self.runs and not self.table.selectedItems():
            self.table.selectRow(0)  # the latest run, ready to undo
        damage = (
            f" The journal has {len(serious)} problem(s) that may keep photos from being undone: "
            "'geoguess undo --list' names them."
            if serious
            else ""
        )
        self.note.setText(f"{len(self.runs)} run(s).{damage}")
        self._selected()

    def _selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        self.undo_button.setEnabled(bool(rows) and self.runs[rows[0].row()].undoable > 0 and not self._actions.busy)

    def undo_selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return
        summary = self.runs[rows[0].row()]
        run = summary.run.id
        label = f"run {run} ({summary.run.command})"
        # an entry of this window's own stack goes with it: it can no longer be undone from there
        self._actions.done = [e for e in self._actions.done if e.run != run]
        self._actions.undo_run(run, label)


def folder_of(path: str | None) -> str | None:
    return os.path.dirname(os.path.abspath(path)) if path else None
