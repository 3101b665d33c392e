"""The MXNet runtime itself (installed on Python 3.11 only): what to install for a GPU, and every
MXNet call on one thread."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from geoguess_app.core.errors import DeviceError

pytestmark = pytest.mark.usefixtures("mxnet_runtime")


def test_gpu_request_without_gpu_says_what_to_install(tiny_model_dir):
    from geoguess_app.core.model.mxnet import locationnet

    has_cuda, count = locationnet.cuda_available()
    if has_cuda and count:
        pytest.skip("this machine has a GPU")
    assert str(locationnet.resolve_device("auto")) == "cpu(0)"
    with pytest.raises(DeviceError) as err:
        locationnet.LocationNet.load(tiny_model_dir, device="gpu")
    text = str(err.value)
    assert ("mxnet-cu112" in text) if not has_cuda else ("no NVIDIA GPU" in text)


def test_every_mxnet_call_runs_on_one_thread(tiny_model_dir, monkeypatch):
    from geoguess_app.core.model.mxnet import locationnet

    seen = []
    real = locationnet.mxnet

    def recording():
        seen.append(threading.current_thread().name)
        return real()

    monkeypatch.setattr(locationnet, "mxnet", recording)
    model = locationnet.LocationNet.load(tiny_model_dir, device="cpu")
    x = np.zeros((1, 3, 224, 224), np.float32)
    with ThreadPoolExecutor(4) as pool:  # callers on many threads at once
        results = list(pool.map(lambda _: model.probabilities(x), range(8)))
    assert all(np.array_equal(r, results[0]) for r in results)
    assert len(seen) >= 9 and len(set(seen)) == 1
    assert seen[0].startswith("geoguess-mxnet")
