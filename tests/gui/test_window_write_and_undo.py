"""Write GPS from the window: the guess chosen is written, a real GPS position is replaced only after
a Yes, a photo with two names is written as the person chooses; Undo, Redo and the history of writes."""

from __future__ import annotations

import os

import pytest
from helpers import copy_photo
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from window_helpers import WAIT, shown


def test_write_a_chosen_guess_into_the_photo(qtbot, window, photo_to_write):
    from geoguess_app.core.geotag.metadata import read_metadata

    photo, result = photo_to_write
    questions = window.questions
    window.guesses.table.selectRow(1)
    with qtbot.waitSignal(window.photoWritten, timeout=WAIT) as written:
        window.guesses.write_button.click()
    assert written.args[1].startswith("written")
    assert "UNTRAINED" in questions[0]  # the stand-in is never written without saying so
    tags = read_metadata(photo)
    g = result.predictions[1]
    assert tags["Composite:GPSLatitude"] == pytest.approx(g.lat, abs=1e-6)
    assert tags["XMP-geoguess:Rank"] == 2 and tags["XMP-geoguess:Untrained"] in (True, 1, "True")


def test_replacing_a_real_gps_position_needs_a_yes(qtbot, window, corpus_dir, tmp_path, monkeypatch):
    photo = tmp_path / "has-gps.jpg"
    copy_photo(corpus_dir / "exiv2/test/data/exiv2-bug2565.jpg", photo)
    original = photo.read_bytes()
    answers = iter([True, False])  # yes, write the stand-in's guess; no, keep the real position
    monkeypatch.setattr(window.geotag, "confirm", lambda title, text: next(answers))
    shown(qtbot, window, photo, lambda: window.add_paths([str(photo)]))
    with qtbot.waitSignal(window.photoWritten, timeout=WAIT) as written:
        window.guesses.write_button.click()
    assert written.args[1] == "cancelled" and photo.read_bytes() == original


def test_a_photo_with_two_names_is_written_as_the_person_chooses(qtbot, window, photo_to_write, monkeypatch):

    from geoguess_app.core.geotag.metadata import read_metadata

    photo, result = photo_to_write
    other = photo.with_name("same-photo-elsewhere.jpg")
    os.link(photo, other)
    asked = []
    monkeypatch.setattr(window.geotag, "choose", lambda title, text, choices: asked.append(choices) or "in-place")
    with qtbot.waitSignal(window.photoWritten, timeout=WAIT) as written:
        window.guesses.write_button.click()
    assert written.args[1].startswith("written"), written.args[1]
    assert [key for key, _ in asked[0]] == ["in-place", "split"]
    assert read_metadata(other)["XMP-geoguess:Predicted"] in (True, 1, "True")  # both names see it
    assert os.stat(photo).st_ino == os.stat(other).st_ino


def test_undo_redo_and_history_in_the_window(qtbot, window, photo_to_write):
    from geoguess_app.core.geotag.metadata import read_metadata

    photo, result = photo_to_write
    original = photo.read_bytes()
    undo = window.geotag.undo
    assert not undo.undo_action.isEnabled() and not undo.redo_action.isEnabled()
    with qtbot.waitSignal(window.photoWritten, timeout=WAIT) as written:
        window.guesses.write_button.click()
    assert written.args[1].startswith("written") and "Ctrl+Z" in written.args[1]
    assert photo.read_bytes() != original and undo.undo_action.text().startswith("&Undo writing")
    # writing it again asks first: GeoGuess's own position is never replaced silently
    window.guesses.table.selectRow(2)
    with qtbot.waitSignal(window.photoWritten, timeout=WAIT) as written:
        window.guesses.write_button.click()
    assert "GeoGuess already wrote" in window.questions[-1] and written.args[1].startswith("written")
    second = read_metadata(photo)
    assert second["XMP-geoguess:Rank"] == 3
    # Ctrl+Z twice: the photo is byte for byte what it was
    for expected in (None, original):
        with qtbot.waitSignal(undo.undone, timeout=WAIT):
            QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
        if expected is not None:
            assert photo.read_bytes() == expected
    assert not undo.undo_action.isEnabled() and undo.redo_action.isEnabled()
    # Ctrl+Shift+Z: the first write again, then the second
    for rank in (1, 3):
        with qtbot.waitSignal(window.photoWritten, timeout=WAIT) as written:
            QTest.keyClick(
                window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
            )
        assert written.args[1].startswith("written") and read_metadata(photo)["XMP-geoguess:Rank"] == rank
    again = read_metadata(photo)  # the second write again (written anew: its own time and run)
    assert again["Composite:GPSLatitude"] == pytest.approx(second["Composite:GPSLatitude"])
    assert not undo.redo_action.isEnabled()
    # Edit > History: every run of the journal; the newest undone from there
    undo.show_history()
    history = undo.history
    qtbot.waitUntil(lambda: history.table.rowCount() == 4, timeout=WAIT)  # two writes, two redone
    assert "GeoGuess window: Write GPS to" in history.table.item(0, 1).text()
    history.scope.setCurrentIndex(0)  # the shown photo's folder
    qtbot.waitUntil(lambda: history.table.rowCount() == 4, timeout=WAIT)
    history.table.selectRow(0)
    with qtbot.waitSignal(undo.undone, timeout=WAIT):
        history.undo_button.click()
    assert read_metadata(photo)["XMP-geoguess:Rank"] == 1  # the newest run undone: the one before shows
    qtbot.waitUntil(lambda: history.table.item(0, 3).text() == "0", timeout=WAIT)
    history.close()
