"""The five guesses as rows: rank, probability bar, place, position; copy to the clipboard; the
Write GPS button under them. Up/Down choose a guess; Tab goes on to the button (not cell by cell)."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, Qt, Signal
from PySide6.QtGui import QAction, QColor, QGuiApplication, QKeySequence, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QPushButton,
    QSplitter,
    QStyle,
    QStyledItemDelegate,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..core.geo.cells import format_km
from ..core.predict.results import Guess, PhotoResult
from .qt_helpers import plain_label

COLORS = ["#d7191c", "#f07c1b", "#1f78b4", "#33a02c", "#6a3d9a"]  # as on the map (map.js)
COLUMNS = ["#", "Probability", "Place", "Latitude, longitude", "Cell"]
WRITE_TIP = "Write the selected guess, or the position you set on the map, into the photo's EXIF GPS"
PROB_ROLE = Qt.ItemDataRole.UserRole + 1
COLOR_ROLE = Qt.ItemDataRole.UserRole + 2


def guess_text(g: Guess) -> str:
    return f"{g.lat:.6f}, {g.lon:.6f}  {g.place}  (guess #{g.rank}, {g.probability * 100:.1f}%)"


class _ProbabilityBar(QStyledItemDelegate):
    def paint(self, painter: QPainter, option, index: QModelIndex | QPersistentModelIndex) -> None:
        value = index.data(PROB_ROLE)
        if value is None:
            return super().paint(painter, option, index)
        painter.save()
        style = option.widget.style() if option.widget is not None else None
        if style is not None:  # the row's background, selected or not
            style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, option, painter, option.widget)
        rect = option.rect.adjusted(3, 4, -3, -4)
        # the figure beside its bar, never on it: dark digits on a red bar do not read
        text_width = option.fontMetrics.horizontalAdvance("100.0%") + 6
        track = rect.adjusted(0, 0, -text_width, 0)
        painter.fillRect(track, QColor("#e6e6e6"))
        bar = QRect(track.left(), track.top(), round(track.width() * max(0.0, min(1.0, value))), track.height())
        painter.fillRect(bar, QColor(index.data(COLOR_ROLE) or "#1f78b4"))
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        painter.setPen(option.palette.highlightedText().color() if selected else option.palette.text().color())
        figure = rect.adjusted(rect.width() - text_width, 0, 0, 0)
        painter.drawText(figure, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, f"{value * 100:.1f}%")
        painter.restore()


class ResultsPanel(QWidget):
    rankSelected = Signal(int)
    writeRequested = Signal(int)  # write the guess of this rank into the photo
    zoomRequested = Signal(int)  # show the guess of this rank up close on the map

    def __init__(self, parent=None):
        super().__init__(parent)
        self.message = plain_label("", self)  # why the photo cannot be read; hidden when empty
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #b00020; font-weight: bold")
        self.message.setVisible(False)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setObjectName("guesses")  # the window's focus ring (main_window.FOCUS_RING)
        self.table.setTabKeyNavigation(False)  # Tab leaves the table for the write button
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setItemDelegateForColumn(1, _ProbabilityBar(self.table))
        header = self.table.horizontalHeader()
        header.setStretchLastSection(False)
        header.resizeSection(0, 30)
        header.resizeSection(1, 110)
        header.resizeSection(2, 300)
        header.setSectionResizeMode(2, header.ResizeMode.Stretch)  # the place takes what is left
        header.setSectionResizeMode(3, header.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, header.ResizeMode.ResizeToContents)
        header.setMinimumSectionSize(28)
        # the five rows always show (rows of the style's own height): the photo above gives way first
        rows = 5 * self.table.verticalHeader().defaultSectionSize()
        self.table.setMinimumHeight(header.sizeHint().height() + rows + 2 * self.table.frameWidth() + 4)
        self.table.itemSelectionChanged.connect(self._on_selection)
        copy = QAction("Copy position and place", self.table)  # Ctrl+C is the window's (Go menu)
        copy.triggered.connect(self.copy_selected)
        self.table.addAction(copy)
        zoom = QAction("Zoom the map to this guess", self.table)
        zoom.triggered.connect(self._request_zoom)
        self.table.addAction(zoom)
        self.table.doubleClicked.connect(self._request_zoom)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.write_button = QPushButton("Write GPS to photo...", self)
        self.write_button.setToolTip(WRITE_TIP)
        self.write_button.setEnabled(False)
        self.write_action: QAction | None = None  # the menu's Write GPS (bind_action)
        self.write_button.clicked.connect(lambda: self.writeRequested.emit(self.selected_rank()))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.pin = plain_label("", self)  # where the pin was dragged, while it is not on a guess
        self.pin.setWordWrap(True)
        self.pin.setStyleSheet("color: #1565c0")
        self.pin.setVisible(False)
        layout.addWidget(self.message)
        layout.addWidget(self.table)
        layout.addWidget(self.pin)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.write_button)
        layout.addLayout(buttons)
        self._guesses: list[Guess] = []
        self._quiet = False
        self.fit()

    def bind_action(self, action: QAction) -> None:
        """The menu action that presses the button: its shortcut in the button's tooltip, and the
        button's text and state in the menu."""
        self.write_action = action
        keys = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts()[:1])
        self.write_button.setToolTip(f"{WRITE_TIP} ({keys})")
        action.triggered.connect(self.write_button.click)  # nothing when the button is disabled
        self._sync_action()

    def _sync_action(self) -> None:
        if self.write_action is not None:
            self.write_action.setText(self.write_button.text().replace("Write GPS", "&Write GPS"))
            self.write_action.setEnabled(self.write_button.isEnabled())

    def write_to(self, photos: int) -> None:
        """The write button names how many photos it writes: those selected in the filmstrip."""
        self.write_button.setText("Write GPS to photo..." if photos <= 1 else f"Write GPS to {photos} photos...")
        self._sync_action()

    def show_pin(self, text: str) -> None:
        self.pin.setText(text)
        self.pin.setVisible(bool(text))
        self.fit()

    def fit(self) -> None:
        """As tall as the five rows, the button and what is said need, never taller: the photo above
        gets the rest of the column (an empty table under the rows would take it from the photo)."""
        need = self.minimumSizeHint().height()
        for label in (self.message, self.pin):  # wrapped text: the lines it takes at this width
            if label.isVisibleTo(self) and label.width() > 0:
                need += max(0, label.heightForWidth(label.width()) - label.minimumSizeHint().height())
        self.setMinimumHeight(need)
        self.setMaximumHeight(need)
        column = self.parentWidget()
        if isinstance(column, QSplitter) and len(column.sizes()) == 2 and sum(column.sizes()) > need:
            # the room it gives up goes to the photo now (a splitter would leave it empty until resized)
            mine = column.indexOf(self)
            sizes = [sum(column.sizes()) - need] * 2
            sizes[mine] = need
            if sizes != column.sizes():
                column.setSizes(sizes)

    def resizeEvent(self, event):
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self.fit()  # wrapped text takes more or fewer lines

    def show_result(self, result: PhotoResult | None) -> None:
        self._quiet = True
        self.table.setRowCount(0)
        self._guesses = []
        if result is None:
            self.message.setText("")
        elif not result.ok:
            self.message.setText(f"{result.name} cannot be read: {result.error}")
        else:
            self.message.setText("")
            self._guesses = list(result.predictions)
            for g in self._guesses:
                self._add_row(g)
            if self._guesses:
                self.table.selectRow(0)
        self.message.setVisible(bool(self.message.text()))
        self.fit()
        self.write_button.setEnabled(bool(self._guesses))
        self._sync_action()
        self._quiet = False

    def _add_row(self, g: Guess) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        color = COLORS[(g.rank - 1) % len(COLORS)]
        rank = QTableWidgetItem(str(g.rank))
        rank.setForeground(QColor(color))
        rank.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
        prob = QTableWidgetItem()
        prob.setData(PROB_ROLE, g.probability)
        prob.setData(COLOR_ROLE, color)
        prob.setToolTip(f"{g.probability * 100:.2f}%")
        cell = QTableWidgetItem(format_km(g.cell_size_km))
        cell.setToolTip(f"S2 cell {g.token}, level {g.level}")
        place = QTableWidgetItem(g.place)
        if g.distance_km is not None:
            place.setToolTip(f"{g.distance_km:,.0f} km from the photo's own GPS position")
        for column, item in enumerate((rank, prob, place, QTableWidgetItem(f"{g.lat:.5f}, {g.lon:.5f}"), cell)):
            self.table.setItem(row, column, item)

    def select_rank(self, rank: int) -> None:
        if 1 <= rank <= self.table.rowCount():
            self._quiet = True
            self.table.selectRow(rank - 1)
            self._quiet = False

    def selected_rank(self) -> int:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].row() + 1 if rows else 0

    def rows(self) -> list[dict]:
        """What the panel shows, row by row (for the headless check and tests)."""
        out = []
        for r in range(self.table.rowCount()):
            out.append(
                {
                    "rank": int(self._item(r, 0).text()),
                    "probability": self._item(r, 1).data(PROB_ROLE),
                    "place": self._item(r, 2).text(),
                    "position": self._item(r, 3).text(),
                }
            )
        return out

    def _item(self, row: int, column: int) -> QTableWidgetItem:
        item = self.table.item(row, column)
        assert item is not None  # _add_row fills every cell of the row it adds
        return item

    def _request_zoom(self, *_index) -> None:
        if self.selected_rank():
            self.zoomRequested.emit(self.selected_rank())

    def copy_selected(self) -> None:
        rank = self.selected_rank()
        if rank:
            QGuiApplication.clipboard().setText(guess_text(self._guesses[rank - 1]))

    def _on_selection(self) -> None:
        if not self._quiet and self.selected_rank():
            self.rankSelected.emit(self.selected_rank())
