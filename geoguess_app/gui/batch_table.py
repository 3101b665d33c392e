"""The table of the batch dialog: one row per photo, sortable by any column, filtered by kind, with
the keyboard review (Space toggles, A accepts, R rejects). Only photos ready to write can be ticked.

The rows are as tall as the thumbnails, so the text of a cell wraps onto its lines instead of
widening the column: every column fits beside the map at the dialog's width (``needed_width``),
each wide enough for its header and sort arrow and for the longest word it shows."""

from __future__ import annotations

import datetime
from pathlib import Path

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QTableWidget, QTableWidgetItem

from ..core.fusion.evidence import MEASURED
from ..core.geo.cells import format_km
from ..core.geotag.outcome import REFUSED, WOULD_WRITE, TagOutcome
from .qt_helpers import qimage_from_array

# What happens to the photo comes first; the evidence, the longest text, last (it stretches).
COLUMNS = [
    "Write",
    "Photo",
    "Status",
    "Taken",
    "Place",
    "Probability",
    "Source",
    "Within",
    "Own GPS",
    "Evidence",
]
WRITE, PHOTO, STATUS, TAKEN, PLACE, PROBABILITY, SOURCE, WITHIN, EXISTING, EVIDENCE = range(len(COLUMNS))
SORT_ROLE = Qt.ItemDataRole.UserRole + 10
ARROW = 32  # pixels beside a header's name for the sort arrow ("Probability" read "robability")
ROW_HEIGHT = 70  # the thumbnail's height: room for four lines of text
THUMBNAIL = 64
# per column, the longest unbreakable text it must show whole (a word of the place or of the evidence
# may be cut; the tooltip says it all), measured in the table's font
WIDEST = {
    WRITE: "",
    PHOTO: "DSCN0010.jpg",
    STATUS: "ready to write",
    TAKEN: "2008-10-22",
    PLACE: "Switzerland,",
    PROBABILITY: "100.0%",
    SOURCE: "between GPS",
    WITHIN: "20,038 km",
    EXISTING: "-122.390975",
    EVIDENCE: "anchor DSCN0010.jpg",
}
SOURCE_TEXT = {
    "fused": "fused",
    "model": "this photo alone",
    "track": "GPS track",
    "interpolated": "between GPS photos",
    "near_gps": "GPS photo close in time",
    "gps": "own GPS",
}
FILTERS = {
    "All photos": lambda o: True,
    "Ready to write": lambda o: o.status == WOULD_WRITE,
    "Fused from several photos": lambda o: o.source == "fused" and o.guess is not None,
    "Placed by GPS data": lambda o: o.source in MEASURED and o.guess is not None,
    "This photo alone": lambda o: o.source == "model" and o.guess is not None,
    "Refused or failed": lambda o: o.failed,
}


class _SortItem(QTableWidgetItem):
    def __lt__(self, other):  # numeric where a sort value is set
        a, b = self.data(SORT_ROLE), other.data(SORT_ROLE)
        if a is not None and b is not None:
            return a < b
        return self.text() < other.text()


def _item(text: str, sort=None, tooltip: str = "") -> _SortItem:
    item = _SortItem(text)
    if sort is not None:
        item.setData(SORT_ROLE, sort)
    if tooltip:
        item.setToolTip(tooltip)
    return item


def status_text(outcome: TagOutcome) -> str:
    if outcome.status == WOULD_WRITE:
        return "ready to write"
    if outcome.source == "gps" or (outcome.status == REFUSED and outcome.existing_gps):
        return "has its own GPS: kept"
    return f"{outcome.status}: {outcome.message}"


def _probability(outcome: TagOutcome) -> float:
    if outcome.guess is None:
        return -1.0
    return 2.0 if outcome.source in MEASURED else outcome.guess.probability  # GPS data sorts above any prediction


class BatchTable(QTableWidget):
    acceptChanged = Signal(str, bool)  # a photo's tick changed (path, ticked)

    def __init__(self, outcomes: dict[str, TagOutcome], parent=None):
        super().__init__(0, len(COLUMNS), parent)
        self.outcomes = outcomes
        self.filter_name = "All photos"
        self.setHorizontalHeaderLabels(COLUMNS)
        self.verticalHeader().setVisible(False)
        self.setIconSize(QPixmap(THUMBNAIL, THUMBNAIL).size())
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setWordWrap(True)
        header = self.horizontalHeader()
        header.setStretchLastSection(True)
        existing = self.horizontalHeaderItem(EXISTING)
        assert existing is not None  # setHorizontalHeaderLabels made every header item
        existing.setToolTip("The GPS position the photo already has (it is kept)")
        for column in range(len(COLUMNS)):
            header.resizeSection(column, self.column_width(column))
        self.installEventFilter(self)
        self.itemChanged.connect(self._on_item_changed)

    def add_row(
        self, outcome: TagOutcome, when: datetime.datetime | None, radius_km: float | None, ticked: bool
    ) -> None:
        self.setSortingEnabled(False)
        row = self.rowCount()
        self.insertRow(row)
        check = _SortItem()
        check.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
        check.setCheckState(Qt.CheckState.Checked if ticked else Qt.CheckState.Unchecked)
        check.setData(Qt.ItemDataRole.UserRole, outcome.path)
        name = _item(Path(outcome.path).name, tooltip=outcome.path)
        if outcome.preview is not None:
            name.setIcon(QIcon(QPixmap.fromImage(qimage_from_array(outcome.preview))))
        g = outcome.guess
        measured = outcome.source in MEASURED
        evidence = "; ".join(outcome.evidence)
        radius = radius_km if g is not None else None
        items = [
            check,
            name,
            _item(status_text(outcome), tooltip=outcome.summary),
            _item(when.strftime("%Y-%m-%d %H:%M:%S") if when else "", when.timestamp() if when else -1.0),
            _item(g.place if g else "", tooltip=g.place if g else ""),
            _item("GPS" if g and measured else f"{g.probability * 100:.1f}%" if g else "", _probability(outcome)),
            _item(
                SOURCE_TEXT.get(outcome.source, outcome.source) if g or outcome.source == "gps" else "",
                tooltip=SOURCE_TEXT.get(outcome.source, ""),
            ),
            _item(format_km(radius) if radius is not None else "", radius if radius is not None else -1.0),
            _item(outcome.existing_gps or ""),
            _item(evidence, tooltip=evidence),
        ]
        for column, item in enumerate(items):
            self.setItem(row, column, item)
        self.setRowHeight(row, ROW_HEIGHT)
        self.setSortingEnabled(True)
        self.setRowHidden(row, not FILTERS[self.filter_name](outcome))

    def column_width(self, column: int) -> int:
        """Room for the header's name and its sort arrow, and for the column's longest word."""
        name = self.horizontalHeader().fontMetrics().horizontalAdvance(COLUMNS[column]) + ARROW
        text = self.fontMetrics().horizontalAdvance(WIDEST[column]) + 12
        if column == PHOTO:
            text += THUMBNAIL + 8
        return max(name, text)

    def needed_width(self) -> int:
        """The width that shows every column whole, the last at its own width, and a scroll bar."""
        columns = sum(self.column_width(c) for c in range(len(COLUMNS)))
        return columns + 2 * self.frameWidth() + self.verticalScrollBar().sizeHint().width()

    def _cell(self, row: int, column: int) -> QTableWidgetItem:
        item = self.item(row, column)
        assert item is not None  # add_row fills every cell of the row it adds
        return item

    def row_path(self, row: int) -> str:
        return self._cell(row, WRITE).data(Qt.ItemDataRole.UserRole)

    def row_of(self, path: str) -> int:
        return next(row for row in range(self.rowCount()) if self.row_path(row) == path)

    def apply_filter(self, name: str) -> None:
        self.filter_name = name
        keep = FILTERS[name]
        for row in range(self.rowCount()):
            self.setRowHidden(row, not keep(self.outcomes[self.row_path(row)]))

    def set_accepted(self, row: int, accepted: bool) -> None:
        if accepted and self.outcomes[self.row_path(row)].status != WOULD_WRITE:
            return  # refused or unreadable photos cannot be accepted
        self._cell(row, WRITE).setCheckState(Qt.CheckState.Checked if accepted else Qt.CheckState.Unchecked)

    def show_status(self, path: str, message: str, untick: bool) -> None:
        row = self.row_of(path)
        status = self._cell(row, STATUS)
        status.setText(message)
        status.setToolTip(message)
        if untick:
            self.set_accepted(row, False)

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if item.column() != WRITE:
            return
        path = item.data(Qt.ItemDataRole.UserRole)
        wanted = item.checkState() == Qt.CheckState.Checked
        if wanted and self.outcomes[path].status != WOULD_WRITE:
            item.setCheckState(Qt.CheckState.Unchecked)
            return
        self.acceptChanged.emit(path, wanted)

    def eventFilter(self, obj, event):  # keyboard review
        if obj is self and event.type() == QEvent.Type.KeyPress:
            row = self.currentRow()
            key = event.key()
            if row >= 0 and key in (Qt.Key.Key_Space, Qt.Key.Key_A, Qt.Key.Key_R):
                current = self.item(row, WRITE).checkState() == Qt.CheckState.Checked
                self.set_accepted(row, {Qt.Key.Key_Space: not current, Qt.Key.Key_A: True, Qt.Key.Key_R: False}[key])
                if key != Qt.Key.Key_Space and row + 1 < self.rowCount():
                    self.setCurrentCell(row + 1, WRITE)
                return True
        return super().eventFilter(obj, event)
