"""What goes wrong around the window, said and logged rather than crashing: an exception in a slot, a
failed background task, a folder that cannot be listed; and the start itself: the Qt binding, missing
system libraries named with their packages, the headless check mode."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QMessageBox
from window_helpers import HEIC, HOPPER, WAIT, shown


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
