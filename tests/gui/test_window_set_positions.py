"""Positions a person sets in the window, driven as a person would: the place search (Enter takes
the best match, typos and other languages included), typed coordinates, the pin (dragged, said where
it is, put back by Esc); each written as set by a person, never as a prediction, and said so before it
is written."""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from window_helpers import WAIT, answer_yes, markers, open_and_select_all, trip, view_target

from geoguess_app.core.geotag.metadata import read_metadata

PREDICTION_TAGS = ("Probability", "Rank", "CellToken", "Model", "Untrained", "Adjusted")


def type_text(widget, text: str) -> None:
    """Type as a person does, one key event per letter (QTest.keyClicks aborts on a letter outside ASCII)."""
    for char in text:
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            QApplication.sendEvent(widget, QKeyEvent(kind, 0, Qt.KeyboardModifier.NoModifier, char))


def offered(qtbot, search, typed: str, first: str):
    """Ctrl+F, type, and wait until the popup offers ``first`` first (the places found for the whole
    text, not for its first letters); the popup."""
    QTest.keySequence(search.window(), "Ctrl+F")
    assert search.hasFocus()
    search.clear()
    type_text(search, typed)
    popup = search.completer().popup()
    qtbot.waitUntil(
        lambda: popup.isVisible() and first in str(popup.model().index(0, 0).data()) and bool(search.found),
        timeout=WAIT,
    )
    return popup


@pytest.mark.parametrize(
    "typed, best",
    [
        ("München", "Munich, Bavaria, Germany (München)"),  # Münchenstein starts with the text, but is not the best
        ("lausane", "Lausanne, Vaud, Switzerland"),  # a typo
        ("Genf", "Genève"),  # another language's name
    ],
)
def test_enter_takes_the_best_match_shown_first_and_highlighted(qtbot, window, typed, best):
    search = window.search
    popup = offered(qtbot, search, typed, best)
    first = popup.model().index(0, 0)
    assert first.data() == search.found[0].name
    assert popup.currentIndex().row() == 0  # what Enter takes is the row highlighted
    assert popup.viewport().rect().contains(popup.visualRect(first))  # and it is in view
    chosen = []
    search.placeChosen.connect(lambda *args: chosen.append(args))
    QTest.keyClick(popup, Qt.Key.Key_Return)  # the popup has the keyboard while it shows
    qtbot.waitUntil(lambda: bool(chosen), timeout=WAIT)
    qtbot.wait(100)
    assert len(chosen) == 1 and best in chosen[0][2]
    assert not popup.isVisible()


def test_down_then_enter_takes_the_second_place_offered(qtbot, window):
    search = window.search
    popup = offered(qtbot, search, "lausane", "Lausanne, Vaud, Switzerland")
    second = search.found[1].name
    with qtbot.waitSignal(search.placeChosen, timeout=WAIT) as chosen:
        QTest.keyClick(popup, Qt.Key.Key_Down)
        QTest.keyClick(popup, Qt.Key.Key_Return)
    assert chosen.args[2] == second


def test_typed_coordinates_are_written_as_set_by_a_person(qtbot, window, photo_to_write):
    photo, result = photo_to_write
    search = window.search
    QTest.keySequence(window, "Ctrl+F")
    QTest.keyClicks(search, "46.5197, 6.6323")
    with qtbot.waitSignal(search.placeChosen, timeout=WAIT):
        QTest.keyClick(search, Qt.Key.Key_Return)
    assert window.status.currentMessage().count("46.519700") == 1  # the status line says it once
    qtbot.waitUntil(lambda: window.guesses.pin.text().startswith("Pin moved to 46.519700, 6.632300"), timeout=WAIT)
    with qtbot.waitSignal(window.photoWritten, timeout=WAIT) as written:
        window.guesses.write_button.click()
    assert written.args[1].startswith("written: 46.519700, 6.632300 (typed coordinates)"), written.args[1]
    question = window.questions[-1]
    assert "set by a person (typed coordinates)" in question and "not as a prediction" in question
    assert "random" not in question and "UNTRAINED" not in question and result.model.name not in question
    tags = read_metadata(photo)
    assert tags["Composite:GPSLatitude"] == pytest.approx(46.5197, abs=1e-6)
    assert tags["GPS:GPSProcessingMethod"] == "GeoGuess, set by a person (typed coordinates): not a prediction"
    assert tags["XMP-geoguess:Source"] == "typed" and "GPS:GPSHPositioningError" not in tags
    assert not any(f"XMP-geoguess:{name}" in tags for name in PREDICTION_TAGS)


def test_a_searched_place_is_written_with_its_name(qtbot, window, photo_to_write):
    photo, _ = photo_to_write
    search = window.search
    popup = offered(qtbot, search, "lausane", "Lausanne, Vaud, Switzerland")
    with qtbot.waitSignal(window.map.pinMoved, timeout=WAIT):
        QTest.keyClick(popup, Qt.Key.Key_Return)
    message = window.status.currentMessage()
    assert message.startswith("Lausanne, Vaud, Switzerland: ") and message.count(",") == 3  # its position once
    with qtbot.waitSignal(window.photoWritten, timeout=WAIT) as written:
        window.guesses.write_button.click()
    assert "(Lausanne, Vaud, Switzerland, a searched place)" in written.args[1], written.args[1]
    assert "set by a person (a searched place)" in window.questions[-1]
    tags = read_metadata(photo)
    assert tags["XMP-geoguess:Source"] == "searched" and tags["XMP-geoguess:Place"] == "Lausanne, Vaud, Switzerland"
    assert tags["GPS:GPSProcessingMethod"] == "GeoGuess, set by a person (a searched place): not a prediction"
    assert not any(f"XMP-geoguess:{name}" in tags for name in PREDICTION_TAGS)


def test_the_pin_given_to_several_photos_is_set_by_a_person_and_undone_in_one_step(
    qtbot, window, corpus_dir, tmp_path, monkeypatch, exiftool_cli
):
    a, b = trip(window, corpus_dir, tmp_path, ["a.jpg", "b.jpg"])
    before = {p: p.read_bytes() for p in (a, b)}
    asked = answer_yes(window, monkeypatch)
    open_and_select_all(qtbot, window, [a, b])
    with qtbot.waitSignal(window.map.pinMoved, timeout=WAIT):
        window.map.move_pin(46.5197, 6.6323)  # as a drag of the pin ends
    outcomes = {}
    window.photoWritten.connect(lambda path, message: outcomes.__setitem__(path, message))
    window.guesses.write_button.click()
    qtbot.waitUntil(lambda: len(outcomes) == 2, timeout=WAIT)
    title, text = asked[-1]
    assert title == "Write to 2 photos?" and "set by a person (the pin placed on the map)" in text
    assert "random" not in text and "UNTRAINED" not in text
    for p in (a, b):
        tags = read_metadata(p)
        assert tags["XMP-geoguess:Source"] == "pin" and "GPS:GPSHPositioningError" not in tags
        assert not any(f"XMP-geoguess:{name}" in tags for name in PREDICTION_TAGS)
    assert "given to 2 photos at once" in read_metadata(b)["XMP-geoguess:Evidence"]
    undo = window.geotag.undo.undo_action
    assert undo.text() == "&Undo writing 46.519700, 6.632300 (the pin placed on the map) into 2 photos"
    with qtbot.waitSignal(window.geotag.undo.undone, timeout=WAIT):
        undo.trigger()
    assert all(p.read_bytes() == data for p, data in before.items())


def test_drag_the_pin_to_adjust_the_position_written(qtbot, window, photo_to_write):
    from geoguess_app.core.geotag.metadata import read_metadata

    photo, result = photo_to_write
    pin = next(m for m in markers(qtbot, window, 6) if m["kind"] == "pin")  # 5 guesses + the pin
    assert (pin["lat"], pin["lon"]) == (
        pytest.approx(result.predictions[0].lat),
        pytest.approx(result.predictions[0].lon),
    )
    with qtbot.waitSignal(window.map.pinMoved, timeout=WAIT):
        window.map.move_pin(46.5197, 6.6323)  # as a drag ends
    with qtbot.waitSignal(window.photoWritten, timeout=WAIT) as written:
        window.guesses.write_button.click()
    assert written.args[1].startswith("written") and "(the pin placed on the map)" in written.args[1]
    tags = read_metadata(photo)
    assert tags["Composite:GPSLatitude"] == pytest.approx(46.5197, abs=1e-6)
    assert tags["XMP-geoguess:Source"] == "pin" and "XMP-geoguess:Rank" not in tags  # set by a person


def test_the_pin_panel_follows_a_mouse_drag_and_esc_puts_it_back(qtbot, window, photo_to_write):
    pin = next(m for m in markers(qtbot, window, 6) if m["kind"] == "pin")
    target = view_target(window)
    head = QPoint(round(pin["x"]) + 19, round(pin["y"]) - 28)  # the needle's head, up and right of its point
    qtbot.wait(200)
    QTest.mouseMove(target, head)
    QTest.mousePress(target, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, head)
    for step in range(1, 16):  # a person's drag: many small moves
        QTest.mouseMove(target, head + QPoint(6 * step, 4 * step))
        qtbot.wait(30)
    # while it is still held, the panel says where it is and how far from the guess
    qtbot.waitUntil(
        lambda: bool(re.match(r"Pin at -?\d+\.\d{6}, -?\d+\.\d{6}, .* from guess #1", window.guesses.pin.text())),
        timeout=WAIT,
    )
    QTest.mouseRelease(target, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, head + QPoint(90, 60))
    moved = r"Pin moved to .*: .+, .* from guess #1\. Esc puts it back\."  # once dropped, its place too
    qtbot.waitUntil(lambda: bool(re.match(moved, window.guesses.pin.text())), timeout=WAIT)
    assert window.geotag.pin_adjusted()
    QTest.keyClick(window, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not window.guesses.pin.isVisible(), timeout=WAIT)
    assert not window.geotag.pin_adjusted()


def test_the_dragged_pin_says_where_it_is_and_esc_puts_it_back(qtbot, window, photo_to_write):
    photo, result = photo_to_write
    panel = window.guesses
    assert not panel.pin.isVisible()
    with qtbot.waitSignal(window.map.pinMoved, timeout=WAIT):
        window.map.move_pin(46.5197, 6.6323)  # as a drag ends, near Lausanne
    qtbot.waitUntil(lambda: "Lausanne" in panel.pin.text(), timeout=WAIT)
    g = result.predictions[0]
    assert panel.pin.isVisible() and panel.pin.text().startswith("Pin moved to 46.519700, 6.632300: ")
    assert " from guess #1. Esc puts it back." in panel.pin.text()
    QTest.keyClick(window, Qt.Key.Key_Escape)
    assert not panel.pin.isVisible() and not window.geotag.pin_adjusted()

    def pin_on_the_guess() -> bool:
        pin = next(m for m in markers(qtbot, window, 6) if m["kind"] == "pin")
        return abs(pin["lat"] - g.lat) < 1e-6 and abs(pin["lon"] - g.lon) < 1e-6

    qtbot.waitUntil(pin_on_the_guess, timeout=WAIT)
    with qtbot.waitSignal(window.photoWritten, timeout=WAIT) as written:
        window.guesses.write_button.click()
    assert "the pin placed on the map" not in written.args[1]  # the guess itself is written, not the dragged spot


def test_find_a_place_or_coordinates_and_the_pin_goes_there(qtbot, window, photo_to_write):
    photo, result = photo_to_write
    search = window.search
    QTest.keySequence(window, "Ctrl+F")  # Go > Find a place
    assert search.hasFocus()
    QTest.keyClicks(search, "lausane")  # a typo, as typed
    qtbot.waitUntil(lambda: bool(search.found), timeout=WAIT)
    assert search.found[0].name == "Lausanne, Vaud, Switzerland"
    popup = search.completer().popup()
    qtbot.waitUntil(popup.isVisible, timeout=WAIT)
    with qtbot.waitSignal(search.placeChosen, timeout=WAIT) as chosen:
        QTest.keyClick(popup, Qt.Key.Key_Return)  # the best match, highlighted
    assert chosen.args[2] == "Lausanne, Vaud, Switzerland"
    qtbot.waitUntil(lambda: "Lausanne" in window.guesses.pin.text(), timeout=WAIT)  # the pin went there
    # a name with its accent, in another language than GeoNames' own
    search.clear()
    for char in "München":  # QTest.keyClicks aborts on a letter outside ASCII: a key event per letter
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            QApplication.sendEvent(search, QKeyEvent(kind, 0, Qt.KeyboardModifier.NoModifier, char))
    qtbot.waitUntil(lambda: bool(search.found) and "Munich" in search.found[0].name, timeout=WAIT)
    assert search.found[0].name == "Munich, Bavaria, Germany (München)"
    # typed coordinates: decimal, then with hemispheres
    for typed, lat, lon in (("46.5197, 6.6323", 46.5197, 6.6323), ("33.86S, 151.21E", -33.86, 151.21)):
        search.clear()
        QTest.keyClicks(search, typed)
        with qtbot.waitSignal(search.placeChosen, timeout=WAIT) as chosen:
            QTest.keyClick(search, Qt.Key.Key_Return)
        assert (chosen.args[0], chosen.args[1]) == (pytest.approx(lat), pytest.approx(lon))
        qtbot.waitUntil(lambda lat=lat: window.guesses.pin.text().startswith(f"Pin moved to {lat:.6f}, "), timeout=WAIT)
    # typed coordinates, degrees-minutes-seconds
    search.clear()
    QTest.keyClicks(search, "40°42'46\"N 74°0'22\"W")
    with qtbot.waitSignal(search.placeChosen, timeout=WAIT) as chosen:
        QTest.keyClick(search, Qt.Key.Key_Return)
    assert chosen.args[0] == pytest.approx(40.7128, abs=1e-4) and chosen.args[1] == pytest.approx(-74.0061, abs=1e-4)
    qtbot.waitUntil(lambda: window.guesses.pin.text().startswith("Pin moved to 40.712778, -74.006111: "), timeout=WAIT)
    assert "New York" in window.guesses.pin.text() or "Jersey" in window.guesses.pin.text()
    with qtbot.waitSignal(window.photoWritten, timeout=WAIT) as written:
        window.guesses.write_button.click()
    from geoguess_app.core.geotag.metadata import read_metadata

    assert written.args[1].startswith("written") and "(typed coordinates)" in written.args[1]
    assert read_metadata(photo)["Composite:GPSLatitude"] == pytest.approx(40.712778, abs=1e-6)
