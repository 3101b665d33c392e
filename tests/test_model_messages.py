"""What GeoGuess says when it refuses a model, and what to do next: other weights (md5 mismatch) in
the window's import and on the command line, a stand-in made without its reference files; and
``geoguess tag --help`` printed as written."""

from __future__ import annotations

import shutil

from test_cli import run
from test_window import WAIT, fresh_settings  # noqa: F401 - fresh_settings: autouse

NEXT_STEPS = ("--model-dir", "GEOGUESS_MODEL_DIR", "geoguess model synth")


def other_weights(tiny_model_dir, folder):
    """A complete model folder that is neither the published files nor a marked stand-in."""
    from geoguess_app.core.model.files import MODEL_FILES

    folder.mkdir()
    for name in MODEL_FILES:
        shutil.copy(tiny_model_dir / name, folder)
    return folder


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


def test_importing_other_weights_on_the_command_line_says_what_to_do_instead(tmp_path, tiny_model_dir):
    source = other_weights(tiny_model_dir, tmp_path / "my-weights")
    out = run("model", "import", source, "--model-dir", tmp_path / "store")
    assert out.returncode != 0 and "md5 mismatch" in out.stderr
    for step in NEXT_STEPS:
        assert step in out.stderr, (step, out.stderr)


def test_synth_without_source_says_where_the_reference_files_are_expected(tmp_path):
    from geoguess_app.core.model.store import default_model_dir

    for tiny, needed in ((False, ("RN101-5k500-symbol.json", "grids.txt")), (True, ("grids.txt",))):
        out = run("model", "synth", tmp_path / f"out-{tiny}", *(["--tiny"] if tiny else []))
        assert out.returncode != 0
        message = out.stderr
        assert str(default_model_dir()) in message and "--source" in message, message
        for name in needed:
            assert name in message, (name, message)
        assert "Traceback" not in message


def test_tag_help_says_percent_once():
    out = run("tag", "--help")
    text = " ".join(out.stdout.split())  # as the terminal shows it, lines joined
    assert out.returncode == 0 and "with its 90% radius" in text and "%%" not in text
