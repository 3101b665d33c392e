"""The one way GeoGuess runs work in the background and hands results back to the GUI thread.

Like Anki's task manager: ``run(fn, on_done)`` executes ``fn`` on a background thread and calls
``on_done(future)`` on the GUI thread; ``post(fn, *args)`` lets background code call ``fn`` on the
GUI thread (for results that stream, such as one prediction per photo). MXNet work itself always
ends up on the engine's own MXNet thread (see geoguess_app.core.threads); these threads only wait
for it, so the GUI thread never does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from PySide6.QtCore import QObject, Signal, Slot

log = logging.getLogger(__name__)


class TaskRunner(QObject):
    _call = Signal(object)  # a zero-argument callable to run on the GUI thread

    def __init__(self, parent: QObject | None = None, threads: int = 2):
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="geoguess-task")
        self._call.connect(self._on_call)  # queued: emitted from other threads

    def run(self, fn: Callable, on_done: Callable[[Future], None] | None = None, *args, **kwargs) -> Future:
        future = self._pool.submit(fn, *args, **kwargs)
        if on_done is not None:
            future.add_done_callback(lambda f: self._call.emit(lambda: on_done(f)))
        return future

    def post(self, fn: Callable, *args) -> None:
        """Call ``fn(*args)`` on the GUI thread (safe from any thread)."""
        self._call.emit(lambda: fn(*args))

    @Slot(object)
    def _on_call(self, call) -> None:
        call()

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
