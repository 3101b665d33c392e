"""The undo journal's records as GeoGuess reads them: runs, writes and their marks, and the
damaged lines (see journal.py for the file, journal_read.py for how it is read)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .journal_salvage import Salvaged

WRITE_ID = re.compile(r"[0-9a-z-]+\.[0-9]+")  # RUN.N
BEFORE_IN_MARK = ("sha256", "size", "mtime_ns", "atime_ns")


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
    salvaged: str | None = None  # the write whose record it was, read from what checks out in it

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
    new_times: bool = False  # in place with --touch: the file's times are the copy's own
    state: WriteState = WriteState.PENDING
    reason: str = ""  # why it was aborted
    #: Where the record came from when it is not whole: "" (whole), "damaged" (a damaged line: what
    #: checks out in it, completed by its mark) or "mark" (the record is gone; its completion mark).
    origin: str = ""
    unproven: frozenset[str] = frozenset()  # parts (journal_salvage.parts) that could not be proven
    line: int = 0  # where it is in the journal (1-based)

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
            new_times=r.get("times") == "new",
        )

    @classmethod
    def from_salvage(cls, salvaged: Salvaged, line: int) -> WriteRecord | None:
        """What a damaged line still holds, as a record (parts it lost: None or empty, and listed
        in ``unproven``); None when it says neither which write nor which run it was. Without its
        id, it is numbered ``RUN.line-N`` until its number is found (journal_read)."""
        r = salvaged.record
        write_id = r.get("id")
        run = r.get("run") if isinstance(r.get("run"), str) else None
        if not isinstance(write_id, str) or not WRITE_ID.fullmatch(write_id):
            if run is None:
                return None
            write_id = f"{run}.line-{line}"
        if run is None or ("run" not in salvaged.proven and "id" in salvaged.proven):
            run = write_id.rsplit(".", 1)[0]  # the proven one of the two

        def text(key: str) -> str | None:
            value = r.get(key)
            return value if isinstance(value, str) else None

        before = r.get("before")
        return cls(
            id=write_id,
            run=str(run),
            time=text("time") or "",
            kind=text("kind") or "photo",
            path=text("path") or "",
            given=text("given"),
            before=before if isinstance(before, dict) or before is None and "before" in r else {},
            after=r["after"] if isinstance(r.get("after"), dict) else {},
            tags=r["tags"] if isinstance(r.get("tags"), dict) else {},
            delta=text("delta"),
            in_place=r.get("in_place") is True,
            tmp=text("tmp"),
            new_times=r.get("times") == "new",
            origin="damaged",
            unproven=frozenset(salvaged.unproven | ({"path"} if "path" not in r else set())),
            line=line,
        )

    @classmethod
    def from_mark(cls, write_id: str, mark: dict, line: int) -> WriteRecord | None:
        """A write whose record is gone, from its completion mark (None for a mark of GeoGuess
        before 0.6, which does not name the photo)."""
        if not isinstance(mark.get("path"), str):
            return None
        before = mark.get("before")
        return cls(
            id=write_id,
            run=write_id.rsplit(".", 1)[0],
            time=str(mark.get("time", "")),
            kind=str(mark.get("kind", "photo")),
            path=mark["path"],
            given=mark.get("given"),
            before=dict(before) if isinstance(before, dict) else None,
            after=dict(mark.get("after") or {}),
            tags=dict(mark.get("tags") or {}),
            delta=None,
            origin="mark",
            unproven=frozenset({"delta"}),
            line=line,
        )

    @property
    def restorable(self) -> bool:
        """Whether what undo needs may be there: a whole record, a delta with the original's hash
        (what it rebuilds proves itself), or the tags written, proven."""
        if not self.origin:
            return True
        return bool(self.delta and (self.before or {}).get("sha256")) or (
            "tags" not in self.unproven and bool(self.tags.get("set"))
        )

    def mark_summary(self) -> dict:
        """What its completion mark repeats, so that undo still knows the photo, its hashes and the
        tags written should the record itself be lost or damaged (the EXIF block aside: large)."""
        before = None if self.before is None else {k: self.before[k] for k in BEFORE_IN_MARK if k in self.before}
        out: dict[str, Any] = {"kind": self.kind, "path": self.path}
        if self.given:
            out["given"] = self.given
        out.update(
            before=before,
            after={"sha256": self.after.get("sha256")},
            tags={k: v for k, v in self.tags.items() if k != "exif"},
        )
        return out

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
            if self.new_times:
                out["times"] = "new"
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
    pid: int | None = None  # the process that wrote it, on ``host`` (GeoGuess 0.6 on)
    host: str = ""
    planned: int | None = None  # how many photos it was given
    folders: list[str] = field(default_factory=list)  # the folders it was to write in
    end: dict | None = None  # its end record: how many writes it recorded
    line: int = 0

    @property
    def undoable(self) -> list[WriteRecord]:
        return [w for w in self.writes if w.undoable]


@dataclass
class Contents:
    runs: dict[str, Run]  # in the order they started
    writes: list[WriteRecord]  # oldest first
    damaged: list[Damage]
    restores: dict[str, dict] = field(default_factory=dict)  # in-place undo copies, by the write undone
    #: every mark, by the write it is about: (line, record), in order (marks without their write too)
    marks: dict[str, list[tuple[int, dict]]] = field(default_factory=dict)
    torn_end: bool = False  # the file ends inside a record (cut off, or a crash while appending)
