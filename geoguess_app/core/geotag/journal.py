"""The undo journal: what each geotag write changed, so that ``geoguess undo`` can put it back.

A JSON Lines file a person can read, made so that no record is lost silently:

- Each line is one JSON object whose last member is ``"crc32"``: the CRC-32 of the line's bytes
  before it. A torn line (a crash or a full disk while appending) or a damaged byte is detected;
  that record is skipped with a warning naming the photo it concerns where that can still be read.
- Every append starts on a fresh line (a newline is added first when the file does not end with
  one), so a torn record never swallows the next. A line that still holds more than one record (a
  damaged newline) is split again at the start of each record.
- Appends are serialised between threads and processes (``flock``); a write's record is synced to
  disk before the photo is replaced, and a completion mark follows the replacement. Undo decides
  from the photo's own bytes (SHA-256 before and after) whether a write happened, so a lost mark
  costs nothing.
- Text is UTF-8; a file name that is not valid UTF-8 is kept exactly, as JSON escapes.

Records, by ``type``: ``run`` (a run started: its id, time, command and folder), ``write`` (before a
photo or sidecar is replaced: everything undo needs, see ``WriteRecord``), ``done`` and
``aborted`` (after it: replaced, or not after all, with the reason), ``undone``, and ``restore``
(before undo copies an original back over a file with several hard links).
"""

from __future__ import annotations

import datetime
import fcntl
import json
import os
import re
import secrets
import threading
import zlib
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import platformdirs

from .fileattrs import fsync_dir

# The frame's end. One stray byte after it is the line's damaged newline: the record itself is whole.
_CRC = re.compile(rb', "crc32": "([0-9a-f]{8})"}[^{]?$', re.S)
_START = b'{"type": "'
_PATH = re.compile(r'"(?:path|given)": "((?:[^"\\]|\\.)*)"')
_ANY_PATH = re.compile(r'"(/(?:[^"\\]|\\.)*)"')  # when the key itself is damaged: absolute paths
_ID = re.compile(r'"(?:id|of)": "([0-9a-z.-]+)"')
LEGACY_SIDECAR = "GeoGuess:SidecarCreated"  # GeoGuess 0.x marked a sidecar it created so


def default_journal() -> Path:
    return platformdirs.user_data_path("GeoGuess", appauthor=False) / "geotag-journal.jsonl"


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


def unframe(line: bytes) -> dict | None:
    """The record of one framed line, or None if the line is torn or damaged."""
    m = _CRC.search(line)
    if m is None or int(m.group(1), 16) != zlib.crc32(line[: m.start()]):
        return None
    try:
        record = json.loads(line[: m.start()].decode("utf-8") + "}")
    except ValueError:  # UnicodeDecodeError included
        return None
    if not isinstance(record, dict) or not isinstance(record.get("type"), str):
        return None
    record.pop("crc32", None)
    return record


class WriteState(StrEnum):
    """Where a journaled write stands: its record's marks, written after it."""

    PENDING = "pending"  # no mark yet: the write may or may not have happened (a crash)
    DONE = "done"
    ABORTED = "aborted"  # the photo was never changed
    UNDONE = "undone"


MARKS = (WriteState.DONE, WriteState.ABORTED, WriteState.UNDONE)


@dataclass
class Damage:
    """A journal line that could not be read."""

    line: int  # 1-based
    text: str  # the start of what is there, for the person
    paths: list[str] = field(default_factory=list)  # the photos it may concern, where readable
    ids: list[str] = field(default_factory=list)

    def describe(self) -> str:
        about = ", ".join(self.paths) if self.paths else "a photo whose name cannot be read from it"
        return f"journal line {self.line} is damaged (torn or changed); it may concern: {about}"


@dataclass
class WriteRecord:
    """One write: enough to check a photo's state and to restore it exactly."""

    id: str
    run: str
    time: str
    kind: str  # "photo" or "sidecar"
    path: str  # the file replaced (symbolic links resolved)
    given: str | None  # the name it was given by, when that was a symbolic link
    before: dict | None  # file state before: sha256, size, mtime_ns, mode, uid, gid (None: created)
    after: dict  # sha256 and size of the file GeoGuess wrote
    tags: dict  # "set": written values, "before": their previous values, "added": tags the write added
    delta: str | None  # base64 delta rebuilding the original from the written file (bytedelta)
    in_place: bool = False
    tmp: str | None = None  # the verified new version kept until an in-place copy is complete
    state: WriteState = WriteState.PENDING
    reason: str = ""  # why it was aborted

    @classmethod
    def from_dict(cls, r: dict) -> WriteRecord:
        return cls(
            id=str(r["id"]),
            run=str(r.get("run", "")),
            time=str(r.get("time", "")),
            kind=str(r["kind"]),
            path=str(r["path"]),
            given=r.get("given"),
            before=r.get("before"),
            after=dict(r["after"]),
            tags=dict(r.get("tags") or {}),
            delta=r.get("delta"),
            in_place=bool(r.get("in_place")),
            tmp=r.get("tmp"),
        )

    def as_dict(self) -> dict:
        out: dict[str, Any] = {
            "type": "write",
            "id": self.id,
            "run": self.run,
            "time": self.time,
            "kind": self.kind,
            "path": self.path,
        }
        if self.given:
            out["given"] = self.given
        out.update(before=self.before, after=self.after, tags=self.tags, delta=self.delta)
        if self.in_place:
            out.update(in_place=True, tmp=self.tmp)
        return out

    @property
    def undoable(self) -> bool:
        return self.state in (WriteState.PENDING, WriteState.DONE)

    def names(self) -> list[str]:
        return [self.path] + ([self.given] if self.given else [])


@dataclass
class Run:
    id: str
    time: str
    command: str
    cwd: str
    writes: list[WriteRecord] = field(default_factory=list)

    @property
    def undoable(self) -> list[WriteRecord]:
        return [w for w in self.writes if w.undoable]


@dataclass
class Contents:
    runs: dict[str, Run]  # in the order they started
    writes: list[WriteRecord]  # oldest first
    damaged: list[Damage]
    restores: dict[str, dict] = field(default_factory=dict)  # in-place undo copies, by the write undone


class Journal:
    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path else default_journal()
        self._lock = threading.Lock()

    # ----- writing ---------------------------------------------------------------------------
    def append(self, record: dict, durable: bool = True) -> None:
        """Append one record on a line of its own; with ``durable``, synced to disk on return."""
        data = frame(record)
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

    def start_run(self, run: str, command: str) -> None:
        self.append({"type": "run", "run": run, "time": now_text(), "command": command, "cwd": _cwd()})

    def mark(self, kind: WriteState, of: str, reason: str = "") -> None:
        """``done``, ``aborted`` (with the reason) or ``undone`` for the write ``of``."""
        record = {"type": kind, "of": of, "time": now_text()}
        if reason:
            record["reason"] = reason
        self.append(record, durable=kind != WriteState.DONE)  # a lost done mark is recovered from the photo

    # ----- reading ---------------------------------------------------------------------------
    def read(self) -> Contents:
        """Every readable record, and every damaged line with the photos it may concern."""
        runs: dict[str, Run] = {}
        writes: dict[str, WriteRecord] = {}
        restores: dict[str, dict] = {}
        damaged: list[Damage] = []
        try:
            with open(self.path, "rb") as f:
                fcntl.flock(f.fileno(), fcntl.LOCK_SH)
                data = f.read()
        except FileNotFoundError:
            return Contents({}, [], [])
        for number, line in enumerate(data.split(b"\n"), start=1):
            if not line.strip():
                continue
            for piece, record in _records(line):
                if record is None:
                    damaged.append(_damage(number, piece))
                    continue
                try:
                    _apply(record, runs, writes, restores)
                except (KeyError, TypeError, ValueError):
                    damaged.append(_damage(number, piece))
        for d in damaged:  # a damaged mark: name the photo of the write it was about
            d.paths += [p for i in d.ids if i in writes for p in writes[i].names() if p not in d.paths]
        for w in writes.values():
            runs.setdefault(w.run, Run(w.run, w.time, "", "")).writes.append(w)
        return Contents(runs, list(writes.values()), damaged, restores)


def _records(line: bytes) -> list[tuple[bytes, dict | None]]:
    """The line's record; or, when it does not verify, its parts split at each record start, each
    with its record or None (damaged)."""
    record = unframe(line) or _legacy(line)
    if record is not None:
        return [(line, record)]
    starts = [m.start() for m in re.finditer(re.escape(_START), line)]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    pieces = [line[a:b] for a, b in zip(starts, [*starts[1:], len(line)])]
    return [(piece, unframe(piece)) for piece in pieces]


def _legacy(line: bytes) -> dict | None:
    """A record of GeoGuess 0.x's journal (unframed JSON), as a record of this one."""
    try:
        old = json.loads(line.decode("utf-8"))
    except ValueError:
        return None
    if not isinstance(old, dict) or "crc32" in old or "type" in old:
        return None
    if "undone" in old:
        return {"type": "undone", "of": str(old["undone"])}
    if not {"id", "path", "before", "after"} <= set(old):
        return None
    created = bool(old["before"].get(LEGACY_SIDECAR))
    before = {} if created else old["before"]
    return {
        "type": "write",
        "id": str(old["id"]),
        "run": "legacy",
        "time": "",
        "path": old["path"],
        "kind": "sidecar" if created else "photo",
        "before": None if created else {},
        "after": {},
        "tags": {"set": old["after"], "before": before, "added": []},
        "delta": None,
    }


def _apply(record: dict, runs: dict[str, Run], writes: dict[str, WriteRecord], restores: dict[str, dict]) -> None:
    kind = record["type"]
    if kind == "run":
        runs[record["run"]] = Run(
            record["run"], record.get("time", ""), record.get("command", ""), record.get("cwd", "")
        )
    elif kind == "write":
        write = WriteRecord.from_dict(record)
        writes[write.id] = write
    elif kind == "restore":
        restores[str(record["of"])] = record
    elif kind in MARKS:
        written = writes.get(record["of"])
        if written is not None:
            written.state = WriteState(kind)
            written.reason = record.get("reason", "")
    else:
        raise ValueError(f"unknown record type {kind!r}")


def _damage(number: int, piece: bytes) -> Damage:
    text = piece.decode("utf-8", "replace")
    paths = []
    for m in list(_PATH.finditer(text)) or [m for m in _ANY_PATH.finditer(text) if "/.geoguess-" not in m.group(1)]:
        try:
            paths.append(json.loads(f'"{m.group(1)}"'))
        except ValueError:
            paths.append(m.group(1))
    return Damage(number, text[:80], paths, _ID.findall(text))


def _cwd() -> str:
    try:
        return os.getcwd()
    except OSError:
        return ""
