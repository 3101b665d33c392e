"""The window's status bar: which model is loaded on which device, its UNTRAINED or UNVERIFIED
badge, a busy bar while it loads, and the prediction queue's progress with Cancel."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton, QStatusBar

from ..core.engine import RUNTIME_NAMES, ModelInfo
from .qt_helpers import plain_label


class StatusBar(QStatusBar):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.model_label = plain_label("Model: loading...", self)
        self.device_label = plain_label("", self)
        self.badge = QLabel("UNTRAINED", self)  # or UNVERIFIED: see show_badge
        self.badge.setVisible(False)
        self.busy = QProgressBar(self)  # the model is loading
        self.busy.setRange(0, 0)
        self.busy.setMaximumWidth(120)
        self.busy.setTextVisible(False)
        self.progress = QProgressBar(self)  # photos predicted of those queued
        self.progress.setMaximumWidth(200)
        self.progress.setFormat("%v of %m photos")
        self.progress.setVisible(False)
        self.cancel_button = QPushButton("Cancel", self)  # the window connects it to the queue
        self.cancel_button.setVisible(False)
        self.addWidget(self.model_label)
        self.addWidget(self.badge)
        self.addWidget(self.device_label)
        self.addWidget(self.busy)
        self.addPermanentWidget(self.progress)
        self.addPermanentWidget(self.cancel_button)

    def show_loading(self) -> None:
        self.busy.setVisible(True)
        self.model_label.setText("Model: loading...")

    def show_model(self, info: ModelInfo) -> None:
        self.busy.setVisible(False)
        self.model_label.setText(f"Model: {info.short_name}")
        self.model_label.setToolTip(f"{info.name}\n{info.folder}")
        runtime = RUNTIME_NAMES.get(info.runtime, info.runtime)
        fast = f", fast precision ({info.arithmetic})" if info.precision != "exact" else ""
        self.device_label.setText(f"Device: {info.device} ({runtime}{fast})")
        self.device_label.setToolTip(f"The network runs on {runtime}, on {info.device}{fast}")

    def show_not_loaded(self, message: str) -> None:
        self.busy.setVisible(False)
        self.model_label.setText("Model: not loaded")
        self.model_label.setToolTip(message)
        self.showMessage(message, 15000)

    def show_badge(self, text: str | None, colour: str = "") -> None:
        """A white-on-colour word beside the model's name (None hides it)."""
        if text is not None:
            self.badge.setText(text)
            self.badge.setStyleSheet(f"color: white; background: {colour}; font-weight: bold; padding: 0 6px")
        self.badge.setVisible(text is not None)

    def show_progress(self, done: int, total: int) -> None:
        """``done`` of ``total`` photos, with Cancel; hidden when ``total`` is 0."""
        active = total > 0
        self.progress.setVisible(active)
        self.cancel_button.setVisible(active)
        if active:
            self.progress.setRange(0, total)
            self.progress.setValue(done)
