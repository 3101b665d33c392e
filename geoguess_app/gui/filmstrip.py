"""The strip of loaded photos under the window: one thumbnail per photo, in the order they came,
a grey square until its prediction brings a thumbnail, a warning sign when it cannot be read."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QListWidget, QListWidgetItem

THUMB = 96  # pixels, the longer side of a thumbnail
CELL = THUMB + 56  # the width of an item: its icon (the thumbnail centred) and its name under it


class Filmstrip(QListWidget):
    """Thumbnails in one row; each item holds its photo's path (UserRole)."""

    pathSelected = Signal(str)  # the current photo changed (click, arrow keys, select_path, step)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setViewMode(QListWidget.ViewMode.IconMode)
        self.setFlow(QListWidget.Flow.LeftToRight)
        self.setWrapping(False)
        self.setIconSize(QSize(CELL, THUMB))  # the name gets the item's width, not the thumbnail's
        # one row: room for the horizontal scroll bar of a long strip, and never a vertical one
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFixedHeight(THUMB + 46 + self.horizontalScrollBar().sizeHint().height())
        self.setUniformItemSizes(True)
        self.setMovement(QListWidget.Movement.Static)
        # several photos at once: Shift/Ctrl-click, Ctrl+A; Write GPS then writes them all
        self.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        self.setGridSize(QSize(CELL + 8, THUMB + 40))  # names of about 22 characters, their ends kept
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self._placeholder = _placeholder_icon()
        self.currentItemChanged.connect(self._on_current)

    def add_photos(self, paths: list[str]) -> None:
        """Append one item per path, with the placeholder icon."""
        for path in paths:
            item = QListWidgetItem(Path(path).name)
            item.setData(Qt.ItemDataRole.UserRole, path)
            item.setToolTip(path)
            item.setIcon(self._placeholder)
            self.addItem(item)

    def selected_paths(self) -> list[str]:
        """The selected photos, in the strip's order."""
        rows = sorted(self.row(item) for item in self.selectedItems())
        return [self.item(r).data(Qt.ItemDataRole.UserRole) for r in rows]

    def paintEvent(self, event):
        super().paintEvent(event)
        if self.count() == 0:  # an empty strip says what it is for
            painter = QPainter(self.viewport())
            painter.setPen(self.palette().placeholderText().color())
            painter.drawText(
                self.viewport().rect(),
                Qt.AlignmentFlag.AlignCenter,
                "Drop photos or folders on the window, or File > Open photos (Ctrl+O)",
            )
            painter.end()

    def row_of(self, path: str) -> int:
        """The row of the photo, -1 when it is not in the strip."""
        for row in range(self.count()):
            if self.item(row).data(Qt.ItemDataRole.UserRole) == path:
                return row
        return -1

    def contains(self, path: str) -> bool:
        return self.row_of(path) >= 0

    def select_path(self, path: str) -> None:
        row = self.row_of(path)
        if row >= 0:
            self.setCurrentRow(row)

    def step(self, delta: int) -> None:
        """Select the photo ``delta`` places on (negative: back); nothing past either end."""
        row = self.currentRow() + delta
        if 0 <= row < self.count():
            self.setCurrentRow(row)

    def set_thumbnail(self, path: str, image: QImage) -> None:
        row = self.row_of(path)
        if row >= 0:
            thumb = image.scaled(
                THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
            )
            self.item(row).setIcon(_centred(thumb))

    def mark_unreadable(self, path: str, error: str) -> None:
        row = self.row_of(path)
        if row >= 0:
            self.item(row).setIcon(self.style().standardIcon(self.style().StandardPixmap.SP_MessageBoxWarning))
            self.item(row).setToolTip(f"{path}\n{error}")

    def _on_current(self, item, _previous) -> None:
        if item is not None:
            self.pathSelected.emit(item.data(Qt.ItemDataRole.UserRole))


def _centred(image: QImage) -> QIcon:
    """Every icon the same size, the picture centred in it: the names line up under them."""
    canvas = QPixmap(CELL, THUMB)
    canvas.fill(Qt.GlobalColor.transparent)
    painter = QPainter(canvas)
    painter.drawImage((CELL - image.width()) // 2, (THUMB - image.height()) // 2, image)
    painter.end()
    return QIcon(canvas)


def _placeholder_icon() -> QIcon:
    square = QImage(THUMB, THUMB, QImage.Format.Format_RGB32)
    square.fill(Qt.GlobalColor.lightGray)
    return _centred(square)
