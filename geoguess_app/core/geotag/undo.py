"""Undo: put photos back as they were before GeoGuess wrote into them.

For each write, the journal holds the SHA-256 of the file before and after, and a delta that
rebuilds the original from the written file (see bytedelta). For each photo, newest write first:

- **Unchanged since** (its bytes are what GeoGuess wrote): the original is rebuilt, checked
  against its SHA-256 and put back through the same staged write as a geotag write (owner, group,
  mode and extended attributes kept, its modification time as before the write): byte-identical.
- **Already as before** (its bytes are the original's): nothing to do; a write that a crash
  stopped before the rename, or one undone already.
- **Changed since by another program, GeoGuess's position still in it**: every tag GeoGuess set or
  added is removed, every tag it replaced or removed is put back, and the result is checked tag by
  tag against the photo as it was before GeoGuess's write, with the other program's changes kept:
  tag-identical. A photo that had no EXIF before has none after (its EXIF block goes).
- **Its position changed since** (edited by hand or by another tool): refused, with the reason.

Undo is scoped by photo, by folder, by run (each ``tag --write`` run, and each write from the
window, has an id) or the last run; ``list_runs`` shows what can be undone. A damaged journal
record is undone from what still checks out in it (and in its completion mark); a record lost
whole, from its mark, by tags; what cannot be undone is named with the reason (journal_check.py),
never skipped silently, and the run exits non-zero.
"""

from __future__ import annotations

import base64
import dataclasses
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import GeoGuessError, WriteRefused
from ..names import display_path
from ..system import photo_lock
from . import bytedelta, fileattrs
from .journal import Contents, Journal, WriteRecord, WriteState
from .journal_check import Problem, check, never_written
from .outcome import ERROR, REFUSED, RESTORED, TagOutcome
from .recovery import finish_interrupted, tidy_folders
from .staged_write import StagedWrite, temp_path
from .undo_listing import harmless
from .undo_tags import remove_file, restore_tags


@dataclass
class UndoScope:
    """Which writes to undo: those of ``paths`` (photos, or folders and everything under them),
    of one ``run``, of the ``last`` run, or ``everything``."""

    paths: list[Path] = field(default_factory=list)
    run: str | None = None
    last: bool = False
    everything: bool = False

    def describe(self) -> str:
        if self.everything:
            return "every write in the journal"
        if self.run:
            return f"run {self.run}"
        if self.last:
            return "the last run"
        return ", ".join(display_path(p) for p in self.paths)


def _matcher(paths: list[Path]):
    """Whether a journal name falls in ``paths``: the same name (or its link target), a name under
    one of the folders, or another name (hard link) of the same file."""
    exact, folders, files = set(), [], set()
    for p in paths:
        for name in {os.path.realpath(p), os.path.abspath(p)}:
            exact.add(name)
            if os.path.isdir(p):
                folders.append(name.rstrip(os.sep) + os.sep)
        try:
            st = os.stat(p)
            if not os.path.isdir(p):
                files.add((st.st_dev, st.st_ino))
        except OSError:
            pass

    def match(name: str) -> bool:
        if name in exact or name.startswith(tuple(folders)):
            return True
        try:
            st = os.stat(name)
        except OSError:
            return False
        return (st.st_dev, st.st_ino) in files

    return match


def select(contents: Contents, scope: UndoScope) -> list[WriteRecord]:
    """The undoable writes in scope, oldest first."""
    writes = [w for w in contents.writes if w.undoable]
    if scope.everything:
        return writes
    if scope.run or scope.last:
        run = scope.run or last_run(contents)
        return [w for w in writes if w.run == run]
    match = _matcher(scope.paths)
    return [w for w in writes if any(match(n) for n in w.names())]


def last_run(contents: Contents) -> str | None:
    """The run that wrote last (undone or not: undoing "the last run" twice does nothing more)."""
    for run in reversed(list(contents.runs.values())):
        if any(w.state != WriteState.ABORTED for w in run.writes):
            return run.id
    return None


def _damage_in_scope(contents: Contents, scope: UndoScope, run: str | None) -> list:
    if scope.everything:
        return contents.damaged
    if scope.run or scope.last:
        return [d for d in contents.damaged if not d.ids or any(i.startswith(f"{run}.") or i == run for i in d.ids)]
    match = _matcher(scope.paths)
    return [d for d in contents.damaged if not d.paths or any(match(p) for p in d.paths)]


def _problems_in_scope(problems: list[Problem], contents: Contents, scope: UndoScope, run: str | None) -> list:
    if scope.everything:
        return problems
    if scope.run or scope.last:
        return [p for p in problems if p.run == run]
    match = _matcher(scope.paths)
    runs = {w.run for w in contents.writes if any(match(n) for n in w.names() if n)}
    return [p for p in problems if (match(p.where) if p.photo else p.run in runs)]


def undo(journal: Journal, scope: UndoScope, notices: list[str] | None = None) -> Iterator[TagOutcome]:
    """Restore the photos in scope, newest write first; one outcome per write (and one error per
    damaged journal record, or record lost, that may concern them, see journal_check). What else
    was done (an interrupted write finished, temporary files of a killed run removed) is added to
    ``notices``."""
    notes = notices if notices is not None else []
    notes += finish_interrupted(journal)
    contents = journal.read()
    problems = check(journal, contents)
    run = scope.run or (last_run(contents) if scope.last else None)
    selected = select(contents, scope)
    notes += tidy_folders({Path(w.path).parent for w in selected if w.path})
    for damage in _damage_in_scope(contents, scope, run):
        reason = harmless(damage, contents, problems)
        if reason:
            notes.append(f"{damage.describe()}; {reason}")
            continue
        where = damage.paths[0] if damage.paths else f"(journal line {damage.line})"
        yield TagOutcome(where, ERROR, damage.describe() + f": check that photo by hand ({CHECK_BY_HAND})")
    for problem in _problems_in_scope(problems, contents, scope, run):
        yield TagOutcome(problem.where, ERROR, problem.message)
    for record in reversed(selected):
        yield restore(journal, record)


CHECK_BY_HAND = "exiftool -XMP-geoguess:all -GPS:all PHOTO"


def restore(journal: Journal, record: WriteRecord) -> TagOutcome:
    path = Path(record.path)
    shown = record.given or record.path
    try:
        if not path.exists():
            raise WriteRefused("it no longer exists")
        message = _restore(journal, record, path)
        try:
            journal.mark(WriteState.UNDONE, record.id)
        except OSError as e:
            message += f" (the journal could not record it: {fileattrs.explain(e, journal.path)})"
        return TagOutcome(shown, RESTORED, message)
    except GeoGuessError as e:
        return TagOutcome(shown, REFUSED, str(e))
    except OSError as e:
        return TagOutcome(shown, ERROR, f"cannot restore it: {fileattrs.explain(e, path)}")


def _restore(journal: Journal, record: WriteRecord, path: Path) -> str:
    with photo_lock(path):  # read, decide and put back while no other GeoGuess writes it
        return _restore_locked(journal, record, path) + _provenance_note(record)


def _restore_locked(journal: Journal, record: WriteRecord, path: Path) -> str:
    after = record.after.get("sha256")
    before = (record.before or {}).get("sha256")
    current = path.read_bytes()
    digest = bytedelta.sha256(current)
    if record.before is None and digest == after and "before" not in record.unproven:
        remove_file(path)  # a sidecar GeoGuess created, untouched since
        return "sidecar removed (GeoGuess had created it)"
    if before and digest == before:
        return "nothing to undo: it is already as it was before GeoGuess's write"
    if never_written(record):
        return "nothing to undo: it holds nothing of this write (its journal record was cut off before the photo was written)"
    if not record.restorable:
        raise WriteRefused(
            "too little of its journal record is left (the journal is damaged there) to undo it: left as it "
            f"is ({CHECK_BY_HAND})"
        )
    # Unchanged since GeoGuess wrote it, and the delta rebuilds the recorded original (SHA-256):
    # whatever else of the record was damaged, this is the photo as it was. (A photo changed since
    # may rebuild too, when the change lay where the write did; it is undone by tags, which keeps
    # the other program's changes or refuses to lose them.)
    original = _rebuilt(record, current) if digest == after else None
    if original is not None and _relink(record, path, current):
        return "byte-identical to before GeoGuess's write, one file with its other names again"
    if original is not None:
        _put_back(journal, record, path, current, original)
        if "before.mtime_ns" in record.unproven:
            return "byte-identical to before GeoGuess's write (its modification time was lost with the record)"
        return "byte-identical to before GeoGuess's write"
    proven = "delta" not in record.unproven and before and "before.sha256" not in record.unproven
    if digest == after and record.delta and (not record.origin or proven):
        # unchanged, and a delta its record proves does not rebuild the original: the record is not
        # what it says, and its tags are not to be trusted either
        raise WriteRefused(f"its journal record does not rebuild the original (the record is damaged): {CHECK_BY_HAND}")
    if "path" in record.unproven and digest != after:
        raise WriteRefused(
            "its journal record is damaged in the photo's name, and this file is not the one GeoGuess wrote: "
            f"left as it is ({CHECK_BY_HAND})"
        )
    if "tags" in record.unproven:
        raise WriteRefused(
            "its journal record is damaged where the tags GeoGuess wrote are kept, and it cannot be rebuilt "
            f"byte for byte: left as it is ({CHECK_BY_HAND})"
        )
    return restore_tags(journal, record, path)


def _relink(record: WriteRecord, path: Path, current: bytes) -> bool:
    """A write that split a file with several names (``--hardlinks split``) is undone by making this
    name one of them again: a hard link to an other name that still holds the original file
    (its device and inode as recorded, its bytes the original's), put in place by rename. False
    when no such name is left (the bytes are then put back into a file of this name's own)."""
    before = record.before or {}
    if record.in_place or before.get("nlink", 1) < 2 or "ino" not in before:
        return False
    for name in before.get("links") or []:
        try:
            st = os.stat(name)
            if (st.st_dev, st.st_ino) != (before.get("dev"), before.get("ino")):
                continue
            with open(name, "rb") as f:
                if bytedelta.sha256(f.read()) != before.get("sha256"):
                    continue  # that file changed since: this name keeps a file of its own
            if path.read_bytes() != current:
                raise WriteRefused("it changed while GeoGuess was restoring it; left as the other program wrote it")
            tmp = temp_path(path)
            os.link(name, tmp)
            try:
                os.replace(tmp, path)
            finally:
                tmp.unlink(missing_ok=True)
        except OSError:
            continue
        fileattrs.fsync_dir(path.parent)
        return True
    return False


def _rebuilt(record: WriteRecord, current: bytes) -> bytes | None:
    """The original, rebuilt by the record's delta from the photo as it is, when its SHA-256 is the
    recorded one (a damaged delta, or a photo changed since, gives something else: None)."""
    before = (record.before or {}).get("sha256")
    if not record.delta or not isinstance(before, str):
        return None
    try:
        original = bytedelta.apply(current, base64.b64decode(record.delta))
    except Exception:  # noqa: BLE001 - a damaged delta: any failure means it cannot be used
        return None
    return original if bytedelta.sha256(original) == before else None


def _provenance_note(record: WriteRecord) -> str:
    if record.origin == "mark":
        return " (its journal record was lost; undone from the write's completion mark)"
    if record.origin == "damaged":
        return " (its journal record is damaged; undone from what still checks out in it)"
    return ""


def _put_back(journal: Journal, record: WriteRecord, path: Path, current: bytes, original: bytes) -> None:
    with StagedWrite(path, hardlinks="in-place") as stage:
        if stage.original != current:
            raise WriteRefused("it changed while GeoGuess was restoring it; left as the other program wrote it")
        with open(stage.tmp, "xb") as f:
            f.write(original)
        assert stage.attrs is not None
        before = record.before or {}
        # the times as before GeoGuess's write (each that the record holds and can prove)
        mtime = before.get("mtime_ns", stage.attrs.mtime_ns) if "before.mtime_ns" not in record.unproven else None
        atime = before.get("atime_ns", stage.attrs.atime_ns) if "before.atime_ns" not in record.unproven else None
        stage.attrs = dataclasses.replace(
            stage.attrs,
            mtime_ns=stage.attrs.mtime_ns if mtime is None else mtime,
            atime_ns=stage.attrs.atime_ns if atime is None else atime,
        )
        restore_record = None
        if stage.in_place:  # kept until the copy is complete: see staged_write.finish_interrupted
            back = bytedelta.make(original, current)
            restore_record = {
                "type": "restore",
                "of": record.id,
                "path": str(stage.target),
                "sha256": bytedelta.sha256(original),
                "from_sha256": bytedelta.sha256(current),
                "back": base64.b64encode(back).decode("ascii") if back is not None else None,
                "atime_ns": stage.attrs.atime_ns,  # the times it promises, for a run that finishes it
                "mtime_ns": stage.attrs.mtime_ns,
            }
        stage.commit(journal, restore_record, keep_mtime=True)
