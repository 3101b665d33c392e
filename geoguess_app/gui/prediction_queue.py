"""Photos waiting for a prediction: processed in the order they came, except the photo looked at,
which goes first; with progress and cancel."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from ..core.predict.pipeline import Predictor
from ..core.predict.results import PhotoResult
from .tasks import TaskRunner, log_failure


class PredictionQueue(QObject):
    resultReady = Signal(object)  # PhotoResult, on the GUI thread
    progress = Signal(int, int)  # done, total of the current run
    failed = Signal(str)  # the whole run failed (the model broke); per-photo errors are results
    idle = Signal()

    def __init__(self, tasks: TaskRunner, parent: QObject | None = None):
        super().__init__(parent)
        self._tasks = tasks
        self._predictor: Predictor | None = None
        self._pending: deque[str] = deque()
        self._lock = threading.Lock()
        self._cancel = threading.Event()
        self._running = False
        self.done = 0
        self.total = 0

    @property
    def busy(self) -> bool:
        return self._running or bool(self._pending)

    def set_predictor(self, predictor: Predictor | None) -> None:
        self._predictor = predictor
        self._start()

    def add(self, paths: Sequence[str | Path]) -> None:
        with self._lock:
            self._pending.extend(str(p) for p in paths)
        self.total += len(paths)
        self.progress.emit(self.done, self.total)
        self._start()

    def prioritize(self, path: str | Path, add: bool = False) -> None:
        """The photo looked at goes before every waiting photo; ``add``: it joins the queue first
        (after Stop). Only the few photos already being decoded come before it."""
        path = str(path)
        with self._lock:
            waiting = path in self._pending
            if waiting:
                self._pending.remove(path)
            if waiting or add:
                self._pending.appendleft(path)
        if add and not waiting:
            self.total += 1
            self.progress.emit(self.done, self.total)
        self._start()

    def cancel(self) -> None:
        """Drop the photos not yet done; the one being classified finishes and is shown."""
        with self._lock:
            dropped = len(self._pending)
            self._pending.clear()
        self._cancel.set()
        self.total -= dropped
        self.progress.emit(self.done, self.total)
        if not self._running:
            self._finish()

    def _start(self) -> None:
        if self._running or self._predictor is None or not self._pending:
            return
        self._running = True
        self._cancel.clear()
        self._tasks.run(
            self._work, self._predictor, on_success=lambda _: self._work_done(), on_failure=self._work_failed
        )

    def _source(self):
        while not self._cancel.is_set():
            with self._lock:
                if not self._pending:
                    return
                path = self._pending.popleft()
            yield path

    def _work(self, predictor: Predictor) -> None:  # on a background thread
        # decoding runs two photos ahead: enough to keep the model busy, few enough that the photo
        # looked at (prioritize) comes soon
        results = predictor.predict_many(self._source(), prefetch=2)
        try:
            for result in results:
                self._tasks.post(self._deliver, result)
                if self._cancel.is_set():
                    break
        finally:
            results.close()

    def _deliver(self, result: PhotoResult) -> None:
        self.done += 1
        self.resultReady.emit(result)
        self.progress.emit(self.done, max(self.total, self.done))

    def _work_failed(self, error: BaseException) -> None:
        """The run broke (not one photo: those are results): drop the rest and say why."""
        self._running = False
        log_failure("prediction run failed", error)
        with self._lock:
            self._pending.clear()
        self.failed.emit(str(error))
        self._work_done()

    def _work_done(self) -> None:
        self._running = False
        if self._pending and not self._cancel.is_set():
            self._start()
        else:
            self._finish()

    def _finish(self) -> None:
        self.done = self.total = 0
        self.idle.emit()
