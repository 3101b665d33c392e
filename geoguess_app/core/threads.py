"""Compute threads: their operating-system priority, and a thread that runs calls one at a time.

``SerialWorker`` is what a runtime that is not thread-safe (MXNet) runs all its calls on: a
single-thread executor, the pattern Anki's task manager uses. Callers either wait for the result
(``run``) or get a Future (``submit``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

#: Niceness of GeoGuess's compute threads (MXNet, decoding). 0 for the command line; the window
#: raises it so that its GUI thread always gets a core first (see lower_background_priority).
_background_nice = 0


def lower_background_priority(nice: int = 5) -> None:
    """Compute threads started from now on run at a lower priority than the calling thread.

    Call it before any MXNet or decoding thread starts: threads that MXNet's OpenMP runtime creates
    inherit the priority of the MXNet thread. Linux only (elsewhere nothing changes)."""
    global _background_nice
    _background_nice = nice


def background_thread_init() -> None:
    """ThreadPoolExecutor initializer for compute threads: apply the background priority."""
    if _background_nice and hasattr(os, "setpriority") and hasattr(threading, "get_native_id"):
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), _background_nice)
        except OSError:
            pass


def background(fn: Callable[..., T], *args: Any, name: str = "geoguess-background") -> Future[T]:
    """Run ``fn`` on a thread of its own and return its Future (its exception, if it raises)."""
    future: Future[T] = Future()

    def work() -> None:
        try:
            future.set_result(fn(*args))
        except BaseException as e:  # noqa: BLE001 - handed to whoever waits for the Future
            future.set_exception(e)

    threading.Thread(target=work, name=name, daemon=True).start()
    return future


class SerialWorker:
    """A thread that runs submitted calls one after another, in submission order."""

    def __init__(self, name: str):
        self.name = name
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name, initializer=background_thread_init)
        self._ident: int | None = None
        self._pool.submit(self._remember_thread).result()

    def _remember_thread(self) -> None:
        self._ident = threading.get_ident()

    def on_thread(self) -> bool:
        return threading.get_ident() == self._ident

    def submit(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
        return self._pool.submit(fn, *args, **kwargs)

    def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn`` on the worker thread and wait for it (directly if already there)."""
        if self.on_thread():
            return fn(*args, **kwargs)
        return self._pool.submit(fn, *args, **kwargs).result()
