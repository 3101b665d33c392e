"""The photo as shown: upright, scaled to fit, with name, pixel size, camera and capture time."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QLabel, QSizePolicy, QSplitter, QVBoxLayout, QWidget

from ..core.predict.results import PhotoResult
from .qt_helpers import plain_label


class ScaledImage(QLabel):
    """A picture that keeps its aspect ratio and fits the space it is given."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._pixmap: QPixmap | None = None
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(120, 64)  # the photo gives way first in a small window (1024x640)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)

    def set_image(self, image: QImage | None, placeholder: str = "") -> None:
        self._pixmap = QPixmap.fromImage(image) if image is not None else None
        if self._pixmap is None:
            self.clear()
            self.setTextFormat(Qt.TextFormat.PlainText)
            self.setText(placeholder)
        self._rescale()

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self._rescale()

    def _rescale(self) -> None:
        if self._pixmap is not None and not self._pixmap.isNull():
            self.setPixmap(
                self._pixmap.scaled(
                    self.size(), Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
                )
            )


class PhotoPanel(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.image = ScaledImage(self)
        self.title = plain_label()
        self.title.setStyleSheet("font-weight: bold")
        self.details = plain_label()
        self.details.setStyleSheet("color: #444")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.image, 1)
        layout.addWidget(self.title)
        layout.addWidget(self.details)
        self.show_empty()

    def show_empty(self) -> None:
        self.image.set_image(None, "Drop photos or folders here, or press Ctrl+O")
        self.title.setText("")
        self.details.setText("")

    def show_photo(self, result: PhotoResult, image: QImage | None) -> None:
        self.title.setText(result.name)
        self.title.setToolTip(result.path)
        parts = result.about(size_unit=" pixels")
        if result.meta and result.meta.taken:
            parts.append(_readable_time(result.meta.taken))
        self.details.setText("  ·  ".join(parts))
        self.image.set_image(image, "This photo cannot be shown" if not result.ok else "")


def photo_over_guesses(parent: QWidget, photo: QWidget, guesses: QWidget) -> QSplitter:
    """The window's left column: the photo above its guesses; a smaller window shrinks the photo,
    never the guesses, whose five rows, write button and columns stay readable."""
    column = QSplitter(Qt.Orientation.Vertical, parent)
    column.addWidget(photo)
    column.addWidget(guesses)
    column.setSizes([1000, 1])  # the guesses get what they need (their minimum, see ResultsPanel._fit)
    column.setStretchFactor(0, 1)
    column.setStretchFactor(1, 0)
    column.setChildrenCollapsible(False)
    column.setMinimumWidth(460)
    return column


def _readable_time(exif_time: str) -> str:
    """'2019:07:14 18:03:22' -> '2019-07-14 18:03:22' (as written in the photo)."""
    date, _, time = exif_time.partition(" ")
    return f"{date.replace(':', '-')} {time}".strip()
