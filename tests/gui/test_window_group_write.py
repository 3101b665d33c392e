"""Which photos Write GPS writes, driven as a person would: opening photos starts a new selection,
the button's count is always what the confirmation lists and what is written, and a photo that keeps
its own GPS position (as the confirmation said) is no failure; one position for several photos is
undone in one step."""

from __future__ import annotations

import pytest
from helpers import copy_photo
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox
from window_helpers import (
    D90,
    OWN_GPS,
    WAIT,
    answer_yes,
    folder_of,
    open_and_select_all,
    shown,
    trip,
    write_and_collect,
)


def visible_errors() -> list[QMessageBox]:
    return [
        w
        for w in QApplication.topLevelWidgets()
        if isinstance(w, QMessageBox) and w.isVisible() and w.icon() == QMessageBox.Icon.Critical
    ]


def test_opening_a_folder_starts_a_new_selection(qtbot, window, corpus_dir, tmp_path, monkeypatch):
    from geoguess_app.core.geotag.journal import Journal

    first = folder_of(corpus_dir, tmp_path / "first", ["a.jpg", "b.jpg"])
    second = folder_of(corpus_dir, tmp_path / "second", ["c.jpg", "d.jpg"])
    before = {p: p.read_bytes() for p in first + second}
    window.geotag.journal = Journal(tmp_path / "journal.jsonl")
    asked = []
    monkeypatch.setattr(window.geotag, "confirm", lambda title, text: asked.append((title, text)) or True)
    shown(qtbot, window, str(first[0]), lambda: window.add_paths([str(tmp_path / "first")]))
    window.filmstrip.setFocus()
    QTest.keySequence(window.filmstrip, "Ctrl+A")
    assert window.guesses.write_button.text() == "Write GPS to 2 photos..."
    shown(qtbot, window, str(second[0]), lambda: window.add_paths([str(tmp_path / "second")]))
    assert window.filmstrip.selected_paths() == [str(second[0])]  # the earlier folder's selection is gone
    assert window.guesses.write_button.text() == "Write GPS to photo..."
    outcomes = write_and_collect(qtbot, window, 1)
    assert list(outcomes) == [str(second[0])] and outcomes[str(second[0])].startswith("written")
    assert all(title != "Write to 2 photos?" for title, _ in asked)
    assert all(p.read_bytes() == before[p] for p in first + second[1:])
    # the window's run records its photo and its end, so that a lost record could be told
    [run] = Journal(tmp_path / "journal.jsonl").read().runs.values()
    assert run.planned == 1 and run.end is not None and run.end["writes"] == 1


def test_after_right_the_button_counts_what_is_written(qtbot, window, corpus_dir, tmp_path, monkeypatch):
    from geoguess_app.core.geotag.journal import Journal

    photos = folder_of(corpus_dir, tmp_path / "trip", ["a.jpg", "b.jpg", "c.jpg"])
    before = {p: p.read_bytes() for p in photos}
    window.geotag.journal = Journal(tmp_path / "journal.jsonl")
    monkeypatch.setattr(window.geotag, "confirm", lambda title, text: True)
    shown(qtbot, window, str(photos[0]), lambda: window.add_paths([str(tmp_path / "trip")]))
    qtbot.waitUntil(lambda: len(window.results) == 3, timeout=WAIT)
    shown(qtbot, window, str(photos[1]), lambda: QTest.keyClick(window, Qt.Key.Key_Right))  # Go > Next photo
    assert window.filmstrip.selected_paths() == [str(photos[1])]
    assert window.guesses.write_button.text() == "Write GPS to photo..."  # it said 2 and wrote 1
    outcomes = write_and_collect(qtbot, window, 1)
    assert list(outcomes) == [str(photos[1])]
    assert photos[0].read_bytes() == before[photos[0]] and photos[2].read_bytes() == before[photos[2]]
    # Shift+Right widens the selection: the button and the write follow it
    window.filmstrip.setFocus()
    QTest.keyClick(window.filmstrip, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: window.current == str(photos[2]), timeout=WAIT)
    assert window.filmstrip.selected_paths() == [str(photos[1]), str(photos[2])]
    assert window.guesses.write_button.text() == "Write GPS to 2 photos..."


def test_a_photo_keeping_its_own_gps_is_said_neutrally_not_as_an_error(
    qtbot, window, corpus_dir, tmp_path, monkeypatch, exiftool_cli
):
    from geoguess_app.core.geotag.journal import Journal

    folder = tmp_path / "trip"
    a, b = folder_of(corpus_dir, folder, ["a.jpg", "b.jpg"])
    own = copy_photo(corpus_dir / OWN_GPS, folder / "c-own-gps.jpg")
    original = own.read_bytes()
    window.geotag.journal = Journal(tmp_path / "journal.jsonl")
    asked = []
    monkeypatch.setattr(window.geotag, "confirm", lambda title, text: asked.append(text) or True)
    shown(qtbot, window, str(a), lambda: window.add_paths([str(folder)]))
    qtbot.waitUntil(lambda: len(window.results) == 3, timeout=WAIT)
    window.filmstrip.setFocus()
    QTest.keySequence(window.filmstrip, "Ctrl+A")
    outcomes = write_and_collect(qtbot, window, 3)
    assert "c-own-gps.jpg: keeps its own GPS position" in asked[-1]
    assert outcomes[str(a)] == outcomes[str(b)] == "written" and own.read_bytes() == original
    assert outcomes[str(own)].startswith("kept: it already has a GPS position")
    assert not visible_errors()  # no red "Not every photo was written" for what the person was told
    message = window.status.currentMessage()
    assert "2 written, 1 kept its own GPS position" in message and "not written" not in message


def test_one_position_into_several_selected_photos_and_one_undo(
    qtbot, window, corpus_dir, tmp_path, monkeypatch, exiftool_cli
):
    from geoguess_app.core.geotag.metadata import read_metadata

    a, b = trip(window, corpus_dir, tmp_path, ["a.jpg", "b.jpg"])
    own = copy_photo(corpus_dir / OWN_GPS, a.parent / "c-own-gps.jpg")
    locked = copy_photo(corpus_dir / D90, a.parent / "d-read-only.jpg")
    locked.chmod(0o444)
    before = {p: p.read_bytes() for p in (a, b, own, locked)}
    asked = answer_yes(window, monkeypatch)
    open_and_select_all(qtbot, window, [a, b, own, locked])
    assert window.filmstrip.selected_paths() == [str(a), str(b), str(own), str(locked)]
    assert window.guesses.write_button.text() == "Write GPS to 4 photos..."  # the button says how many
    window.map.move_pin(46.5197, 6.6323)  # the pin moved: that position, for all of them
    qtbot.waitUntil(window.geotag.pin_adjusted, timeout=WAIT)
    outcomes = {}
    window.photoWritten.connect(lambda path, message: outcomes.__setitem__(path, message))
    window.guesses.write_button.click()
    qtbot.waitUntil(lambda: len(outcomes) == 4, timeout=WAIT)
    title, text = asked[-1]
    assert "d-read-only.jpg: will be refused: it is read-only" in text  # said before, not only after
    assert outcomes[str(locked)].startswith("refused: it is read-only")
    assert title == "Write to 4 photos?" and "a.jpg: gets the position" in text and "b.jpg: gets the position" in text
    assert "c-own-gps.jpg: keeps its own GPS position" in text and "set by a person" in text
    assert outcomes[str(a)] == outcomes[str(b)] == "written" and outcomes[str(own)].startswith("kept")
    for p in (a, b):
        tags = read_metadata(p)
        assert tags["Composite:GPSLatitude"] == pytest.approx(46.5197, abs=1e-6)
        assert tags["XMP-geoguess:Source"] == "pin"  # set by a person
    assert own.read_bytes() == before[own]  # its own GPS position is kept
    box = next(w for w in QApplication.topLevelWidgets() if w.windowTitle() == "Not every photo was written")
    assert box.isVisible() and "d-read-only.jpg: refused: it is read-only" in box.text()  # a real failure
    assert "c-own-gps.jpg" not in box.text() and "--" not in box.text()  # keeping its GPS is none
    box.close()
    undo = window.geotag.undo.undo_action
    assert (
        undo.isEnabled()
        and undo.text() == "&Undo writing 46.519700, 6.632300 (the pin placed on the map) into 2 photos"
    )
    with qtbot.waitSignal(window.geotag.undo.undone, timeout=WAIT):
        undo.trigger()  # Edit > Undo: one step for every photo of the group
    assert all(p.read_bytes() == data for p, data in before.items())
