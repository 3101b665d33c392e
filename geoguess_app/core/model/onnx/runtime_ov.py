"""LocationNet on OpenVINO (an optional extra: ``pip install geoguess[openvino]``): the ONNX graph
made from the published files (``convert.py``), compiled for the CPU.

Exact by default: OpenVINO would run a CPU with AMX or AVX512-BF16 in bfloat16 unless told
otherwise, so the inference precision is set to f32; ``precision="fast"`` asks for bfloat16 where
the CPU computes it (opt-in: ``--precision fast``; elsewhere it stays float32, and the fast
precision is only the reduced decode). One compiled model serves every thread, one
inference at a time (its infer requests are not thread-safe).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ...errors import DeviceError, ModelError
from ...geo.cells import CellGrid
from ..classifier import ModelInfo, check_classes, describe_model, in_batches, parse_device
from .convert import INPUT, prepare

NVIDIA_HINT = "OpenVINO runs on the CPU here; for an NVIDIA GPU use --runtime onnxruntime with onnxruntime-gpu"


def fast_available(core: Any = None) -> bool:
    """Whether this CPU computes bfloat16 natively (AMX or AVX512-BF16), as OpenVINO reports it."""
    import openvino as ov

    core = core or ov.Core()
    return "BF16" in core.get_property("CPU", "OPTIMIZATION_CAPABILITIES")


class OpenVinoNet:
    """LocationNet compiled by OpenVINO, ready to classify 3 x 224 x 224 tensors."""

    def __init__(self, info: ModelInfo, grid: CellGrid, compiled: Any, batch_size: int):
        self.info = info
        self.grid = grid
        self.batch_size = batch_size
        self._compiled = compiled
        self._request = compiled.create_infer_request()
        self._lock = threading.Lock()

    @classmethod
    def load(
        cls, folder: str | Path, device: str = "auto", batch_size: int | None = None, precision: str = "exact"
    ) -> OpenVinoNet:
        import openvino as ov

        if parse_device(device)[0] == "gpu":
            raise DeviceError(f"GPU requested: {NVIDIA_HINT}")
        prepared = prepare(folder)
        core = ov.Core()
        bf16 = precision == "fast" and fast_available(core)
        try:
            model = core.read_model(str(prepared.graph))
            hint = "bf16" if bf16 else "f32"
            compiled = core.compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": hint})
        except Exception as e:  # noqa: BLE001 - OpenVINO raises its own exception types
            raise ModelError(f"OpenVINO could not set up the model: {str(e).splitlines()[0][:200]}") from None
        classes = compiled.output(0).get_partial_shape()[-1].get_length()
        check_classes(classes, prepared.grid)
        arithmetic = "bfloat16" if bf16 else "float32"
        info = describe_model(
            prepared.folder, int(classes), "cpu", prepared.verified.result(), "openvino", precision, arithmetic
        )
        return cls(info, prepared.grid, compiled, batch_size or 2)

    def probabilities(self, batch: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Softmax over the classes for an (N, 3, 224, 224) float32 batch."""
        return in_batches(batch, self.batch_size, self._infer)

    def _infer(self, part: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        with self._lock:
            result = self._request.infer({INPUT: part})
            return np.array(result[self._compiled.output(0)], np.float32)
