"""What a killed run leaves behind, put right by the next run.

- An in-place write (a file with several hard links) interrupted while its verified new version was
  being copied over the photo is finished from the kept copy, or the photo is put back, and the
  journal says which (``finish_interrupted``).
- Temporary files of a killed run are removed from the folders about to be written
  (``clean_stale_temps``, ``tidy_folders``); a file being written by a running GeoGuess is never
  touched.
"""

from __future__ import annotations

import base64
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import GeoGuessError
from ..system import photo_lock, pid_alive
from . import bytedelta, fileattrs
from .journal import Journal, WriteState
from .staged_write import _INPLACE, _OLD_TEMP, _TEMP, copy_over

log = logging.getLogger(__name__)


@dataclass
class _Unfinished:
    """An in-place copy (a write, or the undo of one) that a killed run left."""

    target: Path
    kept: Path  # the verified new content
    new_sha: str
    old_sha: str | None  # what the file held before the copy began
    back: str | None  # base64 delta rebuilding the old content from the new
    mark: WriteState  # journal mark once finished: done or undone
    write_id: str
    times: tuple[int | None, int | None] | None  # (access, modification) times promised, None: the copy's own
    about: dict | None = None  # what a done mark repeats (WriteRecord.mark_summary)


def finish_interrupted(journal: Journal) -> list[str]:
    """Finish in-place copies (writes, and undos of them) that a killed run left half done, from
    the verified copy kept beside the photo; returns what was done, for the person. A copy whose
    process still runs is left to it; a photo changed since (neither before, after, nor a torn
    mix of the two) is left as it is."""
    contents = journal.read()
    jobs = []
    for w in contents.writes:
        before = w.before or {}
        kept_times = None if w.new_times else (before.get("atime_ns"), before.get("mtime_ns"))
        if w.in_place and w.state == WriteState.PENDING and w.tmp:
            jobs.append(
                _Unfinished(
                    Path(w.path),
                    Path(w.tmp),
                    w.after.get("sha256", ""),
                    (w.before or {}).get("sha256"),
                    w.delta,
                    WriteState.DONE,
                    w.id,
                    kept_times,
                    w.mark_summary(),
                )
            )
        restore = contents.restores.get(w.id)
        if restore is not None and w.state != WriteState.UNDONE and restore.get("tmp"):
            jobs.append(
                _Unfinished(
                    Path(restore["path"]),
                    Path(restore["tmp"]),
                    restore.get("sha256", ""),
                    restore.get("from_sha256"),
                    restore.get("back"),
                    WriteState.UNDONE,
                    w.id,
                    (restore.get("atime_ns"), restore.get("mtime_ns", before.get("mtime_ns"))),
                )
            )
    notes = []
    for job in jobs:
        what = "write" if job.mark == WriteState.DONE else "undo"
        m = _INPLACE.match(job.kept.name)
        if m is not None and pid_alive(int(m.group(1))):
            continue  # a running GeoGuess is doing it
        try:
            with photo_lock(job.target):  # no other GeoGuess process writes it meanwhile
                note = _finish(job, journal)
        except OSError as e:
            note = f"cannot finish: {fileattrs.explain(e, job.target)}"
        except GeoGuessError as e:
            note = f"not finished now: {e}"
        if note:
            notes.append(f"the in-place {what} of {job.target} that an interrupted run left: {note}")
    return notes


def _finish(job: _Unfinished, journal: Journal) -> str:
    current = job.target.read_bytes() if job.target.exists() else None
    digest = bytedelta.sha256(current) if current is not None else None
    if digest == job.new_sha:  # the copy was complete: what was left is its times, and tidying up
        _set_times(job)
        job.kept.unlink(missing_ok=True)
        journal.mark(job.mark, job.write_id, about=job.about)
        return "" if job.times is None else "its times put back as promised"
    if not job.kept.exists():
        if digest == job.old_sha and job.mark == WriteState.DONE:
            journal.mark(WriteState.ABORTED, job.write_id, "interrupted before the photo was changed")
        return ""
    new = job.kept.read_bytes()
    if bytedelta.sha256(new) != job.new_sha:
        return f"its verified copy {job.kept} changed; left as it is"
    old = bytedelta.apply(new, base64.b64decode(job.back)) if job.back else None
    if old is None or bytedelta.sha256(old) != job.old_sha or current is None or not _torn(current, old, new):
        return f"the photo changed since; left as it is (the verified copy stays at {job.kept})"
    copy_over(job.target, new)
    _set_times(job)
    job.kept.unlink()
    journal.mark(job.mark, job.write_id, about=job.about)
    return "finished"


def _set_times(job: _Unfinished) -> None:
    """The access and modification times the interrupted write or undo promised (each that it
    recorded; the other as the file has it now), set after every read of the file."""
    if job.times is None or job.times == (None, None):
        return
    now = os.stat(job.target)
    atime, mtime = job.times
    os.utime(
        job.target,
        ns=(atime if atime is not None else now.st_atime_ns, mtime if mtime is not None else now.st_mtime_ns),
    )


def _torn(current: bytes, old: bytes, new: bytes) -> bool:
    """Whether ``current`` is what an interrupted copy of ``new`` over ``old`` leaves: the start of
    the new content, then the rest of the old (the old one alone, or the new one, included)."""
    k = bytedelta.common_prefix(current, new)
    return current == new[:k] + old[k:] or current == old


def clean_stale_temps(folders) -> tuple[list[Path], list[Path]]:
    """Remove GeoGuess's temporary files that a killed run left in ``folders``: (removed, kept).
    Kept are verified copies of in-place writes not finished: they may still be needed."""
    import time

    removed, kept = [], []
    for folder in {Path(f) for f in folders}:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            name = entry.name
            if not name.startswith("."):
                continue
            m = _TEMP.match(name)
            stale = (m is not None and not pid_alive(int(m.group(1)))) or (
                _OLD_TEMP.match(name) is not None and _age(entry, time.time()) > 3600
            )
            inplace = _INPLACE.match(name)
            if inplace is not None:
                if not pid_alive(int(inplace.group(1))):
                    kept.append(Path(entry.path))
            elif stale:
                try:
                    os.unlink(entry.path)
                    removed.append(Path(entry.path))
                except OSError:
                    pass
    return removed, kept


def tidy_folders(folders) -> list[str]:
    """Clean stale temporary files from ``folders``; what was done, for the person."""
    removed, kept = clean_stale_temps(folders)
    notes = [f"removed {p}, a temporary file an interrupted GeoGuess run left" for p in removed]
    notes += [
        f"left {p}: the verified copy of an interrupted in-place write, kept because another undo "
        "journal records it or because the photo changed since (see geoguess undo --list)"
        for p in kept
    ]
    return notes


def _age(entry: os.DirEntry, now: float) -> float:
    try:
        return now - entry.stat(follow_symlinks=False).st_mtime
    except OSError:
        return 0.0
