"""ONNX Runtime on NVIDIA GPUs: what is installed, why a GPU cannot be used, and the provider's
options for each precision.

**Exact means float32.** ONNX Runtime's CUDA provider computes convolutions and matrix products in
TF32 by default (10 bits of mantissa): on a GPU that changed the top five guesses of two photos in
three against the CPU's, and two runs of one photo disagreed. ``provider_options`` turns TF32 off
for the exact precision (``use_tf32: 0``), so that a GPU gives the CPU's answers to float32
rounding; TF32 is the GPU's ``--precision fast``, opt-in, its agreement measured like the CPU's
bfloat16 (``engine.fast_agreement``).

**Installing.** ``pip install 'geoguess[gpu]'`` brings ``onnxruntime-gpu`` with its ``cuda`` and
``cudnn`` extras: NVIDIA's CUDA and cuDNN libraries as Python wheels. ``preload`` loads them from
those wheels (ONNX Runtime's own ``preload_dlls``) before the first GPU session, so that a person
with an NVIDIA driver needs nothing else. ``gpu_status`` says what was found, for ``geoguess model
info`` and the window's Device menu.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.metadata
import io
import logging
import sys
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

CUDA_PROVIDER = "CUDAExecutionProvider"
#: What installs ONNX Runtime's CUDA build with NVIDIA's libraries as wheels (pyproject's ``gpu`` extra).
GPU_INSTALL = "pip install 'geoguess[gpu]'"
#: onnxruntime and onnxruntime-gpu install the same ``onnxruntime`` folder: only one may be there.
BOTH_INSTALLED = (
    "both onnxruntime (the CPU build) and onnxruntime-gpu are installed, and they overwrite each other's files: "
    "pip uninstall -y onnxruntime onnxruntime-gpu && pip install 'onnxruntime-gpu[cuda,cudnn]'"
)
#: The wheels of NVIDIA's libraries that the ``gpu`` extra brings (any CUDA major version).
_LIBRARY_WHEELS = ("nvidia-cudnn", "nvidia-cuda-runtime")


def provider_options(index: int, precision: str) -> dict[str, Any]:
    """The CUDA provider's options for a GPU and a precision: ``exact`` is float32 (TF32 off);
    ``fast`` allows TF32."""
    if precision not in ("exact", "fast"):
        raise ValueError(f"unknown precision {precision!r}")
    return {"device_id": index, "use_tf32": 0 if precision == "exact" else 1}


def _distribution(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _library_wheels() -> list[str]:
    """The NVIDIA library wheels installed (names with versions)."""
    found = []
    for dist in importlib.metadata.distributions():
        name = (dist.metadata["Name"] or "").lower()
        if name.startswith(_LIBRARY_WHEELS):
            found.append(f"{name} {dist.version}")
    return sorted(found)


_preloaded: str | None = None


def preload() -> str:
    """Load the CUDA and cuDNN libraries from their wheels (once); what ONNX Runtime said, or ''."""
    global _preloaded
    if _preloaded is None:
        import onnxruntime as ort

        said = io.StringIO()
        load = getattr(ort, "preload_dlls", None)  # ONNX Runtime 1.21 and later
        if load is None:
            _preloaded = ""
        else:
            try:
                with contextlib.redirect_stdout(said):  # it prints its warnings
                    load()
            except Exception as e:  # noqa: BLE001 - a library that does not load: the session says why
                said.write(f"{type(e).__name__}: {e}")
            _preloaded = " ".join(said.getvalue().split())
            if _preloaded:
                log.info("loading the CUDA libraries: %s", _preloaded)
    return _preloaded


def driver_found() -> bool | None:
    """Whether NVIDIA's driver library loads here (None: this system has no NVIDIA GPUs, macOS)."""
    if sys.platform == "darwin":
        return None
    name = "nvcuda.dll" if sys.platform == "win32" else "libcuda.so.1"
    try:
        ctypes.CDLL(name)
    except OSError:
        return False
    return True


@dataclass(frozen=True)
class GpuStatus:
    """What ONNX Runtime can do with NVIDIA GPUs here, in words."""

    usable: bool  # the CUDA provider is available and the driver loads
    lines: tuple[str, ...]  # what was found, one fact a line
    why_not: str | None  # when not usable: what to do

    @property
    def summary(self) -> str:
        return "GPU: ready (ONNX Runtime's CUDA provider)" if self.usable else f"GPU: not available: {self.why_not}"


def gpu_status() -> GpuStatus:
    """Look for ONNX Runtime's CUDA build, NVIDIA's libraries and driver (without starting CUDA)."""
    cpu_build, gpu_build = _distribution("onnxruntime"), _distribution("onnxruntime-gpu")
    lines = [
        f"onnxruntime (CPU build): {cpu_build or 'not installed'}",
        f"onnxruntime-gpu: {gpu_build or 'not installed'}",
    ]
    if sys.platform == "darwin":
        return GpuStatus(False, tuple(lines), "macOS has no NVIDIA GPUs; GeoGuess predicts on the CPU there")
    if gpu_build is None:
        return GpuStatus(False, tuple(lines), f"ONNX Runtime's CUDA build is not installed: {GPU_INSTALL}")
    if cpu_build is not None:
        return GpuStatus(False, tuple(lines), BOTH_INSTALLED)
    wheels = _library_wheels()
    lines.append(f"NVIDIA libraries as wheels: {', '.join(wheels) if wheels else 'none (the system CUDA is used)'}")
    said = preload()
    if said:
        lines.append(f"loading them: {said}")
    driver = driver_found()
    lines.append(f"NVIDIA driver: {'found' if driver else 'not found'}")
    import onnxruntime as ort

    providers = ort.get_available_providers()
    lines.append(f"ONNX Runtime providers: {', '.join(providers)}")
    if CUDA_PROVIDER not in providers:
        return GpuStatus(False, tuple(lines), f"this ONNX Runtime offers no CUDA provider: {GPU_INSTALL}")
    if not driver:
        return GpuStatus(False, tuple(lines), "no NVIDIA driver found: install the driver for your GPU from NVIDIA")
    return GpuStatus(True, tuple(lines), None)
