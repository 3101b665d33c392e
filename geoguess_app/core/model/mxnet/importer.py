"""The one place where MXNet is imported.

MXNet 1.9.1 (the last release) still uses the ``np.bool`` alias that NumPy 1.24 removed, so the
alias is restored here, before ``import mxnet``. Every other module gets MXNet from ``mxnet()``.
The import is slow (about 1.4 s), so it happens on first use, on the MXNet thread.

Engine settings (each can be overridden by setting the variable before GeoGuess starts):

- ``MXNET_ENGINE_TYPE=NaiveEngine``: GeoGuess calls MXNet from one dedicated thread anyway; the
  synchronous engine avoids the threaded engine's extra worker threads, which on a 2-core machine
  compete with the math threads (measured: 0.083 s instead of 0.155 s per ResNet-101 forward).
- ``MXNET_SUBGRAPH_BACKEND=NONE``: skips the oneDNN graph-fusion pass, whose first-run set-up
  costs 0.3 s per model load and gains nothing measurable per photo here.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
import tempfile
import threading

import numpy as np

from .... import environment

_lock = threading.Lock()
_mx = None

ENGINE_DEFAULTS = {"MXNET_ENGINE_TYPE": "NaiveEngine", "MXNET_SUBGRAPH_BACKEND": "NONE"}
# Notices MXNet's native code prints to stderr that say nothing to a GeoGuess user.
_NOISE = (
    "legacy_json_util",
    "start using engine",
    "MXNET_SUBGRAPH_BACKEND=NONE is detected",
    "Symbol successfully upgraded",
)


def mxnet():
    """Return the ``mxnet`` module, importing it on first call."""
    global _mx
    if _mx is None:
        with _lock:
            if _mx is None:
                if "bool" not in vars(np):
                    setattr(np, "bool", bool)  # noqa: B010 - removed in NumPy 1.24, still used by MXNet 1.9.1
                environment.set_defaults(ENGINE_DEFAULTS)
                # mxnet.contrib.quantization imports scipy.stats if it can (0.3 s), only for a
                # calibration mode GeoGuess never uses; hide it during the import.
                hide_scipy_stats = "scipy.stats" not in sys.modules
                if hide_scipy_stats:
                    sys.modules["scipy.stats"] = None  # type: ignore[assignment]  # None blocks the import
                try:
                    with quiet_native_stderr():
                        import mxnet as mx

                        mx.nd.zeros((1,)).wait_to_read()  # starts the engine, which prints a notice
                finally:
                    if hide_scipy_stats and sys.modules.get("scipy.stats", 0) is None:
                        del sys.modules["scipy.stats"]
                _restore_openmp_threads()
                _mx = mx
    return _mx


def _restore_openmp_threads() -> None:
    """Loading libmxnet sets OpenMP to one thread on the loading thread, which is GeoGuess's MXNet
    thread, where every forward pass then runs (measured: 0.16 s instead of 0.085 s per photo on
    2 cores). Give that thread back the thread count OpenMP would choose (OMP_NUM_THREADS or all
    cores)."""
    count = environment.omp_threads() or os.cpu_count() or 1
    try:
        gomp = ctypes.CDLL("libgomp.so.1")  # the OpenMP runtime libmxnet is linked with (Linux)
    except OSError:
        return
    if gomp.omp_get_max_threads() < count:
        gomp.omp_set_num_threads(count)


@contextlib.contextmanager
def quiet_native_stderr():
    """Capture what native code writes to stderr meanwhile; pass on all but MXNet's notices."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            for line in capture.read().decode("utf-8", "replace").splitlines(keepends=True):
                if not any(noise in line for noise in _NOISE):
                    sys.stderr.write(line)
