"""The window by keyboard and at 1024x640, driven as a person would: Write GPS has a shortcut (in its
tooltip and its menu), Tab leaves the guesses for the button, focus shows, Help lists every shortcut,
Stop is offered only while predicting, and a small window keeps every part usable."""

from __future__ import annotations

from helpers import copy_photo
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from window_helpers import WAIT, markers, shown

from geoguess_app.gui.qt_helpers import shortcuts


def write_shortcut(window) -> str:
    found = {name: keys for _menu, name, keys in shortcuts(window)}
    name = next(n for n in found if n.startswith("Write GPS"))
    return found[name].split(", ")[0]


def test_write_gps_has_a_shortcut_shown_in_its_tooltip_and_menu(qtbot, window, photo_to_write):
    from geoguess_app.core.geotag.metadata import read_metadata

    photo, result = photo_to_write
    keys = write_shortcut(window)  # in a menu, so Help > Keyboard shortcuts lists it
    assert keys and keys in window.guesses.write_button.toolTip()
    window.filmstrip.setFocus()  # wherever the focus is
    with qtbot.waitSignal(window.photoWritten, timeout=WAIT) as written:
        QTest.keySequence(window, QKeySequence(keys))
    assert written.args[1].startswith("written")
    assert read_metadata(photo)["XMP-geoguess:Rank"] == 1  # the guess selected


def test_tab_leaves_the_guesses_for_the_write_button_and_space_writes(qtbot, window, photo_to_write):
    table, button = window.guesses.table, window.guesses.write_button
    table.setFocus()
    QTest.keyClick(table, Qt.Key.Key_Down)  # guess #2
    assert window.guesses.selected_rank() == 2
    QTest.keyClick(table, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is button  # not the next cell of the table
    with qtbot.waitSignal(window.photoWritten, timeout=WAIT) as written:
        QTest.keyClick(button, Qt.Key.Key_Space)
    assert written.args[1].startswith("written") and "guess #2" in written.args[1]
    QTest.keyClick(button, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is not button and QApplication.focusWidget() is not table
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Backtab)
    assert QApplication.focusWidget() is button


def _image(widget) -> QImage:
    return widget.grab().toImage()


def _ring_changed(before: QImage, after: QImage, depth: int = 3) -> float:
    """The share of the pixels within ``depth`` of the edges that changed."""
    w, h = after.width(), after.height()
    edge = {(x, y) for x in range(w) for y in range(h) if min(x, y, w - 1 - x, h - 1 - y) < depth}
    return sum(after.pixel(x, y) != before.pixel(x, y) for x, y in edge) / len(edge)


def test_focus_shows_where_tab_takes_it(qtbot, window, photo_to_write):
    search, strip, table, button = window.search, window.filmstrip, window.guesses.table, window.guesses.write_button
    search.setFocus()
    qtbot.waitUntil(search.hasFocus, timeout=WAIT)
    unfocused = {w: _image(w) for w in (strip, table, button)}
    at = search
    for widget in (strip, table, button):  # Tab, Tab, Tab: each shows it has the keyboard
        QTest.keyClick(at, Qt.Key.Key_Tab)
        qtbot.waitUntil(widget.hasFocus, timeout=WAIT)
        assert _ring_changed(unfocused[widget], _image(widget)) > 0.3, type(widget).__name__
        at = widget


def test_the_window_can_be_1024x640_and_every_part_stays_usable(qtbot, window, corpus_dir):
    photo = corpus_dir / "exif-samples/jpg/gps/DSCN0010.jpg"
    shown(qtbot, window, str(photo), lambda: window.add_paths([str(photo)]))
    window.resize(1024, 640)
    qtbot.waitUntil(lambda: window.size().toTuple() == (1024, 640), timeout=WAIT)
    assert window.minimumSizeHint().height() <= 640
    qtbot.wait(300)  # the layout settles
    table, button = window.guesses.table, window.guesses.write_button
    for row in range(table.rowCount()):  # all five guesses in view
        assert table.rowViewportPosition(row) + table.rowHeight(row) <= table.viewport().height(), row
    central = window.centralWidget()
    for part in (button, window.filmstrip, window.photo.image, window.map, window.search):
        assert part.isVisible() and part.width() > 0 and part.height() > 0, part
        corner = part.mapTo(window, part.rect().bottomRight())
        assert corner.x() < window.width() and corner.y() < window.height(), part  # nothing cut off
    assert window.photo.image.height() >= 60 and window.map.height() >= 250
    assert central.geometry().bottom() < window.statusBar().geometry().top()
    marks = markers(qtbot, window, 7)  # the map still fits the guesses
    assert all(0 <= m["x"] <= window.map.width() and 0 <= m["y"] <= window.map.height() for m in marks)
    # the pin moved: its two lines under the guesses take room from the photo, not from the rows
    window.map.move_pin(47.36667, 8.55)
    qtbot.waitUntil(lambda: "Zürich" in window.guesses.pin.text(), timeout=WAIT)
    qtbot.wait(300)
    pin = window.guesses.pin
    assert pin.heightForWidth(pin.width()) <= pin.height()  # every line of it shows
    for row in range(table.rowCount()):
        assert table.rowViewportPosition(row) + table.rowHeight(row) <= table.viewport().height(), row
    assert table.mapTo(window, table.rect().bottomLeft()).y() <= pin.mapTo(window, pin.rect().topLeft()).y()


def test_help_lists_every_shortcut_and_stop_is_offered_only_while_predicting(qtbot, window, corpus_dir, tmp_path):
    from geoguess_app.gui.qt_helpers import shortcuts

    found = {(name, keys) for _menu, name, keys in shortcuts(window)}
    assert {("Undo", "Ctrl+Z"), ("Stop predicting", "Esc"), ("Keyboard shortcuts", "F1")} <= found
    assert ("Redo", "Ctrl+Shift+Z, Ctrl+Y") in found and ("History of writes...", "Ctrl+H") in found
    QTest.keyClick(window, Qt.Key.Key_F1)
    box = next(w for w in QApplication.topLevelWidgets() if w.windowTitle() == "Keyboard shortcuts" and w.isVisible())
    assert "Ctrl+Z" in box.text() and "Undo" in box.text()
    box.close()
    assert not window.stop_action.isEnabled()  # nothing is being predicted
    photo = copy_photo(corpus_dir / "exiv2/test/data/exiv2-bug2565.jpg", tmp_path / "big.jpg")
    with qtbot.waitSignal(window.queue.progress, timeout=WAIT):
        window.add_paths([str(photo)])
    assert window.stop_action.isEnabled()
    with qtbot.waitSignal(window.queue.idle, timeout=WAIT):
        pass
    assert not window.stop_action.isEnabled()


def test_a_small_window_keeps_every_guess_readable_and_the_map_fits_them(qtbot, window, corpus_dir):
    photo = corpus_dir / "exif-samples/jpg/gps/DSCN0010.jpg"
    shown(qtbot, window, str(photo), lambda: window.add_paths([str(photo)]))
    window.resize(1024, 640)
    qtbot.wait(600)  # the layout settles and the page fits its guesses again
    table = window.guesses.table
    header = table.horizontalHeader()
    for row in range(table.rowCount()):  # all five rows in view
        assert table.rowViewportPosition(row) + table.rowHeight(row) <= table.viewport().height(), row
    place = table.item(0, 2).text()
    assert header.sectionSize(2) >= 100  # the place column is not squeezed to three letters
    coords = table.item(0, 3).text()
    assert header.sectionSize(3) >= table.fontMetrics().horizontalAdvance(coords)  # nor the coordinates cut
    assert place and window.map.width() < 700
    marks = markers(qtbot, window, 7)  # five guesses, the pin and the photo's own GPS
    for m in marks:
        assert 0 <= m["x"] <= window.map.width() and 0 <= m["y"] <= window.map.height(), m
