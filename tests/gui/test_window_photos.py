"""Photos into the window, driven offscreen with pytest-qt: dropped or opened, stepped through with the
arrow keys, predicted in the background (the photo looked at first, Cancel stops the rest), a damaged
photo or a hostile name shown as what it is."""

from __future__ import annotations

import json

from helpers import copy_photo
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from window_helpers import HEIC, HOPPER, WAIT, click_at, markers, shown, view_target


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
