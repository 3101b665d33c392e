"""The window's fixtures, for every test in tests/gui: settings as on a first run, the window with
the tiny stand-in model, and a photo ready to be written. What they share besides fixtures is in
window_helpers.py."""

from __future__ import annotations

import pytest
from helpers import copy_photo
from PySide6.QtCore import QSettings
from window_helpers import D90, close_window, open_window, shown


@pytest.fixture(autouse=True)
def fresh_settings():
    QSettings().clear()  # each test starts as a first run (geometry, device, last folder)


@pytest.fixture
def window(qtbot, tiny_model_dir):
    w = open_window(qtbot, tiny_model_dir)
    yield w
    close_window(w)


@pytest.fixture
def photo_to_write(qtbot, window, corpus_dir, tmp_path, monkeypatch, exiftool_cli):
    """A photo without GPS shown in the window, a private undo journal, and every question answered
    Yes (the questions asked are collected in window.questions)."""
    from geoguess_app.core.geotag.journal import Journal

    photo = tmp_path / "d90.jpg"
    copy_photo(corpus_dir / D90, photo)
    window.geotag.journal = Journal(tmp_path / "journal.jsonl")
    window.questions = []
    monkeypatch.setattr(window.geotag, "confirm", lambda title, text: window.questions.append(text) or True)
    return photo, shown(qtbot, window, photo, lambda: window.add_paths([str(photo)]))
