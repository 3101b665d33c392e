"""The one dedicated thread on which every MXNet call runs.

MXNet is not thread-safe. Every call into it (loading, binding, forward passes, and the tests'
comparisons) goes through ``mxnet_worker()``. Callers either wait for the result or get a Future and are
called back (the window hands that back to the GUI thread).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from ...threads import SerialWorker

T = TypeVar("T")

_lock = threading.Lock()
_mxnet_worker: SerialWorker | None = None


def mxnet_worker() -> SerialWorker:
    """The process-wide MXNet thread (started on first use)."""
    global _mxnet_worker
    with _lock:
        if _mxnet_worker is None:
            _mxnet_worker = SerialWorker("geoguess-mxnet")
        return _mxnet_worker


def on_mxnet_thread(fn: Callable[..., T]) -> Callable[..., T]:
    """Decorator: the function always executes on the MXNet thread; callers wait for it."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        return mxnet_worker().run(fn, *args, **kwargs)

    return wrapper
