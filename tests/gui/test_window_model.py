"""The model in the window: none installed (download or import offered), other weights refused with
what to do instead, an unverified model said everywhere, and the Device menu's runtimes and precision."""

from __future__ import annotations

import re

import pytest
from helpers import NEXT_STEPS, copy_photo, other_weights
from window_helpers import HOPPER, WAIT, close_window, open_window, shown

from geoguess_app.gui.main_window import MainWindow


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


def test_importing_other_weights_in_the_window_says_what_to_do_instead(qtbot, tmp_path, tiny_model_dir):
    from geoguess_app.gui.model_dialog import ModelDialog
    from geoguess_app.gui.tasks import TaskRunner

    source = other_weights(tiny_model_dir, tmp_path / "my-weights")
    tasks = TaskRunner()
    dialog = ModelDialog(tasks, tmp_path / "store", reason="")
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.import_from(str(source))
    qtbot.waitUntil(lambda: "md5" in dialog.status.text(), timeout=WAIT)
    text = dialog.status.text()
    for step in NEXT_STEPS:
        assert step in text, (step, text)
    assert str(source) in text and dialog.import_button.isEnabled()
    assert not (tmp_path / "store").exists()  # nothing imported
    tasks.shutdown()


@pytest.fixture
def unverified_window(qtbot, tiny_model_dir, tmp_path):
    """The window with a model folder that claims to be the real thing: no untrained marker, files
    not the published ones."""
    w = open_window(qtbot, other_weights(tiny_model_dir, tmp_path / "claims-to-be-real"))
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
    assert fast.isEnabled() and fast_refused("onnxruntime") is None
    with qtbot.waitSignal(window.modelReady, timeout=WAIT):
        actions["mxnet" if "mxnet" in available_runtimes() else "auto"].trigger()
    fast = window.model.fast_action
    if window.model.runtime == "mxnet":  # MXNet has no fast precision: greyed, with the reason
        assert not fast.isEnabled() and "not on MXNet" in fast.toolTip()
        with qtbot.waitSignal(window.modelReady, timeout=WAIT):  # (without MXNet: on auto already)
            next(a for a in window.model.runtime_group.actions() if a.data() == "auto").trigger()
    fast = window.model.fast_action
    assert fast.isEnabled() and not fast.isChecked()
    with qtbot.waitSignal(window.modelReady, timeout=WAIT):
        fast.trigger()
    info = window.model.engine.info
    assert (info.runtime, info.precision) == (available_runtimes()[0], "fast") and settings.PRECISION.get() == "fast"
    assert f"fast precision ({info.arithmetic})" in window.status.device_label.text()
    photo = copy_photo(corpus_dir / HOPPER, tmp_path / "hopper.jpg")
    assert shown(qtbot, window, photo, lambda: window.add_paths([str(photo)])).model.precision == "fast"
    qtbot.waitUntil(lambda: window.model.agreement is not None, timeout=WAIT)  # measured once the queue is idle
    assert re.match(
        r"Fast \((bfloat16|float32), reduced decode\) agreed with exact on \d+ of \d+ photos", window.model.agreement
    )  # maybe remembered
    assert "UNTRAINED stand-in" in window.model.agreement
    # back to exact: the photo shown is predicted again, its fast answer is not kept
    again = shown(qtbot, window, photo, fast.trigger)
    assert again.model.precision == "exact" and window.results[str(photo)] is again
    assert window.model.engine.info.precision == "exact" and window.model.agreement is None
    assert settings.PRECISION.get() == "exact" and settings.RUNTIME.get() == "auto"
