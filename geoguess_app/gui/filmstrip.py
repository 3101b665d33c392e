"""The strip of loaded photos under the window: one thumbnail per photo, in the order they came,
a grey square until its prediction brings a thumbnail, a warning sign when it cannot be read, and a
GPS badge on the thumbnail of a photo that has a position: green, its own; blue, one GeoGuess wrote."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QIcon, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QStyle, QStyledItemDelegate, QStyleOptionViewItem

THUMB = 96  # pixels, the longer side of a thumbnail
CELL = THUMB + 56  # the width of an item: its icon (the thumbnail centred) and its name under it
GPS_ROLE = Qt.ItemDataRole.UserRole + 1  # "own", "geoguess" or None: the GPS position the photo has
KIND_ROLE = Qt.ItemDataRole.UserRole + 3  # "video" or "raw": badged on the thumbnail (a photo: nothing)
KIND_BADGES = {"video": ("\u25b6 VIDEO", "#37474f"), "raw": ("RAW", "#6a1b9a")}
SIZE_ROLE = Qt.ItemDataRole.UserRole + 2  # (width, height) of its thumbnail
OWN_GPS_COLOUR = "#2e7d32"  # the badge of a photo with its own GPS position
GEOGUESS_GPS_COLOUR = "#1565c0"  # the badge of a photo GeoGuess wrote a position into
GPS_TIPS = {"own": "has its own GPS position", "geoguess": "GeoGuess wrote a position into it (Edit > Undo)"}


class Filmstrip(QListWidget):
    """Thumbnails in one row; each item holds its photo's path (UserRole)."""

    pathSelected = Signal(str)  # the current photo changed (click, arrow keys, select_path, step)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("filmstrip")  # the window's focus ring (main_window.FOCUS_RING)
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
        self.setItemDelegate(_BadgeDelegate(self))
        self._placeholder = _placeholder_icon()
        self.currentItemChanged.connect(self._on_current)

    def add_photos(self, paths: list[str], twins: dict[str, str] | None = None) -> None:
        """Append one item per path, with the placeholder icon; a photo with a RAW twin (``twins``:
        photo -> RAW file) is named with both."""
        for path in paths:
            twin = (twins or {}).get(path)
            name = Path(path).name + (f" + {Path(twin).suffix.lstrip('.').upper()}" if twin else "")
            item = QListWidgetItem(name)
            item.setData(Qt.ItemDataRole.UserRole, path)
            item.setToolTip(path + (f"\n{twin} (its RAW twin, written with it)" if twin else ""))
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
        """Make the photo the current one and the only one selected (a new selection: one selected
        before, perhaps scrolled out of view, is never written with it unseen)."""
        row = self.row_of(path)
        if row >= 0:
            self.setCurrentRow(row, QItemSelectionModel.SelectionFlag.ClearAndSelect)

    def step(self, delta: int) -> None:
        """Select the photo ``delta`` places on (negative: back), alone, as the arrow keys do in the
        strip; nothing past either end."""
        row = self.currentRow() + delta
        if 0 <= row < self.count():
            self.setCurrentRow(row, QItemSelectionModel.SelectionFlag.ClearAndSelect)

    def set_thumbnail(self, path: str, image: QImage) -> None:
        row = self.row_of(path)
        if row >= 0:
            thumb = image.scaled(
                THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
            )
            self.item(row).setIcon(_centred(thumb))
            self.item(row).setData(SIZE_ROLE, (thumb.width(), thumb.height()))

    def set_gps(self, path: str, kind: str | None) -> None:
        """The GPS badge of the photo: "own" (its own position), "geoguess" (one GeoGuess wrote) or
        None (no position); said in its tooltip too."""
        row = self.row_of(path)
        if row >= 0:
            item = self.item(row)
            item.setData(GPS_ROLE, kind)
            tip = item.toolTip().split("\n")[0]
            item.setToolTip(f"{tip}\n{GPS_TIPS[kind]}" if kind else tip)

    def set_kind(self, path: str, kind: str, source: str = "") -> None:
        """A video or a RAW file is badged so on its thumbnail (the window plays no video: its
        middle frame is shown), and its tooltip says which image it was predicted from."""
        row = self.row_of(path)
        if row >= 0 and kind in KIND_BADGES:
            item = self.item(row)
            item.setData(KIND_ROLE, kind)
            if source:
                item.setToolTip(f"{item.toolTip()}\npredicted from {source}")

    def mark_unreadable(self, path: str, error: str) -> None:
        row = self.row_of(path)
        if row >= 0:
            self.item(row).setIcon(self.style().standardIcon(self.style().StandardPixmap.SP_MessageBoxWarning))
            self.item(row).setToolTip(f"{path}\n{error}")

    def _on_current(self, item, _previous) -> None:
        if item is not None:
            self.pathSelected.emit(item.data(Qt.ItemDataRole.UserRole))


def badge_rect(strip: Filmstrip, row: int) -> QRect:
    """Where the GPS badge of the row's photo is drawn, in the strip's viewport: the top right corner
    of its thumbnail."""
    option = QStyleOptionViewItem()
    strip.initViewItemOption(option)  # as the view paints its items: icon size, above the name
    option.rect = strip.visualItemRect(strip.item(row))
    return _badge_rect(strip, option, strip.model().index(row, 0))


def _badge_rect(strip, option: QStyleOptionViewItem, index) -> QRect:
    delegate = strip.itemDelegate()
    option = QStyleOptionViewItem(option)
    delegate.initStyleOption(option, index)
    icon = strip.style().subElementRect(QStyle.SubElement.SE_ItemViewItemDecoration, option, strip)
    width, height = index.data(SIZE_ROLE) or (THUMB, THUMB)
    thumb = QRect(icon.center().x() - width // 2, icon.center().y() - height // 2, width, height)
    return QRect(thumb.right() - 30, thumb.top() + 3, 28, 15)


class _BadgeDelegate(QStyledItemDelegate):
    """Draws the item as usual, then the GPS badge over the thumbnail's corner."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index) -> None:
        super().paint(painter, option, index)
        what = index.data(KIND_ROLE)
        if what in KIND_BADGES:
            self._badge(painter, option, _kind_rect(self.parent(), option, index), *KIND_BADGES[what])
        kind = index.data(GPS_ROLE)
        if not kind:
            return
        rect = _badge_rect(self.parent(), option, index)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QColor("white"))
        painter.setBrush(QColor(OWN_GPS_COLOUR if kind == "own" else GEOGUESS_GPS_COLOUR))
        painter.drawRoundedRect(rect, 4, 4)
        font = QFont(option.font)
        font.setBold(True)
        font.setPixelSize(9)
        painter.setFont(font)
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, "GPS")
        painter.restore()

    @staticmethod
    def _badge(painter: QPainter, option: QStyleOptionViewItem, rect: QRect, text: str, colour: str) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QColor("white"))
        painter.setBrush(QColor(colour))
        painter.drawRoundedRect(rect, 4, 4)
        font = QFont(option.font)
        font.setBold(True)
        font.setPixelSize(9)
        painter.setFont(font)
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()


def _kind_rect(strip, option: QStyleOptionViewItem, index) -> QRect:
    """The kind badge: the bottom left corner of the thumbnail."""
    gps = _badge_rect(strip, option, index)
    width, height = index.data(SIZE_ROLE) or (THUMB, THUMB)
    left = gps.right() + 2 - width
    return QRect(left + 3, gps.top() - 3 + height - 18, 46, 15)


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


def gps_kind(result) -> str | None:
    """The GPS badge of a PhotoResult as it was read: "own", "geoguess" (GeoGuess wrote it) or None."""
    gps = result.exif_gps if result.ok else None
    if gps is None:
        return None
    return "geoguess" if gps.predicted else "own"
