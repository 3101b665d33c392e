"""GeoGuess's ONNX graph (made without MXNet) and the one MXNet's own exporter makes of the same
files give the same answers on corpus photos. MXNet and its exporter (onnx < 1.16) install on
Python 3.11 only; there the test extra brings both."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import corpus_batch

from geoguess_app.core.model.files import PARAMS_FILE, SYMBOL_FILE
from geoguess_app.core.model.onnx.convert import INPUT, ensure_onnx

pytestmark = pytest.mark.usefixtures("mxnet_runtime")


def mxnet_export(folder, target) -> str:
    """MXNet's exporter on the model, its SoftmaxOutput head (a training layer the exporter does
    not take) replaced by a plain softmax over the classifier's output."""
    from geoguess_app.core.model.mxnet.importer import mxnet
    from geoguess_app.core.model.mxnet.thread import mxnet_worker

    def work() -> str:
        mx = mxnet()
        symbol = mx.sym.load(str(folder / SYMBOL_FILE))
        head = mx.sym.softmax(symbol.get_internals()["fc1_output"], axis=1)
        params = {name[4:]: array for name, array in mx.nd.load(str(folder / PARAMS_FILE)).items()}
        return mx.onnx.export_model(
            head,
            params,
            in_shapes=[(1, 3, 224, 224)],
            in_types=[np.float32],
            onnx_file_path=str(target),
            dynamic=True,
            dynamic_input_shapes=[(None, 3, 224, 224)],
        )

    return mxnet_worker().run(work)


def answers(graph, batch) -> np.ndarray:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # not the exporter's graph-input notes
    session = onnxruntime.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return np.concatenate([session.run(None, {name: batch[i : i + 1]})[0] for i in range(len(batch))])


@pytest.mark.parametrize("size", ["tiny", "full"])
def test_both_converters_give_the_same_answers(size, request, corpus_dir, tmp_path):
    folder = request.getfixturevalue(f"{size}_model_dir")
    batch = corpus_batch(corpus_dir, 6)
    ours = answers(ensure_onnx(folder), batch)
    theirs = answers(mxnet_export(folder, tmp_path / "mxnet.onnx"), batch)
    assert ours.shape == theirs.shape == (6, int(ours.shape[1])) and ours.shape[1] in (48, 15527)
    # the same top 5, and the same numbers to float32's noise through 104 layers: the two graphs order
    # the arithmetic differently (9e-5 at most here on the full network's peaked random outputs)
    assert all((np.argsort(-a)[:5] == np.argsort(-b)[:5]).all() for a, b in zip(ours, theirs))
    assert np.abs(ours - theirs).max() < (1e-6 if size == "tiny" else 2e-4)
    import onnx

    assert onnx.load(str(ensure_onnx(folder))).graph.input[0].name == INPUT
