"""Loading a model on every installed runtime: the real architecture, softmax answers that depend on
the photo, and a clear error for every damaged or mismatched file (never a silent answer)."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from geoguess_app.core.engine import available_runtimes, open_engine
from geoguess_app.core.errors import DeviceError, ModelError
from geoguess_app.core.model.classifier import parse_device
from geoguess_app.core.model.files import GRIDS_FILE, PARAMS_FILE, SYMBOL_FILE, UNTRAINED_MARKER
from geoguess_app.core.model.params import read_params, write_params
from geoguess_app.core.predict.pipeline import decode

RUNTIMES = available_runtimes()


def load(folder: Path, runtime: str):
    return open_engine(folder, "cpu", runtime=runtime).result().classifier


def _variant(src: Path, dst: Path, link_params: bool = True) -> Path:
    """A copy of a model folder (the params linked, not copied, unless asked; no ONNX graph)."""
    dst.mkdir()
    for f in src.iterdir():
        if f.suffix == ".onnx":
            continue
        if f.name == PARAMS_FILE and link_params:
            (dst / f.name).symlink_to(f)
        else:
            shutil.copyfile(f, dst / f.name)
    return dst


def _resave_params(folder: Path, change) -> None:
    params = read_params(folder / PARAMS_FILE)
    change(params)
    write_params(folder / PARAMS_FILE, params)


def test_full_model_loads_real_symbol_and_grids(full_model, full_model_dir, reference_dir):
    assert (full_model_dir / SYMBOL_FILE).read_bytes() == (reference_dir / SYMBOL_FILE).read_bytes()
    assert (full_model_dir / GRIDS_FILE).read_bytes() == (reference_dir / GRIDS_FILE).read_bytes()
    assert full_model.info.num_classes == len(full_model.grid) == 15527
    assert full_model.info.untrained and "UNTRAINED" in full_model.info.name
    assert (full_model_dir / PARAMS_FILE).stat().st_size == 297_658_751  # exactly the published layout


def test_probabilities_are_a_softmax_over_all_cells(full_model, corpus_dir):
    x = decode(corpus_dir / "Pillow/Tests/images/hopper.jpg")[1]
    probs = full_model.probabilities(np.stack([x, x[:, ::-1].copy()]))
    assert probs.shape == (2, 15527)
    assert np.allclose(probs.sum(axis=1), 1, atol=1e-4) and (probs >= 0).all()


def test_stand_in_answers_depend_on_the_photo(full_model, corpus_dir, ground_truth):
    winners, tops = [], []
    for row in ground_truth[:20]:
        prepared, tensor = decode(corpus_dir / row["path"])
        if tensor is None:
            continue
        p = full_model.probabilities(tensor[None])[0]
        winners.append(int(p.argmax()))
        tops.append(float(p.max()))
    assert len(winners) >= 15
    assert len(set(winners)) >= len(winners) // 2  # the winner changes from photo to photo
    assert 0.02 < float(np.median(tops)) < 0.9  # neither flat (1/15527) nor one-hot


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_class_count_must_match_grids(runtime, full_model_dir, tmp_path):
    folder = _variant(full_model_dir, tmp_path / "m")
    lines = (folder / GRIDS_FILE).read_text().splitlines()
    (folder / GRIDS_FILE).write_text("\n".join(lines[:-1]) + "\n")
    with pytest.raises(ModelError, match="15527 classes but grids.txt lists 15526 cells"):
        load(folder, runtime)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_truncated_params_file_is_a_clear_error(runtime, full_model_dir, tmp_path):
    folder = _variant(full_model_dir, tmp_path / "m", link_params=False)
    data = (folder / PARAMS_FILE).read_bytes()
    (folder / PARAMS_FILE).write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(ModelError, match="RN101-5k500-0012.params is truncated"):
        load(folder, runtime)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_missing_parameter_is_named(runtime, tiny_model_dir, tmp_path):
    folder = _variant(tiny_model_dir, tmp_path / "m", link_params=False)
    _resave_params(folder, lambda p: p.pop("arg:fc1_bias"))
    with pytest.raises(ModelError, match="fc1_bias is missing"):
        load(folder, runtime)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_wrong_parameter_shape_is_named(runtime, tiny_model_dir, tmp_path):
    folder = _variant(tiny_model_dir, tmp_path / "m", link_params=False)
    _resave_params(folder, lambda p: p.__setitem__("arg:conv0_weight", np.zeros((16, 3, 3, 3), np.float32)))
    with pytest.raises(ModelError, match=r"conv0_weight has shape \(16, 3, 3, 3\), the model needs \(16, 3, 7, 7\)"):
        load(folder, runtime)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_damaged_weights_never_give_silent_answers(runtime, tiny_model_dir, tmp_path):
    folder = _variant(tiny_model_dir, tmp_path / "m", link_params=False)
    _resave_params(folder, lambda p: p.__setitem__("arg:fc1_bias", p["arg:fc1_bias"] * np.float32("nan")))
    model = load(folder, runtime)
    with pytest.raises(ModelError, match="invalid numbers"):
        model.probabilities(np.zeros((1, 3, 224, 224), np.float32))


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("content", [b"", b"not json at all", b'{"nodes": []}', b"[1, 2, 3]"])
def test_broken_symbol_file(runtime, tiny_model_dir, tmp_path, content):
    folder = _variant(tiny_model_dir, tmp_path / "m")
    (folder / SYMBOL_FILE).write_bytes(content)
    with pytest.raises(ModelError, match="RN101-5k500-symbol.json"):
        load(folder, runtime)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_marker_decides_untrained(runtime, tiny_model_dir, tmp_path):
    folder = _variant(tiny_model_dir, tmp_path / "m")
    assert load(folder, runtime).info.untrained
    (folder / UNTRAINED_MARKER).write_text("garbled")
    assert load(folder, runtime).info.untrained  # an unreadable marker still counts
    (folder / UNTRAINED_MARKER).unlink()
    assert not load(folder, runtime).info.untrained


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_incomplete_folder_names_missing_files(runtime, tiny_model_dir, tmp_path):
    folder = _variant(tiny_model_dir, tmp_path / "m")
    (folder / PARAMS_FILE).unlink()
    with pytest.raises(ModelError, match="missing RN101-5k500-0012.params"):
        load(folder, runtime)


def test_device_specs():
    assert parse_device("auto") == ("auto", 0)
    assert parse_device("GPU:2") == ("gpu", 2)
    with pytest.raises(DeviceError, match="unknown device 'tpu'"):
        parse_device("tpu")
    with pytest.raises(DeviceError):
        parse_device("cpu:1")


@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="per-thread priority is Linux only")
def test_background_threads_can_yield_to_the_gui_thread(monkeypatch):
    from geoguess_app.core import threads as worker

    monkeypatch.setattr(worker, "_background_nice", 0)
    worker.lower_background_priority(3)
    compute = worker.SerialWorker("test-compute")
    own = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    theirs = compute.run(lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
    assert theirs == own + 3 or theirs == 19  # lower priority than the caller (19 is the floor)
