"""The one way GeoGuess runs work in the background and hands results back to the GUI thread.

Like Anki's ``QueryOp`` and task manager: ``run(fn, *args, on_success=..., on_failure=...)``
executes ``fn(*args)`` on a background thread, then on the GUI thread calls ``on_success(result)``,
or ``on_failure(exception)`` when ``fn`` raised. Without ``on_failure`` a failure is logged and
shown in an error box titled ``failure_title``, so that no error is ever dropped or left to the
excepthook. ``post(fn, *args)`` lets background code call ``fn`` on the GUI thread (for results
that stream, such as one prediction per photo).

Model work itself always ends up on the runtime's own thread (for MXNet,
geoguess_app.core.model.mxnet.thread); these threads only wait for it, so the GUI thread never does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QWidget

from ..core.errors import GeoGuessError
from ..core.threads import background_thread_init
from .qt_helpers import show_error

log = logging.getLogger(__name__)


def log_failure(what: str, error: BaseException) -> None:
    """Log a task's failure: an expected one (a GeoGuessError: a refused file, a missing model) as a
    warning without a traceback, anything else as an error with its traceback."""
    if isinstance(error, GeoGuessError):
        log.warning("%s: %s", what, error)
    else:
        log.error("%s: %s", what, error, exc_info=error)


def report_failure(parent: QWidget | None, title: str, error: BaseException) -> None:
    """What a failed task does unless told otherwise: log it and show it."""
    log_failure(title, error)
    show_error(parent, title, str(error) or type(error).__name__)


class TaskRunner(QObject):
    _call = Signal(object)  # a zero-argument callable to run on the GUI thread

    def __init__(self, parent: QObject | None = None, threads: int = 2):
        super().__init__(parent)
        # below the GUI thread's priority (where lower_background_priority was called), and so are
        # the threads a runtime starts from them (OpenVINO's and ONNX Runtime's compute threads)
        self._pool = ThreadPoolExecutor(
            max_workers=threads, thread_name_prefix="geoguess-task", initializer=background_thread_init
        )
        self._call.connect(self._on_call)  # queued: emitted from other threads

    def run(
        self,
        fn: Callable,
        *args,
        on_success: Callable[[Any], None] | None = None,
        on_failure: Callable[[BaseException], None] | None = None,
        failure_title: str = "Something went wrong",
        parent: QWidget | None = None,
        **kwargs,
    ) -> Future:
        """Run ``fn(*args, **kwargs)`` in the background; then, on the GUI thread, ``on_success(result)``
        or ``on_failure(exception)``. Without ``on_failure`` the failure is logged and shown over
        ``parent`` (default: the widget that owns this runner)."""
        future = self._pool.submit(fn, *args, **kwargs)

        def settle(done: Future) -> None:  # on the GUI thread
            if done.cancelled():  # shut down before it started: nobody is waiting any more
                return
            error = done.exception()
            if error is None:
                if on_success is not None:
                    on_success(done.result())
            elif on_failure is not None:
                on_failure(error)
            else:
                report_failure(parent if parent is not None else self._widget(), failure_title, error)

        future.add_done_callback(lambda done: self.post(settle, done))
        return future

    def post(self, fn: Callable, *args) -> None:
        """Call ``fn(*args)`` on the GUI thread (safe from any thread); nothing once the runner is
        gone (its window closed while the work was running: nobody waits for the answer)."""
        try:
            self._call.emit(lambda: fn(*args))
        except RuntimeError:  # "Signal source has been deleted"
            log.debug("a background task finished after its window closed")

    def _widget(self) -> QWidget | None:
        owner = self.parent()
        return owner if isinstance(owner, QWidget) else None

    @Slot(object)
    def _on_call(self, call) -> None:
        call()

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
