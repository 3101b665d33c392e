"""NVIDIA GPUs through ONNX Runtime, checked without one: exact is float32 (TF32 off) on the GPU,
TF32 only with the fast precision, and what was found (or why not) said in words."""

from __future__ import annotations

import pytest

from geoguess_app.core import engine
from geoguess_app.core.model.classifier import ModelInfo
from geoguess_app.core.model.onnx import cuda, runtime_ort


@pytest.fixture
def cuda_build(monkeypatch):
    """ONNX Runtime as its CUDA build presents itself (no CUDA is started)."""
    import onnxruntime

    monkeypatch.setattr(
        onnxruntime, "get_available_providers", lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"]
    )
    monkeypatch.setattr(runtime_ort, "preload", lambda: "")


def test_exact_on_the_gpu_asks_onnx_runtime_for_float32_not_its_tf32_default(cuda_build):
    # ONNX Runtime's CUDA provider uses TF32 unless told not to: an exact run must say use_tf32 0
    for device in ("gpu", "gpu:1", "auto"):
        chosen, where = runtime_ort.providers(device, "exact")
        name, options = chosen[0]
        assert name == "CUDAExecutionProvider" and where.startswith("gpu")
        assert options["use_tf32"] == 0
    assert runtime_ort.providers("gpu:1")[0][0][1] == {"device_id": 1, "use_tf32": 0}  # exact is the default
    assert runtime_ort.providers("gpu", "fast")[0][0][1]["use_tf32"] == 1
    assert runtime_ort.providers("cpu") == (["CPUExecutionProvider"], "cpu")
    with pytest.raises(ValueError):
        cuda.provider_options(0, "half")


def test_the_fast_precision_runs_on_the_gpu_as_tf32_and_says_so(cuda_build, monkeypatch):
    monkeypatch.setattr(engine, "_has_cuda", lambda runtime: runtime == "onnxruntime")
    monkeypatch.setattr(engine, "driver_found", lambda: True)
    assert engine.choose_runtime("auto", "fast", "gpu") == "onnxruntime"
    assert engine.choose_runtime("auto", "fast", "auto") == "onnxruntime"
    on_cpu = "openvino" if "openvino" in engine.available_runtimes() else "onnxruntime"
    monkeypatch.setattr(engine, "driver_found", lambda: False)  # onnxruntime-gpu, but no NVIDIA driver
    assert engine.choose_runtime("auto", "fast", "auto") == on_cpu and engine.fast_arithmetic("auto") != "TF32"
    monkeypatch.setattr(engine, "driver_found", lambda: True)
    assert engine.choose_runtime("auto", "fast", "cpu") == on_cpu  # the CPU's fast precision, as before
    with pytest.raises(engine.RuntimeMissing, match="ONNX Runtime's"):
        engine.choose_runtime("openvino", "fast", "gpu")
    assert engine.fast_arithmetic("gpu") == "TF32"
    assert engine.fast_refused("mxnet") is not None and engine.fast_refused("onnxruntime") is None
    cpu_fast = ModelInfo("m", "/m", True, "tiny", 10, "cpu", precision="fast", arithmetic="bfloat16")
    assert cpu_fast.as_dict()["arithmetic"] == "bfloat16"
    assert ModelInfo("m", "/m", True, "tiny", 10, "gpu(0)").arithmetic == "float32"  # exact is float32 everywhere


def _installed(monkeypatch, **versions):
    monkeypatch.setattr(cuda, "_distribution", lambda name: versions.get(name.replace("-", "_")))


def test_gpu_status_says_what_to_install(monkeypatch):
    monkeypatch.setattr(cuda.sys, "platform", "linux")
    _installed(monkeypatch, onnxruntime="1.20.0")
    status = cuda.gpu_status()
    assert not status.usable and status.why_not.endswith("pip install 'geoguess[gpu]'")
    assert "onnxruntime-gpu: not installed" in status.lines
    _installed(monkeypatch, onnxruntime="1.20.0", onnxruntime_gpu="1.31.1")
    assert "overwrite each other" in cuda.gpu_status().why_not
    monkeypatch.setattr(cuda.sys, "platform", "darwin")
    assert "macOS has no NVIDIA GPUs" in cuda.gpu_status().why_not
    assert cuda.driver_found() is None


def test_gpu_status_with_the_gpu_build(monkeypatch, cuda_build):
    monkeypatch.setattr(cuda.sys, "platform", "linux")
    monkeypatch.setattr(cuda, "preload", lambda: "")
    _installed(monkeypatch, onnxruntime_gpu="1.31.1")
    monkeypatch.setattr(cuda, "driver_found", lambda: False)
    status = cuda.gpu_status()
    assert not status.usable and "no NVIDIA driver found" in status.why_not
    assert any(line.startswith("NVIDIA libraries as wheels:") for line in status.lines)
    monkeypatch.setattr(cuda, "driver_found", lambda: True)
    status = cuda.gpu_status()
    assert status.usable and status.why_not is None and status.summary.startswith("GPU: ready")
