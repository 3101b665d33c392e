"""Dialogs: getting the model (download or import), and the text of the model information."""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFileDialog, QLabel, QProgressBar, QPushButton, QVBoxLayout

from ..core.engine import StoreReport, download_model, import_model, model_installed
from .qt_helpers import plain_label
from .tasks import TaskRunner, log_failure


class ModelDialog(QDialog):
    """Offered when no model is installed (and from the Model menu): download or import."""

    def __init__(self, tasks: TaskRunner, model_dir: Path, parent=None, reason: str = ""):
        super().__init__(parent)
        self.setWindowTitle("GeoGuess needs its model")
        self._tasks = tasks
        self._model_dir = model_dir
        self._cancel = threading.Event()
        self._busy = False
        installed = model_installed(model_dir)
        state = (
            "A model is installed; downloading or importing replaces it."
            if installed
            else "Its three files (about 300 MB) are not installed yet."
        )
        intro = QLabel(
            "GeoGuess guesses places with <b>LocationNet</b>, a ResNet-101 trained on geotagged "
            f"Flickr photos. {state}<br><br>"
            "Download them (checked against their published md5 sums), or import a folder that "
            "holds them.",
            self,
        )
        intro.setWordWrap(True)
        self.intro = intro
        # the folder is said once, below, whole (a path is never broken across lines)
        self.reason = plain_label(
            reason.replace(f" in {model_dir}", "").replace(str(model_dir), "the model folder"), self
        )
        self.reason.setWordWrap(True)
        self.reason.setVisible(bool(reason))
        self.target = plain_label(f"Model folder: {model_dir}", self)
        self.target.setStyleSheet("color: palette(mid)")
        self.target.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.target.setToolTip(str(model_dir))
        self.progress = QProgressBar(self)
        self.progress.setVisible(False)
        self.status = plain_label("", self)
        self.status.setWordWrap(True)
        self.download_button = QPushButton("&Download", self)
        self.import_button = QPushButton("&Import folder...", self)
        self.cancel_button = QPushButton("Cancel download", self)
        buttons = QDialogButtonBox(self)
        buttons.addButton(self.download_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.import_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.cancel_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.close_button = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.download_button.clicked.connect(self.start_download)
        self.import_button.clicked.connect(self.choose_import)
        self.cancel_button.clicked.connect(self._cancel.set)
        self.close_button.clicked.connect(self.reject)
        layout = QVBoxLayout(self)
        for w in (intro, self.reason, self.target, self.progress, self.status):
            layout.addWidget(w)
        layout.addWidget(buttons)
        self._set_busy(False)  # after the button box, which shows every button it is given
        self.resize(520, 260)

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.download_button.setEnabled(not busy)
        self.import_button.setEnabled(not busy)
        self.cancel_button.setVisible(busy)
        self.progress.setVisible(busy)

    def start_download(self) -> None:
        self._cancel.clear()
        self._set_busy(True)
        self.status.setStyleSheet("")
        self.status.setText("Connecting...")
        self.progress.setRange(0, 0)

        def progress(name: str, done: int, total: int | None) -> None:
            self._tasks.post(self._show_progress, name, done, total)

        self._tasks.run(
            download_model,
            self._model_dir,
            progress=progress,
            cancel=self._cancel,
            on_success=lambda _: self._finished(),
            on_failure=self._finished,
        )

    def _show_progress(self, name: str, done: int, total: int | None) -> None:
        if total:
            self.progress.setRange(0, 1000)
            self.progress.setValue(round(1000 * done / total))
        self.status.setText(f"{name}: {done / 1e6:,.1f} of {total / 1e6:,.1f} MB" if total else name)

    def choose_import(self, close_if_cancelled: bool = False) -> None:
        """Ask for the folder to import; from the Model menu, cancelling it closes the dialog too."""
        folder = QFileDialog.getExistingDirectory(self, "Folder with the LocationNet files")
        if folder:
            self.import_from(folder)
        elif close_if_cancelled:
            self.reject()

    def import_from(self, folder: str) -> None:
        self._set_busy(True)
        self.progress.setRange(0, 0)
        self.status.setStyleSheet("")
        self.status.setText(f"Importing and verifying {folder} ...")
        self._tasks.run(
            import_model, folder, self._model_dir, on_success=lambda _: self._finished(), on_failure=self._finished
        )

    def _finished(self, error: BaseException | None = None) -> None:
        """The model is in place (the dialog closes and the window loads it), or ``error`` says why not."""
        self._set_busy(False)
        if error is None:
            self.accept()
            return
        log_failure("model download or import failed", error)
        self.status.setStyleSheet("color: #b00020")
        # the window's own button, not the command line's command
        self.status.setText(str(error).replace("use 'geoguess model import FOLDER'", "use Import folder... below"))

    def reject(self) -> None:
        if self._busy:
            self._cancel.set()
        super().reject()


def describe_store(report: StoreReport) -> str:
    lines = [f"Model folder: {report.folder}", ""]
    for f in report.files:
        if not f.present:
            lines.append(f"{f.name}: missing")
        else:
            lines.append(f"{f.name}: {f.size:,} bytes, md5 {f.md5} ({f.verdict})")
    lines.append("")
    if report.untrained:
        lines.append("UNTRAINED stand-in model (random weights): its predictions mean nothing.")
    elif report.verified:
        lines.append("Verified: identical to the published LocationNet files.")
    elif report.complete:
        lines.append("Not the published LocationNet files: its answers are unverified.")
    else:
        lines.append("Not installed.")
    return "\n".join(lines)
