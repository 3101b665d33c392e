"""The folder geotagging dialog as a person meets it: the trip map fitted to the photos and zoomed to
the photo clicked, every column in view at the default width, the end said in a neutral colour, and
Cancel offered only while something can be cancelled."""

from __future__ import annotations

import json

from helpers import walk_with_gps
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox
from window_helpers import WAIT, markers, open_dialog, rows_by_name

from geoguess_app.gui.batch_table import PHOTO

WALK = ["DSCN0010.jpg", "DSCN0012.jpg", "DSCN0021.jpg", "DSCN0025.jpg", "DSCN0027.jpg", "DSCN0029.jpg"]
STRIPPED = WALK[1:5]  # placed between the first and the last, a few hundred metres apart


def view(qtbot, dialog) -> dict:
    box = {}
    dialog.map.page().runJavaScript("JSON.stringify(geoguess.view())", 0, lambda t: box.__setitem__("v", json.loads(t)))
    qtbot.waitUntil(lambda: "v" in box, timeout=WAIT)
    return box["v"]


def answers(qtbot, dialog) -> list[dict]:
    return [m for m in markers(qtbot, dialog, 6 + 4 + 1) if m["kind"] == "guess"]  # answers, faint guesses, track


def spread(points: list[dict]) -> float:
    return max(
        max(p["x"] for p in points) - min(p["x"] for p in points),
        max(p["y"] for p in points) - min(p["y"] for p in points),
    )


def red_pixels(widget) -> int:
    image = widget.grab().toImage()
    count = 0
    for x in range(0, image.width(), 2):
        for y in range(image.height()):
            c = image.pixelColor(x, y)
            count += c.red() > 140 and c.green() < 90 and c.blue() < 90
    return count


def test_the_trip_map_fits_the_photos_and_zooms_to_the_photo_clicked(qtbot, window, corpus_dir, tmp_path, exiftool_cli):
    folder = tmp_path / "walk"
    walk_with_gps(corpus_dir, folder, exiftool_cli, WALK, STRIPPED)
    dialog = open_dialog(qtbot, window, folder, tmp_path)
    shown = answers(qtbot, dialog)
    assert len(shown) == 6
    width, height = dialog.map.width(), dialog.map.height()
    assert all(0 <= p["x"] <= width and 0 <= p["y"] <= height for p in shown)
    assert spread(shown) > min(width, height) / 3  # the six photos apart, not one dot on the world
    assert not dialog.cancel_button.isEnabled()  # nothing running: nothing to cancel
    # clicking a row shows that photo up close, in the middle of the map
    table = dialog.table
    before = view(qtbot, dialog)
    row = rows_by_name(table)["DSCN0021.jpg"]
    cell = table.visualRect(table.model().index(row, PHOTO)).center()
    QTest.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, cell)
    target = dialog.answers[str(folder / "DSCN0021.jpg")][1].position

    def centred_on_it() -> bool:
        v = view(qtbot, dialog)
        return abs(v["lat"] - target[0]) < 1e-4 and abs(v["lon"] - target[1]) < 1e-4

    qtbot.waitUntil(centred_on_it, timeout=WAIT)
    close = view(qtbot, dialog)
    assert close["zoom"] >= before["zoom"]
    # ticking it off redraws the photos, and the view stays where the person looks
    QTest.keyClick(table, Qt.Key.Key_Space)
    assert not dialog.ticked[str(folder / "DSCN0021.jpg")]
    after = view(qtbot, dialog)  # asked after the map was redrawn (the page runs scripts in order)
    assert after["zoom"] == close["zoom"] and abs(after["lat"] - target[0]) < 1e-4
    dialog.close()


def test_every_column_is_in_view_at_the_default_width(qtbot, window, corpus_dir, tmp_path, exiftool_cli):
    folder = tmp_path / "walk"
    walk_with_gps(corpus_dir, folder, exiftool_cli, WALK[:3], WALK[1:2])
    dialog = open_dialog(qtbot, window, folder, tmp_path)
    table = dialog.table
    qtbot.wait(200)
    assert table.horizontalScrollBar().maximum() == 0  # no sideways scrolling
    header = table.horizontalHeader()
    last = table.columnCount() - 1
    assert header.sectionViewportPosition(last) + header.sectionSize(last) <= table.viewport().width()
    assert header.sectionSize(last) >= header.fontMetrics().horizontalAdvance("Evidence") + 30
    dialog.close()


def test_the_end_is_said_neutrally_and_cancel_goes_grey(qtbot, window, corpus_dir, tmp_path, exiftool_cli):
    folder = tmp_path / "walk"
    walk_with_gps(corpus_dir, folder, exiftool_cli, WALK[:3], WALK[1:2])
    dialog = open_dialog(qtbot, window, folder, tmp_path)
    assert not dialog.cancel_button.isEnabled()
    assert "UNTRAINED MODEL" in dialog.model_warning.text() and dialog.model_warning.isVisible()
    dialog.write_button.click()
    with qtbot.waitSignal(dialog.finished, timeout=WAIT):
        dialog.confirmation.button(QMessageBox.StandardButton.Yes).click()
    assert dialog.header.text().startswith("1 written, 0 refused, 0 failed.")
    assert red_pixels(dialog.header) == 0  # a success is not said in an error's colour
    assert not dialog.cancel_button.isEnabled()  # nothing left to cancel
    dialog.close()
