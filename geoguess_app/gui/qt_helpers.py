"""Small Qt helpers every part of the window uses: labels that show text as text, arrays as
images, an error box, menu and toolbar actions."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QImage, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QMenu, QMessageBox


def qimage_from_array(array: np.ndarray) -> QImage:
    """An RGB uint8 H x W x 3 array as a QImage (copied, so the array can go)."""
    array = np.ascontiguousarray(array)
    h, w = array.shape[:2]
    return QImage(array.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def plain_label(text: str = "", parent=None) -> QLabel:
    """A label that never interprets its text as HTML (file names and EXIF are data)."""
    label = QLabel(parent)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setText(text)
    return label


def show_error(parent, title: str, text: str, details: str = "") -> None:
    """An error box over ``parent`` that does not block (plain text: messages quote file names)."""
    box = QMessageBox(QMessageBox.Icon.Critical, title, text, QMessageBox.StandardButton.Ok, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    if details:
        box.setDetailedText(details)
    box.open()


def add_action(parent: QObject, text: str, slot: Callable, shortcut=None, menu=None, toolbar=None) -> QAction:
    """An action calling ``slot``, with shortcut(s) (one key sequence or a list), put in a menu and
    a toolbar when given."""
    action = QAction(text, parent)
    if shortcut is not None:
        action.setShortcuts(shortcut if isinstance(shortcut, list) else [QKeySequence(shortcut)])
    action.triggered.connect(slot)
    if menu is not None:
        menu.addAction(action)
    if toolbar is not None:
        toolbar.addAction(action)
    return action


def shortcuts(window: QMainWindow) -> list[tuple[str, str, str]]:
    """(menu, action, keys) of every menu action that has a shortcut, read from the menus themselves."""
    found = []

    def walk(menu: QMenu, path: str) -> None:
        for action in menu.actions():
            sub = action.menu()  # typed QObject in the stubs: a QMenu for a menu's submenus
            if isinstance(sub, QMenu):
                walk(sub, f"{path} > {sub.title().replace('&', '')}")
            elif action.shortcuts():
                keys = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts())
                found.append((path, action.text().replace("&", ""), keys))

    for top in window.menuBar().actions():
        menu = top.menu()
        if isinstance(menu, QMenu):
            walk(menu, menu.title().replace("&", ""))
    return found


def show_shortcuts(window: QMainWindow) -> QMessageBox:
    """Help > Keyboard shortcuts: every shortcut of the menus, and the keys of the lists."""
    lines = [f"{keys:<18} {name}   ({menu})" for menu, name, keys in shortcuts(window)]
    lines += [
        "",
        "In the guesses: Up/Down choose a guess, double-click zooms the map to it.",
        "In a folder's geotagging: Space ticks a photo, A accepts and R rejects it (and moves down).",
    ]
    box = QMessageBox(QMessageBox.Icon.NoIcon, "Keyboard shortcuts", "\n".join(lines), parent=window)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setStyleSheet("QLabel { font-family: monospace; }")
    box.open()
    return box
