"""Decoding on every core: photos decoded by a pool of workers, in order, within a memory budget.

Decoding a photo (the file, its metadata and the recipe's pixels) is most of a prediction's time on
a CPU and all that keeps a GPU waiting. ``OrderedDecoder`` runs the decoding of a stream of photos
on ``DecodePlan.workers`` workers and hands the results back in the photos' order:

- **threads** up to ``THREADS_SCALE_TO`` workers (libjpeg, LibRaw and FFmpeg decode without the
  interpreter lock: 2 threads decode 1.6 times as fast as one on the 2-core build machine, as fast
  as 2 processes), **processes** beyond (measured on a 16-core machine: 78 photos/s in 16 threads,
  152 in 16 processes). Processes are started by ``spawn`` (never ``fork`` of a process with Qt
  and runtime threads in it). Not on Windows yet: there, under Wine, two decoding processes
  stopped answering after a few corpus photos (one process and threads did not), and no real
  Windows machine was at hand to tell Wine's part from Windows'; Windows decodes in threads.
- **memory**: each photo's decode is estimated from its header (``decode_cost``: width x height x 4
  bytes); photos are started only while the estimates of those being decoded fit the plan's
  budget (one is always allowed, so a photo larger than the budget still decodes, alone).
- **ahead**: at most ``ahead`` photos are started or waiting to be taken, so memory stays bounded
  also when the consumer is slow.
- **cancel**: ``close()`` cancels every photo not started and waits for the few being decoded.
- **errors**: a task that raises (a worker process that died in a native decoder) becomes that
  photo's ``on_error`` result, never an exception; a broken process pool is replaced, and the
  photos that were being decoded beside the one that ended it are decoded once more.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from ..photos.decode import MAX_PIXELS
from ..photos.formats import RAW_EXTENSIONS, VIDEO_EXTENSIONS
from ..photos.jpeg_data import REDUCED_SIDE
from ..photos.regular_files import open_regular
from ..system import physical_memory, usable_cpus
from ..threads import background_thread_init

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Threads scale to about this many decoding workers; processes beyond.
THREADS_SCALE_TO = 4
#: Whether decoding processes are used on this system (see the module's description).
PROCESSES_HERE = sys.platform != "win32"
#: The decoding budget: an eighth of the machine's memory, between these bounds.
MIN_BUDGET, MAX_BUDGET = 256 << 20, 2 << 30
#: Estimates for what a header does not tell: a RAW file (its sensor data and a preview or a
#: demosaic), a video (five frames and FFmpeg's buffers), anything unreadable (refused quickly).
RAW_COST, VIDEO_COST, UNKNOWN_COST = 192 << 20, 160 << 20, 16 << 20


@dataclass(frozen=True)
class DecodePlan:
    """How a run decodes: how many workers, of which kind, within how much memory, at what scale."""

    workers: int
    processes: bool
    budget: int  # bytes of decoded pixels allowed at once
    reduced: bool = False  # the fast decode (JPEG DCT scaling); never with the exact precision

    def describe(self) -> str:
        kind = "processes" if self.processes else ("threads" if self.workers > 1 else "thread")
        scale = ", reduced decode" if self.reduced else ""
        return f"decoding in {self.workers} {kind} within {self.budget >> 20} MiB{scale}"


def decode_plan(workers: int | None = None, reduced: bool = False, budget: int | None = None) -> DecodePlan:
    """Every core (or ``workers``), threads or processes as they scale, and a budget from the
    machine's memory."""
    n = max(1, workers if workers is not None else usable_cpus())
    if budget is None:
        memory = physical_memory()
        budget = MAX_BUDGET if memory is None else min(MAX_BUDGET, max(MIN_BUDGET, memory // 8))
    return DecodePlan(n, n > THREADS_SCALE_TO and PROCESSES_HERE, budget, reduced)


def decode_cost(path: str | Path, reduced: bool = False) -> int:
    """Bytes a decode of this file may hold at once, estimated without decoding (from the image
    header: its pixels x 4; a RAW file or a video by kind)."""
    suffix = Path(path).suffix.lower()
    if suffix in RAW_EXTENSIONS:
        return RAW_COST
    if suffix in VIDEO_EXTENSIONS:
        return VIDEO_COST
    from PIL import Image

    try:
        with open_regular(path) as fp, Image.open(fp) as image:  # reads the header only
            w, h = image.size
            jpeg = image.format in ("JPEG", "MPO")
    except Exception:  # noqa: BLE001 - decoding says what is wrong with the file
        return UNKNOWN_COST
    pixels = min(w * h, MAX_PIXELS)
    if reduced and jpeg:  # libjpeg scales by 1/2, 1/4 or 1/8, keeping both sides at least REDUCED_SIDE
        scale = next((k for k in (8, 4, 2) if min(w, h) // k >= REDUCED_SIDE), 1)
        pixels //= scale * scale
    return max(UNKNOWN_COST, pixels * 4)


def _process_init() -> None:
    """A decoding process: at the priority GeoGuess's compute threads run at (lower on POSIX), and
    deaf to Ctrl-C (the program that started it stops it; no traceback per process)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    background_thread_init()
    if hasattr(os, "nice"):
        try:
            os.nice(5)
        except OSError:
            pass


class OrderedDecoder(Generic[T]):
    """``task(path)`` for each of ``paths`` on the plan's workers; ``take()`` returns the results in
    the paths' order (see the module's description)."""

    def __init__(
        self,
        plan: DecodePlan,
        task: Callable[[str], T],
        paths: Iterable[str | Path],
        on_error: Callable[[str, BaseException], T],
        ahead: int,
    ):
        self.plan = plan
        self._task = task
        self._on_error = on_error
        self._source: Iterator[str | Path] = iter(paths)
        self._next: tuple[str, int] | None = None  # the next photo and its cost, once looked at
        self._pending: deque[tuple[str, Future[T], int]] = deque()
        self.ahead = max(1, ahead)
        self.peak_bytes = 0  # the largest estimate decoded at once (for tests and benchmarks)
        self._executor = self._start()

    def _start(self) -> Executor:
        if self.plan.processes:
            return ProcessPoolExecutor(
                self.plan.workers, mp_context=multiprocessing.get_context("spawn"), initializer=_process_init
            )
        return ThreadPoolExecutor(
            self.plan.workers, thread_name_prefix="geoguess-decode", initializer=background_thread_init
        )

    def __len__(self) -> int:
        """Photos started or waiting to be taken."""
        return len(self._pending)

    def _in_flight(self) -> int:
        return sum(cost for _, future, cost in self._pending if not future.done())

    def fill(self) -> None:
        """Start photos while fewer than ``ahead`` are pending and their estimates fit the budget."""
        while len(self._pending) < self.ahead:
            if self._next is None:
                try:
                    path = str(next(self._source))
                except StopIteration:
                    return
                self._next = (path, decode_cost(path, self.plan.reduced))
            path, cost = self._next
            busy = self._in_flight()
            if busy and busy + cost > self.plan.budget:
                return  # started when the photos being decoded are done
            self._next = None
            self._pending.append((path, self._submit(path), cost))
            self.peak_bytes = max(self.peak_bytes, busy + cost)

    def _submit(self, path: str) -> Future[T]:
        try:
            return self._executor.submit(self._task, path)
        except BrokenProcessPool:  # a worker died: the rest are decoded by a new pool
            log.warning("a decoding process ended abruptly; starting new ones")
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = self._start()
            return self._executor.submit(self._task, path)

    def exhausted(self) -> bool:
        """Whether every photo has been started (after ``fill``: nothing left to start)."""
        self.fill()
        return not self._pending and self._next is None

    def ready(self) -> bool:
        """Whether the next result is there to be taken without waiting."""
        return bool(self._pending) and self._pending[0][1].done()

    def take(self) -> T:
        """The next result in order (waiting for it; starting more photos meanwhile as memory is freed)."""
        self.fill()
        if not self._pending:
            raise IndexError("no photo left to decode")
        path, first, _ = self._pending[0]
        while not first.done():
            wait([f for _, f, _ in self._pending if not f.done()], return_when=FIRST_COMPLETED)
            self.fill()
        self._pending.popleft()
        try:
            result = first.result()
        except BrokenProcessPool:  # a process died: this photo, or another decoded beside it
            result = self._once_more(path)
        except Exception as e:  # noqa: BLE001 - a worker that died, never the decoding's own errors
            log.warning("decoding %s failed in its worker: %r", path, e)
            result = self._on_error(path, e)
        self.fill()
        return result

    def _once_more(self, path: str) -> T:
        """A photo whose process died, decoded once more (by a new pool, nothing else started
        meanwhile): the photos decoded beside the one that ended its process come back whole,
        and only that one is given its reason."""
        log.warning("a decoding process ended while %s was decoded: trying it once more", path)
        try:
            return self._submit(path).result()
        except Exception as e:  # noqa: BLE001 - as in take
            log.warning("decoding %s failed in its worker again: %r", path, e)
            return self._on_error(path, e)

    def close(self) -> None:
        """Cancel the photos not started; wait for those being decoded."""
        for _, future, _ in self._pending:
            future.cancel()
        self._pending.clear()
        self._executor.shutdown(wait=True, cancel_futures=True)
