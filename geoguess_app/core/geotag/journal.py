"""The undo journal: what each geotag write changed, so that ``geoguess undo`` can put it back.

A JSON Lines file a person can read, made so that no record is lost silently:

- Each line is one JSON object whose last member is ``"crc32"``: the CRC-32 of the line's bytes
  before it. A torn line (a crash or a full disk while appending) or a damaged byte is detected and
  reported with the photo it concerns where that can still be read (journal_read.py).
- A write record also carries the CRC-32 of each of its parts (``sums``): damage in one part loses
  only that part, and undo uses what still checks out (journal_salvage.py).
- A write's completion mark repeats what undo needs besides the delta (the photo's name, its
  hashes and times, the tags written): a write whose record was deleted or wiped is still named
  and undone by tags from its mark.
- A run records how many photos in which folders it was given, and, when it stops, how many writes
  it recorded: a gap in its numbering, or a run cut off with the journal's end, is told, and the
  photos that carry the run's position without a record are looked for (journal_check.py).
- Every append starts on a fresh line (a newline is added first when the file does not end with
  one), so a torn record never swallows the next. A line that still holds more than one record (a
  damaged newline) is split again at the start of each record.
- Appends are serialised between threads and processes (``flock``); a write's record is synced to
  disk before the photo is replaced, and a completion mark follows the replacement. Undo decides
  from the photo's own bytes (SHA-256 before and after) whether a write happened, so a lost mark
  costs nothing.
- Text is UTF-8; a file name that is not valid UTF-8 is kept exactly, as JSON escapes.

Records, by ``type``: ``run`` (a run started: its id, time, command, folder and process), ``write``
(before a photo or sidecar is replaced: everything undo needs, see ``WriteRecord``), ``done`` and
``aborted`` (after it: replaced, or not after all, with the reason), ``undone``, ``restore``
(before undo copies an original back over a file with several hard links) and ``end`` (a run
stopped, with its number of writes).
"""

from __future__ import annotations

import datetime
import fcntl
import json
import os
import secrets
import threading
import zlib
from pathlib import Path
from typing import Any

from .. import folders
from ..system import host_name
from .fileattrs import fsync_dir
from .journal_read import LEGACY_SIDECAR, read_contents, unframe
from .journal_records import MARKS, Contents, Damage, Run, WriteRecord, WriteState
from .journal_salvage import with_sums

__all__ = [
    "LEGACY_SIDECAR",
    "MARKS",
    "Contents",
    "Damage",
    "Journal",
    "Run",
    "WriteRecord",
    "WriteState",
    "frame",
    "new_run_id",
    "now_text",
    "unframe",
]

MAX_RUN_FOLDERS = 50


def default_journal() -> Path:
    return folders.journal()


def new_run_id() -> str:
    """A readable unique run id: local time plus random hex (20261129-131502-3f2a7c). Each write
    of the run is numbered after it (20261129-131502-3f2a7c.12)."""
    return datetime.datetime.now().strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)


def now_text() -> str:
    return datetime.datetime.now().astimezone().isoformat(timespec="seconds")


def frame(record: dict) -> bytes:
    """One journal line: the record as JSON with its CRC-32 as the last member."""
    text = json.dumps(record, ensure_ascii=False)
    # Lone surrogates (file names that are not UTF-8) become JSON escapes, read back exactly.
    head = text[:-1].encode("utf-8", "backslashreplace")
    return head + b', "crc32": "%08x"}\n' % zlib.crc32(head)


class Journal:
    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path else default_journal()
        self._lock = threading.Lock()

    # ----- writing ---------------------------------------------------------------------------
    def append(self, record: dict, durable: bool = True) -> None:
        """Append one record on a line of its own; with ``durable``, synced to disk on return. A
        write record gets the sums of its parts (see journal_salvage)."""
        data = frame(with_sums(record) if record.get("type") == "write" else record)
        with self._lock:
            created = not self.path.exists()
            if created:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    data = b"\n" + data  # the last record was torn: never append onto it
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                if durable:
                    os.fsync(fd)
            finally:
                os.close(fd)  # also releases the lock
            if created and durable:
                fsync_dir(self.path.parent)

    def start_run(self, run: str, command: str, planned: int | None = None, folders: list[str] | None = None) -> None:
        """A run begins: its id, command, process, and (when known) how many photos in which folders
        it is to write, so that records lost after it can be told and looked for."""
        record: dict[str, Any] = {"type": "run", "run": run, "time": now_text(), "command": command, "cwd": _cwd()}
        record.update(pid=os.getpid(), host=host_name())
        if planned is not None:
            record["photos"] = planned
        if folders:
            record["folders"] = folders[:MAX_RUN_FOLDERS]
        self.append(record)

    def end_run(self, run: str, writes: int, note: str = "") -> None:
        """A run ended, having recorded ``writes`` writes (numbered 1 to ``writes``)."""
        record: dict[str, Any] = {"type": "end", "run": run, "time": now_text(), "writes": writes}
        if note:
            record["note"] = note
        self.append(record)

    def mark(self, kind: WriteState, of: str, reason: str = "", about: dict | None = None) -> None:
        """``done``, ``aborted`` (with the reason) or ``undone`` for the write ``of``; a done mark
        repeats ``about`` (WriteRecord.mark_summary)."""
        record: dict[str, Any] = {"type": kind, "of": of, "time": now_text()}
        if reason:
            record["reason"] = reason
        if about:
            record.update(about)
        self.append(record, durable=kind != WriteState.DONE)  # a lost done mark is recovered from the photo

    # ----- reading ---------------------------------------------------------------------------
    def read(self) -> Contents:
        """Every readable record, and every damaged line with the photos it may concern."""
        try:
            with open(self.path, "rb") as f:
                fcntl.flock(f.fileno(), fcntl.LOCK_SH)
                data = f.read()
        except FileNotFoundError:
            return Contents({}, [], [])
        return read_contents(data)


def _cwd() -> str:
    try:
        return os.getcwd()
    except OSError:
        return ""
