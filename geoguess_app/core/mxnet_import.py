"""The one place where MXNet is imported.

MXNet 1.9.1 (the last release) still uses the ``np.bool`` alias that NumPy 1.24 removed, so the
alias is restored here, before ``import mxnet``. Every other module gets MXNet from ``mxnet()``.
The import is slow (about a second), so it happens on first use, not when GeoGuess starts.
"""

from __future__ import annotations

import os
import threading

import numpy as np

_lock = threading.Lock()
_mx = None


def mxnet():
    """Return the ``mxnet`` module, importing it on first call."""
    global _mx
    if _mx is None:
        with _lock:
            if _mx is None:
                if "bool" not in vars(np):
                    np.bool = bool  # removed in NumPy 1.24, still used by MXNet 1.9.1
                # MXNet prints a notice when it upgrades the 0.9.4 symbol file; keep logs quiet.
                os.environ.setdefault("MXNET_SUBGRAPH_VERBOSE", "0")
                import mxnet as mx  # noqa: PLC0415

                _mx = mx
    return _mx
