"""The main window's menus, toolbar and keyboard order: File, Edit (undo), Go, View, Device,
Model and Help, each action with its shortcut, and Tab through the search, the filmstrip, the
guesses and Write GPS."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMessageBox, QSizePolicy, QWidget

from .place_search import PlaceSearch
from .qt_helpers import add_action, show_shortcuts
from .undo_actions import folder_of
from .write_choices import add_write_menu

if TYPE_CHECKING:
    from .main_window import MainWindow


def build_menus(window: MainWindow) -> None:
    menus = window.menuBar()
    tools = window.addToolBar("Main")
    tools.setObjectName("main-toolbar")
    file_menu = menus.addMenu("&File")
    add_action(window, "&Open photos...", window.open_photos, QKeySequence.StandardKey.Open, file_menu, tools)
    add_action(window, "Open &folder...", window.open_folder, "Ctrl+Shift+O", file_menu, tools)
    add_action(window, "&Geotag a folder...", lambda: window.geotag_folder(), "Ctrl+G", file_menu, tools)
    write = [QKeySequence("Ctrl+Return"), QKeySequence("Ctrl+Enter")]
    window.guesses.bind_action(add_action(window, "&Write GPS to photo...", lambda: None, write, file_menu))
    add_write_menu(window, file_menu)
    file_menu.addSeparator()
    add_action(window, "&Quit", window.close, QKeySequence.StandardKey.Quit, file_menu)
    window.geotag.undo.add_menu(menus)  # Edit: Undo, Redo, History
    window.geotag.undo.folder = lambda: folder_of(window.current)
    go = menus.addMenu("&Go")
    add_action(
        window, "&Previous photo", lambda: window.filmstrip.step(-1), [QKeySequence("Left"), QKeySequence("PgUp")], go
    )
    add_action(
        window, "&Next photo", lambda: window.filmstrip.step(1), [QKeySequence("Right"), QKeySequence("PgDown")], go
    )
    add_action(window, "&Copy selected place", window.guesses.copy_selected, QKeySequence.StandardKey.Copy, go)
    window.stop_action = add_action(window, "&Stop predicting", window.queue.cancel, "Esc", go, tools)
    window.stop_action.setEnabled(False)  # only while photos are being predicted
    view = menus.addMenu("&View")
    window.heat_action = add_action(window, "Whole &distribution on the map", window._show_heat, "Ctrl+D", view)
    window.heat_action.setCheckable(True)
    window.heat_action.setToolTip("Colour every likely cell by the model's probability, not only the five best")
    window.model.add_menus(menus)  # Device and Model
    window.search = PlaceSearch(window.tasks, window)
    window.search.placeChosen.connect(window.go_to_place)
    window.search.notFound.connect(lambda text: window.status.showMessage(f"No place or coordinates: {text}", 10000))
    spacer = QWidget(window)
    spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
    tools.addWidget(spacer)
    tools.addWidget(window.search)
    # Tab: the search, the filmstrip, the guesses, Write GPS (the map is reached by a click)
    for before, after in (
        (window.search, window.filmstrip),
        (window.filmstrip, window.guesses.table),
        (window.guesses.table, window.guesses.write_button),
    ):
        QWidget.setTabOrder(before, after)
    add_action(window, "&Find a place or coordinates", window._focus_search, QKeySequence.StandardKey.Find, go)
    help_menu = menus.addMenu("&Help")
    add_action(window, "&Keyboard shortcuts", lambda: show_shortcuts(window), "F1", help_menu)
    add_action(window, "&About GeoGuess", lambda: show_about(window), None, help_menu)


def show_about(window) -> None:
    QMessageBox.about(
        window,
        "About GeoGuess",
        "GeoGuess guesses where a photo was taken with LocationNet, an open re-implementation "
        "of Google's PlaNet (Weyand et al., 2016). Its answers are predictions, not "
        "measurements. Map data: Natural Earth, OpenStreetMap contributors.",
    )
