"""The geoguess command as a person runs it: output, JSON Lines, exit status, model commands."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from helpers import GEOGUESS, run


def test_entry_point_is_installed():
    assert GEOGUESS.exists()
    out = run("--help")
    assert out.returncode == 0 and "predict" in out.stdout and "model" in out.stdout


def test_predict_readable_output(tiny_model_dir, corpus_dir):
    photo = corpus_dir / "exif-samples/heic/IMG_5195.HEIC"
    out = run("predict", "--model-dir", tiny_model_dir, photo)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith(str(photo)) and "2566 x 3313" in lines[0] and "iPhone 11 Pro Max" in lines[0]
    assert "EXIF GPS in the photo: 39.05134, -94.28877" in out.stdout
    assert "UNTRAINED MODEL" in out.stdout and "UNTRAINED" in out.stderr
    ranks = [ln.split()[0] for ln in lines if ln.strip()[:2].strip().isdigit()]
    assert ranks == ["1", "2", "3", "4", "5"]


def test_predict_json_lines_and_exit_status(tiny_model_dir, corpus_dir, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    shutil.copy(corpus_dir / "Pillow/Tests/images/hopper.jpg", folder / "a.jpg")
    (folder / "b.jpg").write_bytes(b"\xff\xd8\xff\xe0 broken")
    shutil.copy(corpus_dir / "exif-samples/heic/IMG_5195.HEIC", folder / "c.heic")
    (folder / "notes.txt").write_text("not a photo, and not picked from a folder")
    out = run("predict", "--json", "--top-k", "3", "--model-dir", tiny_model_dir, folder)
    assert out.returncode == 1  # one photo failed
    records = [json.loads(line) for line in out.stdout.splitlines()]
    assert [Path(r["path"]).name for r in records] == ["a.jpg", "b.jpg", "c.heic"]
    a, b, c = records
    assert a["error"] is None and len(a["predictions"]) == 3 and a["exif_gps"] is None
    assert b["error"] and b["predictions"] == []
    assert c["exif_gps"]["lat"] == pytest.approx(39.05134, abs=1e-4)
    assert all(r["model"]["untrained"] for r in records)
    assert "1 of 3 photo(s) could not be read" in out.stderr


def test_model_dir_from_environment(tiny_model_dir, corpus_dir):
    out = run(
        "predict",
        "--json",
        corpus_dir / "Pillow/Tests/images/hopper.jpg",
        env_extra={"GEOGUESS_MODEL_DIR": str(tiny_model_dir)},
    )
    assert out.returncode == 0 and json.loads(out.stdout)["error"] is None


def test_no_model_installed_is_a_clear_error(tmp_path, corpus_dir):
    out = run("predict", "--model-dir", tmp_path / "none", corpus_dir / "Pillow/Tests/images/hopper.jpg")
    assert out.returncode == 2
    assert "no complete model" in out.stderr and "geoguess model download" in out.stderr
    assert "Traceback" not in out.stderr


def test_gpu_without_cuda_is_a_clear_error(tiny_model_dir, corpus_dir):
    out = run(
        "predict", "--device", "gpu", "--model-dir", tiny_model_dir, corpus_dir / "Pillow/Tests/images/hopper.jpg"
    )
    if out.returncode == 0:
        pytest.skip("this machine has a CUDA GPU")
    assert out.returncode == 2 and "GPU" in out.stderr and "Traceback" not in out.stderr


def test_model_info_synth_and_import(tmp_path, reference_dir):
    tiny = tmp_path / "tiny"
    out = run("model", "synth", tiny, "--tiny", "--seed", "5", "--source", reference_dir)
    assert out.returncode == 0, out.stderr
    assert "UNTRAINED" in out.stderr or "untrained" in out.stdout
    store = tmp_path / "store"
    out = run("model", "import", tiny, "--model-dir", store)
    assert out.returncode == 0 and "UNTRAINED" in out.stdout
    out = run("model", "info", "--model-dir", store)
    assert out.returncode == 0
    assert "UNTRAINED stand-in" in out.stdout and "Loads: 48 classes" in out.stdout
    assert "differs from the published file" in out.stdout  # the random weights are not official
    assert "GPU: not available: ONNX Runtime's CUDA build is not installed: pip install 'geoguess[gpu]'" in out.stdout
    empty = run("model", "info", "--model-dir", tmp_path / "nothing")
    assert empty.returncode == 1 and "not installed" in empty.stdout


def test_download_without_internet_fails_fast(tmp_path):
    # No internet here: the official host cannot be reached. It must fail quickly and clearly.
    out = run("model", "download", "--model-dir", tmp_path / "m", timeout=120)
    assert out.returncode == 2
    assert "cannot reach" in out.stderr or "did not answer" in out.stderr or "answered" in out.stderr
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "m").exists()  # no half model
    assert list(tmp_path.iterdir()) == []  # and no empty staging folder left behind


def test_the_shared_options_say_what_the_core_does():
    """The command line keeps --help fast by not importing the core for its defaults and choices:
    they must be the core's own."""
    from geoguess_app.cli import options
    from geoguess_app.core.engine import RUNTIMES
    from geoguess_app.core.fusion.travel import DEFAULT_MAX_GAP_H
    from geoguess_app.core.geotag.metadata import RAW_IN_FILE, SIDECAR_NAMES
    from geoguess_app.core.geotag.policy import DEFAULT_MIN_PROBABILITY
    from geoguess_app.core.geotag.staged_write import HARDLINKS

    assert options.SIDECAR_NAMES == SIDECAR_NAMES and options.RAW_IN_FILE == RAW_IN_FILE
    assert options.DEFAULT_MIN_PROBABILITY == DEFAULT_MIN_PROBABILITY
    assert options.DEFAULT_MAX_GAP_H == DEFAULT_MAX_GAP_H
    assert set(options.RUNTIME_CHOICES) == {"auto", *RUNTIMES}
    assert set(options.HARDLINK_CHOICES) == set(HARDLINKS)
