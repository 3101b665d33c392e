"""A photographer's camera files in the window: a RAW+JPEG pair shown once with both names and
written to both, a video badged and predicted from its frames, and File > RAW files and sidecars
choosing where a RAW file's position goes (kept between runs); Ctrl+Z puts every file back."""

from __future__ import annotations

import shutil

import pytest
from helpers import copy_photo
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from window_helpers import WAIT, shown

from geoguess_app.gui.filmstrip import KIND_ROLE


@pytest.fixture
def trip(corpus_dir, tmp_path):
    samples = corpus_dir.parent / "raw-video-samples"
    if not samples.is_dir():
        pytest.skip(f"{samples} is missing")
    folder = tmp_path / "trip"
    folder.mkdir()
    shutil.copyfile(samples / "raw" / "RAW_KODAK_DC50.KDC", folder / "IMG_0001.KDC")
    Image.new("RGB", (640, 480), (100, 120, 140)).save(folder / "IMG_0001.JPG")
    copy_photo(samples / "video" / "sample_640x360.mov", folder / "clip.mov")
    return folder


def menu_action(window, text: str):
    for action in window.menuBar().actions():
        for sub in action.menu().actions():
            if sub.menu() is not None:
                found = [a for a in sub.menu().actions() if a.text() == text]
                if found:
                    return found[0]
    raise AssertionError(f"no menu item {text!r}")


def test_a_pair_and_a_video_are_shown_badged_and_the_pair_written_as_chosen(qtbot, window, trip, monkeypatch, tmp_path):
    from geoguess_app.core.geotag.journal import Journal
    from geoguess_app.gui import settings

    window.geotag.journal = Journal(tmp_path / "journal.jsonl")
    monkeypatch.setattr(window.geotag, "confirm", lambda title, text: True)
    before = {p: p.read_bytes() for p in trip.iterdir()}
    clip, jpeg = trip / "clip.mov", trip / "IMG_0001.JPG"
    shown(qtbot, window, jpeg, lambda: window.add_paths([str(trip)]))
    strip = window.filmstrip
    names = [strip.item(i).text() for i in range(strip.count())]
    assert names == ["IMG_0001.JPG + KDC", "clip.mov"]  # the pair once, with both names
    video = shown(qtbot, window, clip, lambda: strip.setCurrentRow(1))
    assert video.kind == "video" and video.source_image.startswith("5 frames of a 640x360 h264 video")
    assert strip.item(1).data(KIND_ROLE) == "video" and "5 frames" in strip.item(1).toolTip()
    # darktable's naming, chosen in the menu, and kept for the next run
    menu_action(window, "New sidecars named IMG_0001.CR2.xmp (darktable, digiKam)").trigger()
    assert settings.SIDECAR_NAME.get() == "NAME.EXT.xmp"
    shown(qtbot, window, jpeg, lambda: strip.setCurrentRow(0))
    with qtbot.waitSignal(window.photoWritten, timeout=WAIT) as written:
        window.guesses.write_button.click()
    assert written.args[1].startswith("written") and "its RAW twin: written" in written.args[1], written.args[1]
    assert (trip / "IMG_0001.KDC.xmp").exists() and not (trip / "IMG_0001.xmp").exists()
    assert (trip / "IMG_0001.KDC").read_bytes() == before[trip / "IMG_0001.KDC"]  # the RAW itself untouched
    assert jpeg.read_bytes() != before[jpeg]
    with qtbot.waitSignal(window.geotag.undo.undone, timeout=WAIT):
        QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert {p: p.read_bytes() for p in trip.iterdir()} == before  # both files back, the sidecar gone
