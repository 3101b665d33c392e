"""Edit > Undo offers only what can still be undone: a write undone elsewhere (``geoguess undo`` in
another process, on the same journal) leaves the window's Undo, whether the window noticed the
journal change first or the person pressed Ctrl+Z first."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from window_helpers import WAIT

GEOGUESS = str(Path(sys.executable).parent / "geoguess")


def undo_elsewhere(journal: Path, *how: str) -> None:
    out = subprocess.run(
        [GEOGUESS, "undo", *how, "--journal", str(journal)], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr


def write(qtbot, window, rank: int) -> None:
    window.guesses.table.selectRow(rank - 1)
    with qtbot.waitSignal(window.photoWritten, timeout=WAIT) as written:
        window.guesses.write_button.click()
    assert written.args[1].startswith("written"), written.args[1]


def test_an_undo_on_the_command_line_takes_the_window_s_undo_away(qtbot, window, photo_to_write):
    photo, _ = photo_to_write
    original = photo.read_bytes()
    undo = window.geotag.undo
    write(qtbot, window, 1)
    assert undo.undo_action.isEnabled() and undo.undo_action.text().startswith("&Undo writing")
    undo_elsewhere(window.geotag.journal.path, "--last")
    assert photo.read_bytes() == original
    qtbot.waitUntil(lambda: not undo.undo_action.isEnabled(), timeout=WAIT)  # noticed without being asked
    assert undo.undo_action.text() == "&Undo"


def test_ctrl_z_before_the_window_noticed_says_it_was_undone_elsewhere(qtbot, window, photo_to_write):
    from geoguess_app.core.geotag.metadata import read_metadata

    photo, _ = photo_to_write
    original = photo.read_bytes()
    undo = window.geotag.undo
    write(qtbot, window, 1)
    first = photo.read_bytes()
    write(qtbot, window, 3)  # GeoGuess's own position replaced (asked, answered Yes)
    assert read_metadata(photo)["XMP-geoguess:Rank"] == 3
    undo_elsewhere(window.geotag.journal.path, "--last")  # the second write, undone on the command line
    assert photo.read_bytes() == first
    with qtbot.waitSignal(undo.changed, timeout=WAIT, check_params_cb=lambda *a: not undo.busy):
        QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # before any event was seen
    message = window.status.currentMessage()
    assert "undone elsewhere" in message and "0 photo(s) put back" not in message, message
    assert photo.read_bytes() == first  # nothing was done twice
    # what is left is the first write, and Ctrl+Z undoes it
    qtbot.waitUntil(lambda: undo.undo_action.isEnabled(), timeout=WAIT)
    assert "guess #1" in undo.undo_action.text()
    with qtbot.waitSignal(undo.undone, timeout=WAIT):
        QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert photo.read_bytes() == original
    assert "1 photo(s) put back" in window.status.currentMessage()
