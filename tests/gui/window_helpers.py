"""What the window tests share besides their fixtures (tests/gui/conftest.py): the photos they
open, opening and closing the window, waiting for what it shows, clicks on the map page, folders of
photos to write, and the folder geotagging dialog."""

from __future__ import annotations

from pathlib import Path

from helpers import copy_photo
from PySide6 import QtWebEngineWidgets  # noqa: F401 - must be imported before the QApplication exists
from PySide6.QtCore import QCoreApplication, QEvent, QPoint, Qt
from PySide6.QtTest import QTest

QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)

from geoguess_app.gui.batch_table import PHOTO  # noqa: E402
from geoguess_app.gui.main_window import MainWindow  # noqa: E402

HEIC = "exif-samples/heic/IMG_5195.HEIC"  # has EXIF GPS (Kansas City area)
HOPPER = "Pillow/Tests/images/hopper.jpg"  # no GPS, 128 x 128
D90 = "metadata-extractor-images/jpg/Nikon D90.jpg"  # no GPS
OWN_GPS = "exiv2/test/data/exiv2-bug2565.jpg"  # has EXIF GPS
WAIT = 60_000


def open_window(qtbot, model_dir):
    w = MainWindow(model_dir, device="cpu", online_tiles=False, ask_for_model=False)
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.modelReady, timeout=WAIT):
        w.show()
    w.activateWindow()
    qtbot.waitUntil(lambda: w.map.is_ready and w.isActiveWindow(), timeout=WAIT)
    return w


def close_window(w) -> None:
    w.close()
    w.deleteLater()  # the web page goes before the web profile at exit
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def shown(qtbot, window, path, action):
    """Run ``action`` and return the PhotoResult shown for ``path``."""
    with qtbot.waitSignal(
        window.predictionShown, timeout=WAIT, check_params_cb=lambda r: Path(r.path) == Path(path)
    ) as blocker:
        action()
    return blocker.args[0]


def markers(qtbot, window, wanted: int) -> list[dict]:
    box = {}

    def ask():
        window.map.markers(lambda m: box.__setitem__("m", m))
        qtbot.waitUntil(lambda: "m" in box, timeout=WAIT)
        found = box.pop("m")
        box["last"] = found
        return len(found) == wanted

    qtbot.waitUntil(ask, timeout=WAIT)
    return box["last"]


def view_target(window):
    """The widget inside the web view that receives mouse events and drops."""
    return window.map.focusProxy() or window.map


def click_at(qtbot, window, x: float, y: float) -> None:
    """A user's click on the map page: move there, press, release (Chromium wants all three)."""
    target, point = view_target(window), QPoint(round(x), round(y))
    qtbot.wait(200)  # let the page finish laying out what it just drew
    QTest.mouseMove(target, point)
    qtbot.wait(50)
    QTest.mousePress(target, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)
    qtbot.wait(50)
    QTest.mouseRelease(target, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)


def folder_of(corpus_dir, folder, names, source=D90):
    folder.mkdir()
    return [copy_photo(corpus_dir / source, folder / name) for name in names]


def trip(window, corpus_dir, tmp_path, names) -> list[Path]:
    """Copies of a photo without GPS in the folder ``trip``, and a private undo journal."""
    from geoguess_app.core.geotag.journal import Journal

    window.geotag.journal = Journal(tmp_path / "journal.jsonl")
    return folder_of(corpus_dir, tmp_path / "trip", names)


def answer_yes(window, monkeypatch) -> list[tuple[str, str]]:
    """Every question Write GPS asks is answered Yes; the (title, text) asked, as they come."""
    asked: list[tuple[str, str]] = []
    monkeypatch.setattr(window.geotag, "confirm", lambda title, text: asked.append((title, text)) or True)
    return asked


def open_and_select_all(qtbot, window, photos: list[Path]) -> None:
    """Open the folder of ``photos`` (the first is shown), wait for every prediction, and select them
    all (Ctrl+A in the filmstrip)."""
    shown(qtbot, window, str(photos[0]), lambda: window.add_paths([str(photos[0].parent)]))
    qtbot.waitUntil(lambda: len(window.results) == len(photos), timeout=WAIT)
    window.filmstrip.setFocus()
    QTest.keySequence(window.filmstrip, "Ctrl+A")


def write_and_collect(qtbot, window, count: int) -> dict[str, str]:
    outcomes: dict[str, str] = {}
    window.photoWritten.connect(lambda path, message: outcomes.__setitem__(path, message))
    window.guesses.write_button.click()
    qtbot.waitUntil(lambda: len(outcomes) >= count, timeout=WAIT)
    qtbot.wait(200)  # nothing more comes
    return outcomes


def open_dialog(qtbot, window, folder, tmp_path, configure=None):
    """Geotag a folder in the window: its options (``configure`` changes them), then the review
    dialog once its plan is made."""
    from geoguess_app.core.geotag.journal import Journal

    window.geotag.journal = Journal(tmp_path / "journal.jsonl")
    window.geotag_folder(str(folder))
    if configure is not None:
        configure(window.geotag.options_dialog)
    window.geotag.options_dialog.plan_button.click()  # what else places the photos: as it comes
    qtbot.waitUntil(lambda: window.geotag.batch_dialog is not None, timeout=WAIT)
    dialog = window.geotag.batch_dialog
    with qtbot.waitSignal(dialog.planned, timeout=WAIT):
        pass
    return dialog


def rows_by_name(table) -> dict[str, int]:
    return {table.item(r, PHOTO).text(): r for r in range(table.rowCount())}
