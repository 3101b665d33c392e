"""The untrained stand-in: seeded, marked, made from the official files only, never over a model."""

from __future__ import annotations

import shutil

import pytest

from geoguess_app.core.errors import ModelError
from geoguess_app.core.model.files import GRIDS_FILE, PARAMS_FILE, SYMBOL_FILE, UNTRAINED_MARKER, read_marker
from geoguess_app.core.model.standin import synthesize


def test_same_seed_same_weights_other_seed_other_weights(tmp_path, reference_dir, tiny_model_dir):
    again = synthesize(tmp_path / "again", reference_dir, tiny=True, seed=7)
    other = synthesize(tmp_path / "other", reference_dir, tiny=True, seed=8)
    assert (again / PARAMS_FILE).read_bytes() == (tiny_model_dir / PARAMS_FILE).read_bytes()
    assert (other / PARAMS_FILE).read_bytes() != (tiny_model_dir / PARAMS_FILE).read_bytes()


def test_tiny_model_uses_real_cells(tiny_model_dir, reference_dir):
    real = {line.split("\t")[0]: line for line in (reference_dir / GRIDS_FILE).read_text().splitlines()}
    lines = (tiny_model_dir / GRIDS_FILE).read_text().splitlines()
    assert len(lines) == 48 and all(real[line.split("\t")[0]] == line for line in lines)
    marker = read_marker(tiny_model_dir)
    assert marker.variant == "tiny" and marker.seed == 7


def test_refuses_to_write_over_a_folder(tmp_path, reference_dir, tiny_model_dir):
    real = tmp_path / "real"
    shutil.copytree(tiny_model_dir, real)
    (real / UNTRAINED_MARKER).unlink()
    with pytest.raises(ModelError, match="holds a real model"):
        synthesize(real, reference_dir, tiny=True)
    assert not (real / UNTRAINED_MARKER).exists()
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(ModelError, match="not empty"):
        synthesize(tmp_path / "busy", reference_dir, tiny=True)


def test_source_must_be_the_official_files(tmp_path, reference_dir):
    source = tmp_path / "src"
    source.mkdir()
    shutil.copy(reference_dir / SYMBOL_FILE, source)
    (source / GRIDS_FILE).write_text((reference_dir / GRIDS_FILE).read_text().replace("8644b594", "8644b595", 1))
    with pytest.raises(ModelError, match="is not the official grids.txt"):
        synthesize(tmp_path / "out", source)
    assert not (tmp_path / "out").exists()
    with pytest.raises(ModelError, match="not found"):
        synthesize(tmp_path / "out", tmp_path / "nowhere")
