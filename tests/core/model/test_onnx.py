"""The published model on ONNX Runtime: the .params file read without MXNet, the ONNX graph made
from the published files, and its answers against MXNet's on corpus photos."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from helpers import corpus_batch

from geoguess_app.core.errors import DeviceError, ModelError
from geoguess_app.core.model.files import PARAMS_FILE
from geoguess_app.core.model.params import read_params

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def recorded_sources(path) -> dict:
    """What an ONNX file's own metadata says it was made from."""
    props = {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}
    return json.loads(props["geoguess.sources"])


def test_params_read_without_mxnet_are_mxnets_arrays(mxnet_runtime, tiny_model_dir, tmp_path):
    from geoguess_app.core.model.mxnet.importer import mxnet

    ours = read_params(tiny_model_dir / PARAMS_FILE)
    theirs = mxnet().nd.load(str(tiny_model_dir / PARAMS_FILE))
    assert set(ours) == set(theirs) and all(n.startswith(("arg:", "aux:")) for n in ours)
    for name, array in theirs.items():
        assert ours[name].dtype == array.dtype and np.array_equal(ours[name], array.asnumpy()), name
    # and a file MXNet itself wrote, as the published one was
    saved = {"arg:w": np.arange(24, dtype=np.float32).reshape(2, 3, 4), "aux:m": np.array([1.5, -2], np.float64)}
    mxnet().nd.save(str(tmp_path / "theirs.params"), {k: mxnet().nd.array(v, dtype=v.dtype) for k, v in saved.items()})
    back = read_params(tmp_path / "theirs.params")
    assert all(back[k].dtype == v.dtype and np.array_equal(back[k], v) for k, v in saved.items())
    data = (tiny_model_dir / PARAMS_FILE).read_bytes()
    (tmp_path / "cut.params").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError, match="truncated"):
        read_params(tmp_path / "cut.params")
    (tmp_path / "other.params").write_bytes(b"\x00" * 64)
    with pytest.raises(ModelError, match="not an MXNet parameter file"):
        read_params(tmp_path / "other.params")


def test_the_onnx_graph_is_made_once_and_again_when_the_files_change(tiny_model_dir, tmp_path):
    from geoguess_app.core.model.onnx.convert import ONNX_FILE, ensure_onnx, sources

    folder = tmp_path / "model"
    shutil.copytree(tiny_model_dir, folder)
    (folder / ONNX_FILE).unlink(missing_ok=True)
    path = ensure_onnx(folder)
    assert path == folder / ONNX_FILE and recorded_sources(path) == sources(folder)
    onnx.checker.check_model(str(path))
    stamp = path.stat().st_mtime_ns
    assert ensure_onnx(folder) == path and path.stat().st_mtime_ns == stamp  # reused as it is
    params = read_params(folder / PARAMS_FILE)
    assert recorded_sources(path)[PARAMS_FILE] == sources(folder)[PARAMS_FILE]
    with open(folder / PARAMS_FILE, "r+b") as f:  # other weights: a byte of the first array changes
        f.seek(60)
        byte = f.read(1)
        f.seek(60)
        f.write(bytes([byte[0] ^ 0x40]))
    assert read_params(folder / PARAMS_FILE).keys() == params.keys()
    remade = ensure_onnx(folder)
    assert remade == path and recorded_sources(remade) == sources(folder) and path.stat().st_mtime_ns != stamp
    # a graph beside the model that GeoGuess did not make (here: changed since) is not trusted, whatever
    # its own metadata says: it is made again
    with open(path, "ab") as f:
        f.write(b"\0")
    again = path.stat().st_mtime_ns
    assert ensure_onnx(folder) == path and path.stat().st_mtime_ns != again
    onnx.checker.check_model(str(path))


def test_damaged_files_are_errors_not_tracebacks(tiny_model_dir, tmp_path):
    import json
    import struct

    from geoguess_app.core.model.onnx.convert import ensure_onnx

    header = struct.pack("<QQQ", 0x112, 0, 1)
    negative = header + struct.pack("<Iiiqq", 0xF993FAC9, 0, 2, -1, -1)
    (tmp_path / "negative.params").write_bytes(negative)
    with pytest.raises(ModelError, match="negative size"):
        read_params(tmp_path / "negative.params")
    (tmp_path / "many.params").write_bytes(struct.pack("<QQQ", 0x112, 0, 10**9) + b"\0" * 64)
    with pytest.raises(ModelError, match="damaged"):
        read_params(tmp_path / "many.params")
    folder = tmp_path / "model"
    shutil.copytree(tiny_model_dir, folder)
    symbol = json.loads((folder / "RN101-5k500-symbol.json").read_text())
    conv = next(n for n in symbol["nodes"] if n["op"] == "Convolution")
    key = "attrs" if "attrs" in conv else "attr" if "attr" in conv else "param"
    conv.setdefault(key, {})["num_group"] = "x"
    (folder / "RN101-5k500-symbol.json").write_text(json.dumps(symbol))
    with pytest.raises(ModelError, match="cannot be made into an ONNX graph"):
        ensure_onnx(folder)


def test_openvino_keeps_each_graph_compiled_apart_and_answers_alike_from_it(
    tiny_model_dir, reference_dir, tmp_path, corpus_dir
):
    pytest.importorskip("openvino")
    from geoguess_app.core.model.onnx.convert import ONNX_FILE
    from geoguess_app.core.model.onnx.runtime_ov import OpenVinoNet
    from geoguess_app.core.model.store import cache_path, cached_md5

    batch = corpus_batch(corpus_dir, 4)
    first = OpenVinoNet.load(tiny_model_dir, "cpu").probabilities(batch)
    kept = cache_path("openvino") / cached_md5(tiny_model_dir / ONNX_FILE)
    assert any(kept.iterdir())  # the compiled model, kept under the graph's md5
    assert np.array_equal(OpenVinoNet.load(tiny_model_dir, "cpu").probabilities(batch), first)  # from it

    from geoguess_app.core.model.standin import synthesize

    other = synthesize(tmp_path / "model", reference_dir, tiny=True, seed=8)  # other weights
    changed = OpenVinoNet.load(other, "cpu").probabilities(batch)
    assert (
        cached_md5(other / ONNX_FILE) != kept.name and (cache_path("openvino") / cached_md5(other / ONNX_FILE)).is_dir()
    )
    assert not np.array_equal(changed, first)  # never the old graph's compiled form


@pytest.mark.parametrize("runtime", ["onnxruntime", "openvino"])
def test_each_runtime_answers_as_mxnet_does(runtime, tiny_model_dir, tiny_mxnet, corpus_dir):
    from geoguess_app.core.engine import available_runtimes, open_engine

    if runtime not in available_runtimes():
        pytest.skip(f"{runtime} is not installed")
    engine = open_engine(tiny_model_dir, "cpu", runtime=runtime).result()
    assert engine.info.runtime == runtime and engine.info.untrained and engine.info.device == "cpu"
    batch = corpus_batch(corpus_dir, 8)
    ours, reference = engine.classifier.probabilities(batch), tiny_mxnet.probabilities(batch)
    assert ours.shape == reference.shape == (8, len(engine.classifier.grid))
    assert np.abs(ours - reference).max() < 1e-5
    assert all((np.argsort(-a)[:5] == np.argsort(-b)[:5]).all() for a, b in zip(ours, reference))


@pytest.mark.slow
def test_full_size_runtimes_are_as_exact_as_mxnet(full_model_dir, full_mxnet, corpus_dir):
    """On the real architecture (random weights) every fp32 runtime is compared with the same network
    computed in float64 by MXNet: each is within 3e-4 of it, as MXNet's own float32 is (peaked random
    outputs: 1.7-2.4e-4 over 40 photos, bench/bench_runtimes.py), with the same top 5 as MXNet."""
    from geoguess_app.core.engine import available_runtimes, open_engine
    from geoguess_app.core.model.mxnet.importer import mxnet

    mx = mxnet()
    batch = corpus_batch(corpus_dir, 6)
    theirs = full_mxnet.probabilities(batch)
    symbol = mx.sym.load(str(full_model_dir / "RN101-5k500-symbol.json"))
    params = mx.nd.load(str(full_model_dir / PARAMS_FILE))
    args = {k[4:]: v.astype("float64") for k, v in params.items() if k.startswith("arg:")}
    aux = {k[4:]: v.astype("float64") for k, v in params.items() if k.startswith("aux:")}
    args["data"] = mx.nd.array(batch, dtype="float64")
    args["softmax_label"] = mx.nd.zeros((len(batch),), dtype="float64")
    executor = symbol.bind(mx.cpu(), args=args, aux_states=aux, grad_req="null")
    executor.forward(is_train=False)
    exact = executor.outputs[0].asnumpy()
    assert np.abs(theirs - exact).max() < 3e-4
    for runtime in (r for r in available_runtimes() if r != "mxnet"):
        ours = open_engine(full_model_dir, "cpu", runtime=runtime).result().classifier.probabilities(batch)
        assert np.abs(ours - exact).max() < 3e-4, runtime
        assert all((np.argsort(-a)[:5] == np.argsort(-b)[:5]).all() for a, b in zip(ours, theirs)), runtime


def test_runtimes_are_chosen_and_explained(tiny_model_dir, monkeypatch):
    from geoguess_app.core import engine

    assert engine.choose_runtime("auto") == "openvino"  # the fastest, where it is installed
    # a GPU asked for: a runtime built for one (none here), else the one whose error says how to get one
    assert engine.choose_runtime("auto", device="gpu") == "onnxruntime"
    with pytest.raises(DeviceError, match=r"CUDA build is not installed: pip install 'geoguess\[gpu\]'"):
        engine.open_engine(tiny_model_dir, "gpu").result()
    with pytest.raises(engine.RuntimeMissing, match=r"fast on a GPU runs on ONNX Runtime's CUDA build: pip install"):
        engine.choose_runtime("auto", "fast", "gpu")
    with pytest.raises(engine.RuntimeMissing, match="unknown runtime 'tensorflow'"):
        engine.open_engine(tiny_model_dir, runtime="tensorflow")
    monkeypatch.setattr(engine, "available_runtimes", lambda: ["onnxruntime"])
    assert engine.choose_runtime("auto") == "onnxruntime"
    with pytest.raises(engine.RuntimeMissing, match="mxnet runtime is not installed"):
        engine.open_engine(tiny_model_dir, runtime="mxnet")


def test_predict_with_either_runtime_gives_the_same_places(mxnet_runtime, tiny_model_dir, corpus_dir):
    from helpers import run

    photo = corpus_dir / "exif-samples" / "jpg" / "gps" / "DSCN0010.jpg"
    answers = {}
    for runtime in ("mxnet", "onnxruntime", "openvino"):
        out = run("predict", "--json", "--no-cache", "--runtime", runtime, "--model-dir", tiny_model_dir, photo)
        assert out.returncode == 0, out.stderr
        answers[runtime] = json.loads(out.stdout)["predictions"]
    for runtime in ("onnxruntime", "openvino"):
        assert [g["class"] for g in answers["mxnet"]] == [g["class"] for g in answers[runtime]]
        for a, b in zip(answers["mxnet"], answers[runtime]):
            assert abs(a["probability"] - b["probability"]) < 1e-5
