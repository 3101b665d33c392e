"""Positions a person sets in the window, driven as a person would: the place search (Enter takes
the best match, typos and other languages included), typed coordinates, the pin; each written as set
by a person, never as a prediction, and said so before it is written."""

from __future__ import annotations

import pytest
from conftest import copy_photo
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from test_window import WAIT, fresh_settings, shown  # noqa: F401 - fixtures
from test_window import photo_to_write as photo_to_write
from test_window import window as window

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
    from geoguess_app.core.geotag.journal import Journal

    folder = tmp_path / "trip"
    folder.mkdir()
    a = copy_photo(corpus_dir / "metadata-extractor-images/jpg/Nikon D90.jpg", folder / "a.jpg")
    b = copy_photo(corpus_dir / "metadata-extractor-images/jpg/Nikon D90.jpg", folder / "b.jpg")
    before = {p: p.read_bytes() for p in (a, b)}
    window.geotag.journal = Journal(tmp_path / "journal.jsonl")
    asked = []
    monkeypatch.setattr(window.geotag, "confirm", lambda title, text: asked.append((title, text)) or True)
    shown(qtbot, window, str(a), lambda: window.add_paths([str(folder)]))
    qtbot.waitUntil(lambda: len(window.results) == 2, timeout=WAIT)
    window.filmstrip.setFocus()
    QTest.keySequence(window.filmstrip, "Ctrl+A")
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
