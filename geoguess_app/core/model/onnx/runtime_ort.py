"""LocationNet on ONNX Runtime: the ONNX graph made from the published files (``convert.py``),
run on the CPU or, with the onnxruntime-gpu package, on an NVIDIA GPU through CUDA (``cuda.py``:
float32 there too unless the fast precision is asked for).

ONNX Runtime's sessions may be run from any thread (they need no thread of their own, unlike
MXNet). The fp32 graph is exact: on the corpus photos its probabilities are nearer those of the
same network in float64 than MXNet's own float32 are.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ...errors import DeviceError, ModelError
from ...geo.cells import CellGrid
from ..classifier import ModelInfo, check_classes, describe_model, in_batches, parse_device
from .convert import INPUT, OUTPUT, prepare
from .cuda import CUDA_PROVIDER, GPU_INSTALL, gpu_status, preload, provider_options

#: Photos per forward pass: one on a CPU (larger batches were no faster there, bench/bench_predict.py);
#: 64 on a GPU (the classifier alone: 1,647 photos/s in float32 on an H200 at 64).
CPU_BATCH, GPU_BATCH = 1, 64


def gpu_count() -> int:
    """GPUs ONNX Runtime can use: at least one with its CUDA build (it does not say how many), else 0."""
    import onnxruntime as ort

    return 1 if CUDA_PROVIDER in ort.get_available_providers() else 0


def providers(device: str, precision: str = "exact") -> tuple[list[Any], str]:
    """ONNX Runtime's providers for a device, with the CUDA provider's options for the precision
    (exact: float32, TF32 off), and where that runs."""
    import onnxruntime as ort

    kind, index = parse_device(device)
    has_cuda = CUDA_PROVIDER in ort.get_available_providers()
    if kind == "cpu" or (kind == "auto" and not has_cuda):
        return ["CPUExecutionProvider"], "cpu"  # float32 (the fast precision: only its reduced decode)
    if not has_cuda:
        raise DeviceError(f"GPU requested, but {gpu_status().why_not}")
    preload()
    return [(CUDA_PROVIDER, provider_options(index, precision)), "CPUExecutionProvider"], f"gpu({index})"


class OnnxRuntimeNet:
    """A LocationNet session, ready to classify 3 x 224 x 224 tensors."""

    def __init__(self, info: ModelInfo, grid: CellGrid, session: Any, batch_size: int):
        self.info = info
        self.grid = grid
        self.batch_size = batch_size
        self._session = session

    @classmethod
    def load(
        cls, folder: str | Path, device: str = "auto", batch_size: int | None = None, precision: str = "exact"
    ) -> OnnxRuntimeNet:
        import onnxruntime as ort

        kind, _ = parse_device(device)
        chosen, where = providers(device, precision)
        model = prepare(folder)
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # warnings about the graph are GeoGuess's business, not the user's
        try:
            session = ort.InferenceSession(str(model.graph), options, providers=chosen)
        except Exception as e:  # noqa: BLE001 - ONNX Runtime raises its own exception types
            raise ModelError(f"ONNX Runtime could not set up the model: {str(e).splitlines()[0][:200]}") from None
        if where != "cpu" and session.get_providers()[0] != CUDA_PROVIDER:
            if kind == "gpu" or precision != "exact":  # ONNX Runtime fell back to the CPU without a word
                raise DeviceError(
                    "GPU requested, but ONNX Runtime could not start CUDA: check the NVIDIA driver and the CUDA "
                    f"and cuDNN libraries onnxruntime-gpu needs ({GPU_INSTALL} brings the libraries)"
                )
            where = "cpu"
        classes = session.get_outputs()[0].shape[-1]
        check_classes(classes, model.grid)
        arithmetic = "TF32" if precision == "fast" and where != "cpu" else "float32"
        info = describe_model(
            model.folder, int(classes), where, model.verified.result(), "onnxruntime", precision, arithmetic
        )
        return cls(info, model.grid, session, batch_size or (GPU_BATCH if where != "cpu" else CPU_BATCH))

    def probabilities(self, batch: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Softmax over the classes for an (N, 3, 224, 224) float32 batch."""
        return in_batches(batch, self.batch_size, lambda part: self._session.run([OUTPUT], {INPUT: part})[0])
