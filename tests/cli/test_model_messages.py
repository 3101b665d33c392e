"""What GeoGuess says when it refuses a model, and what to do next: other weights (md5 mismatch) on
the command line (the window's import: tests/gui/test_window_model.py), a stand-in made without its
reference files; and ``geoguess tag --help`` printed as written."""

from __future__ import annotations

from helpers import NEXT_STEPS, other_weights, run


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
