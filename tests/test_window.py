"""The real window, driven offscreen with pytest-qt: photos in, rows and map markers out."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import copy_photo
from PySide6 import QtWebEngineWidgets  # noqa: F401 - must be imported before the QApplication exists
from PySide6.QtCore import QCoreApplication, QEvent, QMimeData, QPoint, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication, QKeyEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox

QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)

from geoguess_app.gui.main_window import MainWindow  # noqa: E402
from geoguess_app.gui.map_view import result_payload  # noqa: E402

HEIC = "exif-samples/heic/IMG_5195.HEIC"  # has EXIF GPS (Kansas City area)
HOPPER = "Pillow/Tests/images/hopper.jpg"  # no GPS, 128 x 128
WAIT = 60_000


@pytest.fixture(autouse=True)
def fresh_settings():
    QSettings().clear()  # each test starts as a first run (geometry, device, last folder)


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


@pytest.fixture
def window(qtbot, tiny_model_dir):
    w = open_window(qtbot, tiny_model_dir)
    yield w
    close_window(w)


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


def test_qt_binding_keeps_reference_counts(qtbot):
    # PySide6 6.12.0 drops a reference to None on every QLabel.setWordWrap call, which aborts
    # Python once None's count runs out (pyproject.toml excludes it). The window calls it.
    from PySide6.QtWidgets import QLabel

    label = QLabel()
    qtbot.addWidget(label)
    before = sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False)
    for _ in range(1000):
        label.setWordWrap(True)
        label.setVisible(False)
    after = sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False)
    assert all(a >= b - 50 for a, b in zip(after, before)), (before, after)


def test_photo_rows_and_markers(qtbot, window, corpus_dir):
    photo = corpus_dir / HEIC
    result = shown(qtbot, window, photo, lambda: window.add_paths([str(photo)]))
    assert result.ok
    rows = window.guesses.rows()
    assert [r["rank"] for r in rows] == [1, 2, 3, 4, 5]
    assert [r["place"] for r in rows] == [g.place for g in result.predictions]
    assert rows[0]["probability"] == pytest.approx(result.predictions[0].probability)
    assert window.photo.title.text() == "IMG_5195.HEIC"
    assert "2566 x 3313 pixels" in window.photo.details.text() and "iPhone 11 Pro Max" in window.photo.details.text()
    found = markers(qtbot, window, 7)  # 5 guesses, the photo's own GPS, the write-position pin
    guesses = [m for m in found if m["kind"] == "guess"]
    exif = [m for m in found if m["kind"] == "exif"]
    for m, g in zip(guesses, result.predictions):
        assert (m["rank"], m["lat"], m["lon"]) == (g.rank, pytest.approx(g.lat), pytest.approx(g.lon))
    radii = [m["radius"] for m in guesses]
    assert radii == sorted(radii, reverse=True) and radii[0] > radii[-1]  # weighted by probability
    assert exif[0]["lat"] == pytest.approx(39.0513444, abs=1e-5) and exif[0]["radius"] != guesses[0]["radius"]
    assert window.banner.isVisible() and window.status.badge.isVisible()  # the stand-in says so
    assert_distance_label_clear_of_guesses(exif[0], guesses)


def assert_distance_label_clear_of_guesses(exif: dict, guesses: list[dict]) -> None:
    """The distance label covers no guess's circle (nor, so, its rank)."""
    box = exif["distance_label"]
    assert box["text"].endswith("km")
    for g in guesses:
        dx = max(box["left"] - g["x"], 0, g["x"] - box["right"])
        dy = max(box["top"] - g["y"], 0, g["y"] - box["bottom"])
        assert dx * dx + dy * dy > g["radius"] ** 2, (box, g)


def test_the_distance_label_never_covers_guess_1(qtbot, window, corpus_dir, monkeypatch):
    import geoguess_app.gui.map_view as map_view

    photo = corpus_dir / HEIC
    result = shown(qtbot, window, photo, lambda: window.add_paths([str(photo)]))
    first = result.predictions[0]

    def near_guess_1(r):  # the photo's own GPS a few kilometres from guess 1: a short line
        payload = result_payload(r)
        payload["exif"] = {"lat": first.lat + 0.02, "lon": first.lon + 0.03}
        return payload

    monkeypatch.setattr(map_view, "result_payload", near_guess_1)
    window.map.show_result(result)  # fitted to all five guesses: the line is short at that zoom
    qtbot.waitUntil(
        lambda: any(
            m["kind"] == "exif" and m["lat"] == pytest.approx(first.lat + 0.02) for m in markers(qtbot, window, 7)
        ),
        timeout=WAIT,
    )
    found = markers(qtbot, window, 7)
    exif = next(m for m in found if m["kind"] == "exif")
    guess = next(m for m in found if m.get("rank") == 1)
    assert abs(exif["x"] - guess["x"]) + abs(exif["y"] - guess["y"]) < 120  # the line is short here
    assert_distance_label_clear_of_guesses(exif, [m for m in found if m["kind"] == "guess"])


def test_row_and_marker_selection_follow_each_other(qtbot, window, corpus_dir):
    photo = corpus_dir / HOPPER
    shown(qtbot, window, photo, lambda: window.add_paths([str(photo)]))
    window.guesses.table.selectRow(2)
    qtbot.waitUntil(lambda: any(m["selected"] and m.get("rank") == 3 for m in markers(qtbot, window, 6)), timeout=WAIT)
    target = next(m for m in markers(qtbot, window, 6) if m.get("rank") == 5)
    click_at(qtbot, window, target["x"], target["y"])
    qtbot.waitUntil(lambda: window.guesses.selected_rank() == 5, timeout=10_000)


def test_a_guess_close_to_a_better_one_hides_its_rank_label_until_zoomed_in(qtbot, window, corpus_dir):
    photo = corpus_dir / HOPPER
    result = shown(qtbot, window, photo, lambda: window.add_paths([str(photo)]))
    payload = result_payload(result)
    best = payload["guesses"][0]
    corner = best["corners"][0]  # #5 goes half-way to a corner of #1's cell, and at least 2 km away
    near = tuple(
        c + max(abs(k - c) / 2, 0.02) * (1 if k >= c else -1)
        for c, k in ((best["lat"], corner[0]), (best["lon"], corner[1]))
    )
    payload["guesses"][4].update(lat=near[0], lon=near[1])
    window.map._run(f"geoguess.show({json.dumps(payload)})")
    qtbot.waitUntil(
        lambda: next(m for m in markers(qtbot, window, 6) if m.get("rank") == 5)["lat"] == pytest.approx(near[0]),
        timeout=WAIT,
    )
    labels = {m["rank"]: m["label"] for m in markers(qtbot, window, 6) if m["kind"] == "guess"}
    assert labels[1] and not labels[5]  # (others may also be hidden: the stand-in's guesses cluster)
    # double-clicking guess #1's row fits the map to its cell: both labels show again
    table, no = window.guesses.table, Qt.KeyboardModifier.NoModifier
    cell = table.visualRect(table.model().index(0, 2)).center()
    QTest.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, no, cell)  # a double click's first press
    QTest.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, no, cell)
    qtbot.waitUntil(lambda: all(m["label"] for m in markers(qtbot, window, 6) if m.get("rank") in (1, 5)), timeout=WAIT)


def _drop(widget, paths):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    try:
        enter = QDragEnterEvent(QPointF(20, 20), *args)  # Qt 6.12 and later
    except TypeError:
        enter = QDragEnterEvent(QPoint(20, 20), *args)
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted()
    drop = QDropEvent(
        QPointF(20, 20), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(widget, drop)
    assert drop.isAccepted()


def test_drop_a_file_on_the_window_and_a_folder_on_the_map(qtbot, window, corpus_dir, tmp_path):
    photo = corpus_dir / HOPPER
    shown(qtbot, window, photo, lambda: _drop(window, [photo]))
    folder = tmp_path / "trip"
    (folder / "day2").mkdir(parents=True)
    copy_photo(corpus_dir / HEIC, folder / "a.heic")
    copy_photo(corpus_dir / HOPPER, folder / "day2" / "b.jpg")
    (folder / "readme.txt").write_text("not a photo")
    url_before = window.map.url()
    shown(qtbot, window, folder / "a.heic", lambda: _drop(view_target(window), [folder]))
    qtbot.waitUntil(lambda: str(folder / "day2" / "b.jpg") in window.results, timeout=WAIT)
    assert window.map.url() == url_before  # the web view did not open the dropped folder
    names = [window.filmstrip.item(i).text() for i in range(window.filmstrip.count())]
    assert names == ["hopper.jpg", "a.heic", "b.jpg"]


def test_arrow_keys_go_back_instantly_with_results_kept(qtbot, window, corpus_dir):
    a, b = corpus_dir / HOPPER, corpus_dir / HEIC
    shown(qtbot, window, a, lambda: window.add_paths([str(a), str(b)]))
    qtbot.waitUntil(lambda: str(b) in window.results, timeout=WAIT)
    window.activateWindow()
    window.filmstrip.setFocus()
    right = shown(qtbot, window, b, lambda: QTest.keyClick(window.filmstrip, Qt.Key.Key_Right))
    left = shown(qtbot, window, a, lambda: QTest.keyClick(window.filmstrip, Qt.Key.Key_Left))
    assert right is window.results[str(b)] and left is window.results[str(a)]  # not predicted again


def test_copy_selected_place(qtbot, window, corpus_dir):
    photo = corpus_dir / HOPPER
    result = shown(qtbot, window, photo, lambda: window.add_paths([str(photo)]))
    window.guesses.table.selectRow(1)
    QTest.keyClick(window, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    g = result.predictions[1]
    text = QGuiApplication.clipboard().text()
    assert text.startswith(f"{g.lat:.6f}, {g.lon:.6f}") and g.place in text


def test_bad_photo_is_a_message_not_a_crash(qtbot, window, tmp_path):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 50)
    result = shown(qtbot, window, bad, lambda: window.add_paths([str(bad)]))
    assert not result.ok
    assert "broken.jpg cannot be read" in window.guesses.message.text()
    assert window.guesses.rows() == []
    assert markers(qtbot, window, 0) == []


def test_names_from_files_are_shown_as_text(qtbot, window, corpus_dir, tmp_path):
    name = "<img src=x onerror=alert(1)>.jpg"
    photo = tmp_path / name
    copy_photo(corpus_dir / "exiv2/test/data/exiv2-bug2565.jpg", photo)  # a photo with EXIF GPS
    shown(qtbot, window, photo, lambda: window.add_paths([str(photo)]))
    assert window.photo.title.text() == name and window.photo.title.textFormat() == Qt.TextFormat.PlainText
    window.map.page().runJavaScript("window.alerted = 0; window.alert = function () { window.alerted++; };")
    exif = next(m for m in markers(qtbot, window, 7) if m["kind"] == "exif")
    click_at(qtbot, window, exif["x"], exif["y"])
    box = {}
    probe = (
        "JSON.stringify({popup: (document.querySelector('.leaflet-popup-content') || {}).textContent || '',"
        " imgs: document.querySelectorAll('img[src=\"x\"]').length, alerted: window.alerted})"
    )

    def popup_shows_name():
        window.map.page().runJavaScript(probe, 0, lambda t: box.update(json.loads(t)))
        return name in box.get("popup", "")

    qtbot.waitUntil(popup_shows_name, timeout=10_000)
    assert box["imgs"] == 0 and box["alerted"] == 0


def test_model_missing_offers_download_and_import(qtbot, tmp_path, tiny_model_dir):
    w = MainWindow(tmp_path / "no-model", device="cpu", online_tiles=False, ask_for_model=True)
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.modelFailed, timeout=WAIT):
        w.show()
    dialog = w.model.dialog
    qtbot.waitUntil(dialog.isVisible, timeout=WAIT)
    assert not dialog.cancel_button.isVisible() and not dialog.progress.isVisible()  # nothing to cancel yet
    folder = str(tmp_path / "no-model")
    assert dialog.reason.text() == "No model installed." and dialog.target.text() == f"Model folder: {folder}"
    dialog.download_button.click()  # no internet here: it must fail quickly and say so
    qtbot.waitUntil(
        lambda: "cannot reach" in dialog.status.text() or "did not answer" in dialog.status.text(), timeout=WAIT
    )
    assert "geoguess model import" not in dialog.status.text()  # the window's own button is named instead
    assert dialog.download_button.isEnabled() and not (tmp_path / "no-model").exists()
    with qtbot.waitSignal(w.modelReady, timeout=WAIT):
        dialog.import_from(str(tiny_model_dir))
    assert not dialog.isVisible() and w.banner.isVisible()
    # Model > Import folder... with a model loaded: it says one is installed; cancelling closes it all
    from PySide6.QtWidgets import QFileDialog

    asked = []

    def no_folder(*args):
        asked.append(args)
        return ""

    QFileDialog.getExistingDirectory, real = no_folder, QFileDialog.getExistingDirectory
    try:
        w.model.import_model()
    finally:
        QFileDialog.getExistingDirectory = real
    assert asked and not w.model.dialog.isVisible()
    assert "A model is installed" in w.model.dialog.intro.text()
    w.close()


def test_uncaught_exception_is_shown_and_logged(qtbot, window, tmp_path):
    from geoguess_app.gui.app import install_excepthook

    log_file = tmp_path / "geoguess.log"
    saved = sys.excepthook
    try:
        import logging

        handler = logging.FileHandler(log_file)
        logging.getLogger().addHandler(handler)
        install_excepthook(log_file)
        try:
            raise RuntimeError("boom in a slot")
        except RuntimeError:
            sys.excepthook(*sys.exc_info())
        qtbot.waitUntil(
            lambda: any(isinstance(t, QMessageBox) and t.isVisible() for t in QApplication.topLevelWidgets()),
            timeout=WAIT,
        )
        box = next(t for t in QApplication.topLevelWidgets() if isinstance(t, QMessageBox) and t.isVisible())
        assert "boom in a slot" in box.text()
        box.close()
        handler.flush()
        assert "boom in a slot" in log_file.read_text()
    finally:
        sys.excepthook = saved
        logging.getLogger().removeHandler(handler)
        handler.close()


def error_box(qtbot, title: str) -> QMessageBox:
    """The error box with this title, once it is on screen."""

    def find():
        return next(
            (
                t
                for t in QApplication.topLevelWidgets()
                if isinstance(t, QMessageBox) and t.isVisible() and t.windowTitle() == title
            ),
            None,
        )

    qtbot.waitUntil(lambda: find() is not None, timeout=WAIT)
    return find()


@pytest.fixture
def tasks(qtbot):
    """A TaskRunner owned by a widget, as the window's is."""
    from PySide6.QtWidgets import QWidget

    from geoguess_app.gui.tasks import TaskRunner

    owner = QWidget()
    qtbot.addWidget(owner)
    runner = TaskRunner(owner)
    yield runner
    runner.shutdown()


def test_a_failed_task_is_shown_and_logged_unless_told_otherwise(qtbot, tasks, caplog):
    import logging
    import threading

    from geoguess_app.core.errors import GeoGuessError

    def fail(error):
        raise error

    succeeded, handled = [], []
    with caplog.at_level(logging.INFO):
        tasks.run(fail, RuntimeError("disk on fire"), on_success=succeeded.append, failure_title="Could not do it")
        box = error_box(qtbot, "Could not do it")
        assert "disk on fire" in box.text() and not succeeded
        assert box.parentWidget() is tasks.parent()  # over the widget that owns the runner
        box.close()
        record = next(r for r in caplog.records if "disk on fire" in r.getMessage())
        assert record.levelno == logging.ERROR and record.exc_info  # unexpected: with its traceback
        # An expected failure (a GeoGuessError) is shown too, and logged as a warning without a traceback.
        tasks.run(fail, GeoGuessError("the photo is read-only"), failure_title="Not written")
        box = error_box(qtbot, "Not written")
        assert "the photo is read-only" in box.text()
        box.close()
        record = next(r for r in caplog.records if "the photo is read-only" in r.getMessage())
        assert record.levelno == logging.WARNING and not record.exc_info
        # A failure handler of its own replaces that: no box, nothing logged by the runner.
        caplog.clear()
        tasks.run(fail, ValueError("handled here"), on_failure=handled.append, failure_title="Must not show")
        qtbot.waitUntil(lambda: bool(handled), timeout=WAIT)
        # And success hands the result over on the GUI thread.
        tasks.run(lambda: 6 * 7, on_success=lambda v: succeeded.append((v, threading.current_thread())))
        qtbot.waitUntil(lambda: bool(succeeded), timeout=WAIT)
    assert isinstance(handled[0], ValueError) and str(handled[0]) == "handled here"
    assert succeeded == [(42, threading.main_thread())]
    assert not any(
        isinstance(t, QMessageBox) and t.isVisible() and t.windowTitle() == "Must not show"
        for t in QApplication.topLevelWidgets()
    )
    assert not [r for r in caplog.records if "handled here" in r.getMessage()]


def test_a_folder_that_cannot_be_listed_is_an_error_message(qtbot, window, tmp_path, corpus_dir, caplog):
    # Listing used to raise in its callback, which left the error to the excepthook (and pytest-qt
    # fails a test on an exception in a slot).
    import logging

    too_long = tmp_path / ("x" * 300)  # longer than any file name may be
    with caplog.at_level(logging.INFO):
        window.add_paths([str(too_long)])
        box = error_box(qtbot, "The photos could not be opened")
    assert "File name too long" in box.text()
    assert any("File name too long" in r.getMessage() for r in caplog.records)
    box.close()
    assert window.filmstrip.count() == 0
    photo = corpus_dir / HOPPER  # the window goes on working
    shown(qtbot, window, photo, lambda: window.add_paths([str(photo)]))


def test_headless_check_mode(tiny_model_dir, corpus_dir, tmp_path):
    out = tmp_path / "shot.png"
    exe = Path(sys.executable).parent / "geoguess-app"
    run = subprocess.run(
        [
            str(exe),
            str(corpus_dir / HEIC),
            "--model-dir",
            str(tiny_model_dir),
            "--offline-map",
            "--screenshot",
            str(out),
            "--timeout",
            "120",
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    record = json.loads(run.stdout.strip().splitlines()[-1])
    assert record["photo"]["name"] == "IMG_5195.HEIC" and record["model"]["untrained"] is True
    assert len(record["rows"]) == 5
    assert [m["kind"] for m in record["markers"]].count("guess") == 5
    assert all({"lat", "lon", "radius"} <= set(m) for m in record["markers"])
    assert out.stat().st_size > 20_000
    assert record["window_icon"] is True
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"nothing")
    run = subprocess.run(
        [
            str(exe),
            str(bad),
            "--model-dir",
            str(tiny_model_dir),
            "--offline-map",
            "--screenshot",
            str(tmp_path / "bad.png"),
            "--timeout",
            "120",
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 1 and "bad.jpg" in run.stderr and not (tmp_path / "bad.png").exists()


def test_queue_shows_progress_and_cancel_stops_it(qtbot, window, corpus_dir, tmp_path):
    photos = []
    for i in range(12):
        p = tmp_path / f"p{i:02d}.jpg"
        copy_photo(corpus_dir / "exiv2/test/data/exiv2-bug2565.jpg", p)  # 12 megapixels each
        photos.append(p)
    with qtbot.waitSignal(window.queue.resultReady, timeout=WAIT):
        window.add_paths([str(tmp_path)])
    assert window.status.progress.isVisible() and window.status.cancel_button.isVisible()
    assert window.status.progress.maximum() == 12
    with qtbot.waitSignal(window.queue.idle, timeout=WAIT):
        window.status.cancel_button.click()
    done = len(window.results)
    assert 1 <= done < 12  # what was done is kept; the rest was not predicted
    qtbot.wait(500)
    assert len(window.results) == done and not window.status.progress.isVisible()
    assert window.filmstrip.count() == 12  # still listed; choosing one predicts it then
    last = str(photos[-1])
    assert last not in window.results
    shown(qtbot, window, last, lambda: window.select_path(last))
    assert window.results[last].ok


@pytest.fixture
def photo_to_write(qtbot, window, corpus_dir, tmp_path, monkeypatch, exiftool_cli):
    """A photo without GPS shown in the window, a private undo journal, and every question answered
    Yes (the questions asked are collected in window.questions)."""
    from geoguess_app.core.geotag.journal import Journal

    photo = tmp_path / "d90.jpg"
    copy_photo(corpus_dir / "metadata-extractor-images/jpg/Nikon D90.jpg", photo)
    window.geotag.journal = Journal(tmp_path / "journal.jsonl")
    window.questions = []
    monkeypatch.setattr(window.geotag, "confirm", lambda title, text: window.questions.append(text) or True)
    return photo, shown(qtbot, window, photo, lambda: window.add_paths([str(photo)]))


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


@pytest.fixture
def unverified_window(qtbot, tiny_model_dir, tmp_path):
    """The window with a model folder that claims to be the real thing: no untrained marker, files
    not the published ones."""
    import shutil

    from geoguess_app.core.model.files import MODEL_FILES

    folder = tmp_path / "claims-to-be-real"
    folder.mkdir()
    for name in MODEL_FILES:
        shutil.copy(tiny_model_dir / name, folder)
    w = open_window(qtbot, folder)
    yield w
    close_window(w)


def test_an_unverified_model_is_shown_as_such(qtbot, unverified_window, tmp_path, corpus_dir, monkeypatch):
    w = unverified_window
    folder = tmp_path / "claims-to-be-real"
    assert w.status.badge.isVisible() and w.status.badge.text() == "UNVERIFIED"
    assert w.banner.isVisible() and "UNVERIFIED MODEL" in w.banner.text() and str(folder) in w.banner.text()
    assert "unverified" in w.status.model_label.text()
    photo = copy_photo(corpus_dir / HOPPER, tmp_path / "hopper.jpg")
    original = photo.read_bytes()
    asked = []
    monkeypatch.setattr(w.geotag, "confirm", lambda title, text: asked.append(title) or False)
    shown(qtbot, w, photo, lambda: w.add_paths([str(photo)]))
    with qtbot.waitSignal(w.photoWritten, timeout=WAIT) as written:
        w.guesses.write_button.click()
    assert asked == ["Unverified model"] and written.args[1] == "cancelled" and photo.read_bytes() == original


def test_a_photo_with_two_names_is_written_as_the_person_chooses(qtbot, window, photo_to_write, monkeypatch):
    import os

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


def test_the_device_menu_chooses_the_runtime_and_the_fast_precision(qtbot, window, corpus_dir, tmp_path):
    from geoguess_app.core.engine import available_runtimes, fast_refused
    from geoguess_app.gui import settings

    actions = {a.data(): a for a in window.model.runtime_group.actions()}
    assert set(actions) == {"auto", "openvino", "onnxruntime", "mxnet"} and actions["auto"].isChecked()
    for name in ("openvino", "onnxruntime", "mxnet"):  # one not installed says what installs it
        installed = name in available_runtimes()
        assert actions[name].isEnabled() == installed
        assert installed or ("not installed" in actions[name].text() and "pip install" in actions[name].toolTip())
    with qtbot.waitSignal(window.modelReady, timeout=WAIT):
        actions["onnxruntime"].trigger()
    assert window.model.engine.info.runtime == "onnxruntime" and settings.RUNTIME.get() == "onnxruntime"
    assert window.status.device_label.text() == "Device: cpu (ONNX Runtime)"
    fast = window.model.fast_action
    refused = fast_refused()
    if refused is not None:  # a CPU without bfloat16, or no OpenVINO: greyed, with the reason
        assert not fast.isEnabled() and fast.toolTip() == refused
        return
    assert not fast.isEnabled() and "runs on OpenVINO, not on ONNX Runtime" in fast.toolTip()
    with qtbot.waitSignal(window.modelReady, timeout=WAIT):
        next(a for a in window.model.runtime_group.actions() if a.data() == "auto").trigger()
    fast = window.model.fast_action
    assert fast.isEnabled() and not fast.isChecked()
    with qtbot.waitSignal(window.modelReady, timeout=WAIT):
        fast.trigger()
    info = window.model.engine.info
    assert (info.runtime, info.precision) == ("openvino", "fast") and settings.PRECISION.get() == "fast"
    assert "fast precision (bfloat16)" in window.status.device_label.text()
    photo = copy_photo(corpus_dir / HOPPER, tmp_path / "hopper.jpg")
    assert shown(qtbot, window, photo, lambda: window.add_paths([str(photo)])).model.precision == "fast"
    qtbot.waitUntil(lambda: window.model.agreement is not None, timeout=WAIT)  # measured once the queue is idle
    assert re.match(r"Fast agreed with exact on \d+ of \d+ photos", window.model.agreement)  # maybe remembered
    assert "UNTRAINED stand-in" in window.model.agreement
    # back to exact: the photo shown is predicted again, its fast answer is not kept
    again = shown(qtbot, window, photo, fast.trigger)
    assert again.model.precision == "exact" and window.results[str(photo)] is again
    assert window.model.engine.info.precision == "exact" and window.model.agreement is None
    assert settings.PRECISION.get() == "exact" and settings.RUNTIME.get() == "auto"


def test_the_photo_looked_at_is_shown_at_once_and_predicted_first(qtbot, window, corpus_dir, tmp_path):
    photos = []
    for i in range(12):
        p = tmp_path / f"p{i:02d}.jpg"
        copy_photo(corpus_dir / "exiv2/test/data/exiv2-bug2565.jpg", p)  # 12 megapixels each
        photos.append(str(p))
    with qtbot.waitSignal(window.queue.resultReady, timeout=WAIT):
        window.add_paths([str(tmp_path)])
    last = photos[-1]
    window.select_path(last)  # stepping onto a photo far down the queue
    assert window.windowTitle() == "p11.jpg - GeoGuess"
    qtbot.waitUntil(lambda: window.photo.image._pixmap is not None, timeout=WAIT)
    assert last not in window.results and window.photo.details.text() == "waiting for its prediction..."
    result = shown(qtbot, window, last, lambda: None)
    assert result.ok and len(window.results) <= 8  # only the photos already being decoded came first
    with qtbot.waitSignal(window.queue.idle, timeout=WAIT):
        pass
    assert sorted(window.results) == photos  # and every photo once


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


def test_both_map_scales_hold_their_labels(qtbot, window, corpus_dir):
    shown(qtbot, window, corpus_dir / HOPPER, lambda: window.add_paths([str(corpus_dir / HOPPER)]))
    box = {}
    script = """(function () {
      var map = window[Object.keys(window).find(function (k) { return k.indexOf("map_") === 0; })];
      var seen = [];
      [20, 40, 60].forEach(function (lat) { for (var z = 1; z <= 12; z++) {
        map.setView([lat, 10], z, { animate: false });
        document.querySelectorAll(".leaflet-control-scale-line").forEach(function (e) {
          seen.push([e.textContent, e.scrollWidth <= e.clientWidth]);
        });
      } });
      return JSON.stringify(seen);
    })()"""
    window.map.page().runJavaScript(script, 0, lambda value: box.__setitem__("lines", json.loads(value)))
    qtbot.waitUntil(lambda: "lines" in box, timeout=WAIT)
    units = {text.split()[-1] for text, _ in box["lines"]}
    assert {"km", "mi"} <= units and len(box["lines"]) == 2 * 3 * 12
    cut = [text for text, fits in box["lines"] if not fits]
    assert not cut, cut  # "1000 mi" was cut to "1000 m"


def test_missing_system_libraries_are_named_with_their_packages(tmp_path):
    """Qt names one library (often the wrong one) and aborts; GeoGuess names every missing one and
    the packages that hold them, before Qt starts. A stand-in ldd says two are not found."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "ldd").write_text(
        "#!/bin/sh\n"
        "echo '\tlibxcb-icccm.so.4 => not found'\n"
        "echo '\tlibxcb-keysyms.so.1 => not found'\n"
        "echo '\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x0)'\n"
    )
    (fake / "ldd").chmod(0o755)
    env = {**os.environ, "PATH": f"{fake}:{os.environ['PATH']}", "QT_QPA_PLATFORM": "xcb", "DISPLAY": ":404"}
    env.pop("WAYLAND_DISPLAY", None)
    app = Path(sys.executable).parent / "geoguess-app"
    out = subprocess.run([str(app)], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 1
    assert "libxcb-icccm.so.4, libxcb-keysyms.so.1" in out.stderr
    assert "sudo apt install libxcb-icccm4 libxcb-keysyms1" in out.stderr
    assert "sudo dnf install xcb-util-keysyms xcb-util-wm" in out.stderr


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


def test_one_position_into_several_selected_photos_and_one_undo(
    qtbot, window, corpus_dir, tmp_path, monkeypatch, exiftool_cli
):
    from geoguess_app.core.geotag.journal import Journal
    from geoguess_app.core.geotag.metadata import read_metadata

    folder = tmp_path / "trip"
    folder.mkdir()
    a = copy_photo(corpus_dir / "metadata-extractor-images/jpg/Nikon D90.jpg", folder / "a.jpg")
    b = copy_photo(corpus_dir / "metadata-extractor-images/jpg/Nikon D90.jpg", folder / "b.jpg")
    own = copy_photo(corpus_dir / "exiv2/test/data/exiv2-bug2565.jpg", folder / "c-own-gps.jpg")
    locked = copy_photo(corpus_dir / "metadata-extractor-images/jpg/Nikon D90.jpg", folder / "d-read-only.jpg")
    locked.chmod(0o444)
    before = {p: p.read_bytes() for p in (a, b, own, locked)}
    window.geotag.journal = Journal(tmp_path / "journal.jsonl")
    asked = []
    monkeypatch.setattr(window.geotag, "confirm", lambda title, text: asked.append((title, text)) or True)
    shown(qtbot, window, str(a), lambda: window.add_paths([str(folder)]))
    qtbot.waitUntil(lambda: len(window.results) == 4, timeout=WAIT)
    window.filmstrip.setFocus()
    QTest.keySequence(window.filmstrip, "Ctrl+A")
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


def test_the_offline_map_names_towns_once_close_enough_without_piling_them_up(qtbot, window):
    from geoguess_app.core.geo.search import shared_search

    shared_search().load()  # built in the background at start-up; here, surely before the map asks

    def labels_at(lat: float, lon: float, zoom: int, expected: str | None = "Lausanne") -> list[str]:
        window.map.fly_to(lat, lon, zoom)
        box = {}

        def drawn():  # the page asks GeoGuess for the view's places once it has moved, then draws them
            box.pop("labels", None)
            window.map.page().runJavaScript(
                "JSON.stringify(geoguess.placeLabels())", 0, lambda text: box.__setitem__("labels", json.loads(text))
            )
            qtbot.waitUntil(lambda: "labels" in box, timeout=WAIT)
            return expected is None or expected in box["labels"]

        qtbot.wait(300)
        qtbot.waitUntil(drawn, timeout=WAIT)
        return box["labels"]

    assert labels_at(46.52, 6.63, 3, expected=None) == []  # the whole world: the basemap alone
    close = labels_at(46.52, 6.63, 11)  # Lausanne and its neighbours
    assert "Lausanne" in close and 5 <= len(close) <= 300
    assert len(close) == len(set(close)) or len(close) - len(set(close)) < 3  # namesakes aside
    region = labels_at(46.52, 6.63, 8, expected="Genève")  # the view moved: its own labels
    assert "Genève" in region and "Lausanne" in region and len(region) < 150  # thinned: no pile of labels
    box = {}
    window.map.page().runJavaScript("geoguess.placesOverlapping()", 0, lambda n: box.__setitem__("n", n))
    qtbot.waitUntil(lambda: "n" in box, timeout=WAIT)
    assert box["n"] == 0  # no name drawn over another


def test_the_offline_map_draws_lakes_and_fine_coasts_at_a_cells_zoom(qtbot, window):
    def basemap_at(lat: float, lon: float, zoom: int, probe: tuple[float, float]) -> dict:
        window.map.fly_to(lat, lon, zoom)
        box = {}

        def drawn():  # the detail is loaded the first time it is needed, then drawn
            box.pop("b", None)
            window.map.page().runJavaScript(
                f"JSON.stringify(geoguess.basemap({probe[0]}, {probe[1]}))",
                0,
                lambda t: box.__setitem__("b", json.loads(t)),
            )
            qtbot.waitUntil(lambda: "b" in box, timeout=WAIT)
            return zoom < 5 or box["b"]["countries"] == "10m"

        qtbot.wait(300)
        qtbot.waitUntil(drawn, timeout=WAIT)
        return box["b"]

    world = basemap_at(46.45, 6.55, 3, (46.45, 6.55))
    assert world == {"countries": "50m", "water_tiles": [], "water_shapes": 0, "water_here": 0}  # light far out
    lake = basemap_at(46.45, 6.55, 9, (46.45, 6.55))  # Lake Geneva, between Lausanne and Évian
    assert lake["countries"] == "10m" and "0_4" in lake["water_tiles"] and lake["water_here"] >= 1
    assert lake["water_shapes"] > 50
    land = basemap_at(46.45, 6.55, 9, (46.80, 7.15))  # Fribourg, on land: no lake there
    assert land["water_here"] == 0
    window.map.fly_to(35.0, 135.9, 9)  # Lake Biwa: the tiles follow the view
    qtbot.wait(300)
    biwa = basemap_at(35.25, 136.1, 9, (35.25, 136.1))
    assert "13_3" in biwa["water_tiles"] and "0_4" not in biwa["water_tiles"] and biwa["water_here"] >= 1


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


def test_filmstrip_names_line_up_and_fit_about_twenty_characters(qtbot, window, corpus_dir, tmp_path):
    folder = tmp_path / "names"
    folder.mkdir()
    copy_photo(corpus_dir / "metadata-extractor-images/jpg/Nikon D90.jpg", folder / "medium_name_2019.jpg")
    copy_photo(corpus_dir / HOPPER, folder / "x.jpg")  # square; the other is 3:2
    with qtbot.waitSignal(window.queue.idle, timeout=WAIT):
        window.add_paths([str(folder)])
    strip = window.filmstrip
    rects = [strip.visualItemRect(strip.item(row)) for row in range(strip.count())]
    assert len({(r.top(), r.height()) for r in rects}) == 1  # every name at the same height
    icons = {strip.item(row).icon().availableSizes()[0].toTuple() for row in range(strip.count())}
    assert len(icons) == 1  # thumbnails of any shape in icons of one size
    assert min(r.width() for r in rects) >= strip.fontMetrics().horizontalAdvance("medium_name_2019.jpg")
