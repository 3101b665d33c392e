"""LocationNet on OpenVINO (an optional extra: ``pip install geoguess[openvino]``): the ONNX graph
made from the published files (``convert.py``), compiled for the CPU.

Exact by default: OpenVINO would run a CPU with AMX or AVX512-BF16 in bfloat16 unless told
otherwise, so the inference precision is set to f32; ``precision="fast"`` asks for bfloat16 where
the CPU computes it (opt-in: ``--precision fast``; elsewhere it stays float32, and the fast
precision is only the reduced decode). One compiled model serves every thread, one
inference at a time (its infer requests are not thread-safe).

The compiled model is kept in the user cache folder (OpenVINO's model cache, about 300 MB, in a
folder named by the graph's md5 so that a changed graph is never served from an old one): a later
start loads it in 0.15 s instead of compiling for a second, and reads its weights from that file
(pages the system can drop) instead of holding a second private copy: about 350 MB of private
memory rather than 650 MB.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ...errors import DeviceError, ModelError
from ...geo.cells import CellGrid
from ..classifier import ModelInfo, check_classes, describe_model, in_batches, parse_device
from ..store import cache_path, cached_md5
from .convert import INPUT, prepare

NVIDIA_HINT = "OpenVINO runs on the CPU here; for an NVIDIA GPU use --runtime onnxruntime with onnxruntime-gpu"


def fast_available(core: Any = None) -> bool:
    """Whether this CPU computes bfloat16 natively (AMX or AVX512-BF16), as OpenVINO reports it."""
    import openvino as ov

    core = core or ov.Core()
    return "BF16" in core.get_property("CPU", "OPTIMIZATION_CAPABILITIES")


KEPT_GRAPHS = 2  # compiled graphs kept (the model in use and the one before)


def compiled_cache(graph: Path) -> str | None:
    """The folder where OpenVINO keeps this graph compiled, named by the graph's md5; None when it
    cannot be made (then each start compiles). Folders of other graphs beyond the last
    ``KEPT_GRAPHS`` used are removed."""
    root = cache_path("openvino")
    folder = root / cached_md5(graph)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        os.utime(folder)  # used now
        others = sorted((p for p in root.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
        for old in others[:-KEPT_GRAPHS]:
            shutil.rmtree(old, ignore_errors=True)
    except OSError:
        return None
    return str(folder)


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
        kept = compiled_cache(prepared.graph)
        if kept is not None:
            core.set_property({"CACHE_DIR": kept})
        bf16 = precision == "fast" and fast_available(core)
        try:
            hint = "bf16" if bf16 else "f32"
            compiled = core.compile_model(str(prepared.graph), "CPU", {"INFERENCE_PRECISION_HINT": hint})
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
