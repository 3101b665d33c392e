"""Before a folder is geotagged: what else places its photos besides their own pixels.

The window's side of the command line's fusion options (cli/options.py), for the same
``FusionSettings``: GPS tracks (GPX, KML, GeoJSON: a logger's or a phone's), a region, album mode,
time zones, neighbours and the set's own GPS photos on or off, the longest gap fused across, and
the camera's clock offset (the camera's clock was wrong by N minutes, as Photini and digiKam offer
for matching a track). "Plan" checks them at once (a track that cannot be read, a region that
cannot be parsed are said here, in the dialog, before any photo is predicted).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..core.errors import GeoGuessError
from ..core.fusion.settings import FusionSettings, PreparedFusion
from .qt_helpers import plain_label

TRACK_FILTER = "GPS tracks (*.gpx *.kml *.geojson *.json);;All files (*)"
MAX_CLOCK_OFFSET_MIN = 7 * 24 * 60


class FolderOptions(QDialog):
    """``settings()`` once accepted; ``prepared`` holds them checked (tracks read, region parsed)."""

    def __init__(self, folder: str, parent: QWidget | None = None, initial: FusionSettings = FusionSettings()):
        super().__init__(parent)
        self.setWindowTitle("Geotag a folder")
        self.folder = folder
        self.prepared: PreparedFusion | None = None
        intro = plain_label(
            f"Geotag the photos of {Path(folder).name}. Besides each photo's own pixels, GeoGuess uses what "
            "the set holds (the offset from UTC in each photo, the photos taken before and after it, the photos "
            "with their own GPS) and what you add here.",
            self,
        )
        intro.setWordWrap(True)
        self.tracks = QListWidget(self)
        self.tracks.setToolTip("Photos are placed on a track by the time they were taken")
        self.tracks.setMaximumHeight(90)
        self.tracks.addItems(list(initial.tracks))
        add, remove = QPushButton("Add &track...", self), QPushButton("Re&move", self)
        add.clicked.connect(self._add_track)
        remove.clicked.connect(self._remove_track)
        track_buttons = QVBoxLayout()
        for b in (add, remove):
            track_buttons.addWidget(b)
        track_buttons.addStretch(1)
        track_row = QHBoxLayout()
        track_row.addWidget(self.tracks, 1)
        track_row.addLayout(track_buttons)
        self.region = QLineEdit(initial.region or "", self)
        self.region.setPlaceholderText("for example: Italy   or   it,fr   or   45.4,11.9,30 (a circle in km)")
        self.album = QCheckBox("All taken in one place (an album; also the photos without a time)", self)
        self.album.setChecked(initial.album)
        self.timezones = QCheckBox("The offset from UTC in each photo", self)
        self.timezones.setChecked(initial.timezones)
        self.neighbours = QCheckBox("The photos taken before and after each photo", self)
        self.neighbours.setChecked(initial.neighbours)
        self.anchors = QCheckBox("The photos of the set that have their own GPS position", self)
        self.anchors.setChecked(initial.anchors)
        self.max_gap = QDoubleSpinBox(self)
        self.max_gap.setRange(0.1, 24 * 365)
        self.max_gap.setDecimals(1)
        self.max_gap.setSuffix(" h")
        self.max_gap.setValue(initial.max_gap_h)
        self.max_gap.setToolTip("Photos further apart in time are not fused with each other")
        self.clock = QSpinBox(self)
        self.clock.setRange(-MAX_CLOCK_OFFSET_MIN, MAX_CLOCK_OFFSET_MIN)
        self.clock.setSuffix(" min")
        self.clock.setValue(round(initial.clock_offset_min))
        self.clock.setToolTip(
            "The camera's clock was ahead by this many minutes (behind: negative). Its photos' times are "
            "corrected before they are matched to a track and to the other photos."
        )
        self.error = plain_label("", self)
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b00020")
        self.error.setVisible(False)
        form = QFormLayout()
        form.addRow("GPS tracks:", track_row)
        form.addRow("Region:", self.region)
        form.addRow("", self.album)
        form.addRow("Use:", self.timezones)
        form.addRow("", self.neighbours)
        form.addRow("", self.anchors)
        form.addRow("Longest gap fused across:", self.max_gap)
        form.addRow("Camera clock ahead by:", self.clock)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.plan_button = buttons.addButton("&Plan", QDialogButtonBox.ButtonRole.AcceptRole)
        self.plan_button.setDefault(True)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.resize(620, self.sizeHint().height())

    def settings(self) -> FusionSettings:
        return FusionSettings(
            tracks=tuple(self.tracks.item(i).text() for i in range(self.tracks.count())),
            region=self.region.text().strip() or None,
            album=self.album.isChecked(),
            timezones=self.timezones.isChecked(),
            neighbours=self.neighbours.isChecked(),
            anchors=self.anchors.isChecked(),
            max_gap_h=self.max_gap.value(),
            clock_offset_min=float(self.clock.value()),
        )

    def add_track(self, path: str) -> None:
        if path and not self.tracks.findItems(path, Qt.MatchFlag.MatchExactly):
            self.tracks.addItem(path)

    def _add_track(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Add GPS tracks", self.folder, TRACK_FILTER)
        for path in paths:
            self.add_track(path)

    def _remove_track(self) -> None:
        for item in self.tracks.selectedItems():
            self.tracks.takeItem(self.tracks.row(item))

    def accept(self) -> None:
        """Plan only with settings that hold: what is wrong is said here, and the dialog stays."""
        try:
            self.prepared = self.settings().prepare()
        except GeoGuessError as e:
            self.error.setText(str(e))
            self.error.setVisible(True)
            return
        super().accept()
