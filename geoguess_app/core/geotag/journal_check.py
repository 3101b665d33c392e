"""What the undo journal should hold and does not: lost records, told and looked for.

The journal is append-only, so what is missing from it shows:

- **A gap in a run's numbering.** Each run numbers its writes 1, 2, 3... and its end record says
  how many there were; a number with neither a record nor a mark is a write whose record was
  deleted or wiped.
- **A run without its end.** A run records its end when it stops, Ctrl+C included. A run whose
  process is gone without an end record was killed, or its last records were cut off with the
  journal's end (a truncated file) or lost in a damaged stretch.

For such runs, the folders the run was to write in are looked through for photos that carry the
run's id in their GeoGuess provenance (``XMP-geoguess:Run``) but have no record in the journal:
each is named, with how to remove GeoGuess's tags by hand, since no exact undo is left for it. A
killed run in whose folders nothing is missing is closed with an end record, so that it is looked
at once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import GeoGuessError
from ..system import host_name, pid_alive
from .journal import Contents, Journal, Run, WriteRecord
from .metadata import RUN_KEY, read_metadata

HEAD, TAIL = 1 << 20, 1 << 18  # where a photo's XMP lies: near its start (JPEG), or its end
BY_HAND = "exiftool -XMP-geoguess:all= -GPS:all= -XMP-exif:GPS*= -overwrite_original PHOTO"


@dataclass
class Problem:
    """Something the journal should hold and does not; undo cannot put it right by itself."""

    where: str  # the photo concerned, or "(journal: ...)" when no photo can be named
    message: str
    run: str | None = None
    photo: bool = False  # ``where`` names a photo

    def describe(self) -> str:
        return f"{self.where}: {self.message}"


def check(journal: Journal, contents: Contents, close: bool = True) -> list[Problem]:
    """Every lost record the journal shows, and every photo of the runs concerned that carries
    GeoGuess's position without a record. With ``close``, a killed run in which nothing is
    missing gets its end record."""
    locate_damaged(contents)
    problems: list[Problem] = []
    numbers = _numbers(contents)
    concerned: dict[str, list[str]] = {}
    for run_id, found in numbers.items():
        run = contents.runs.get(run_id)
        if run is not None and run.pid is None and run.end is None:
            continue  # a run of a GeoGuess before 0.6, whose refused writes left their numbers unused
        top = max([*found, int((run.end or {}).get("writes", 0)) if run else 0])
        for n in sorted(set(range(1, top + 1)) - found):
            problems.append(
                Problem(
                    f"(journal: write {run_id}.{n})",
                    f"write {n} of run {run_id} is missing from the journal: its record and its marks "
                    "were deleted or wiped, and the journal names its photo nowhere else",
                    run_id,
                )
            )
            concerned.setdefault(run_id, []).append(f"write {n} missing")
    writes = {w.id for w in contents.writes}
    for write_id, found_marks in contents.marks.items():
        if write_id not in writes and any(m["type"] == "done" for _, m in found_marks):
            problems.append(
                Problem(
                    f"(journal: write {write_id})",
                    f"the record of write {write_id} is missing from the journal, and its mark (made by a "
                    "GeoGuess before 0.6) does not name the photo",
                    write_id.rsplit(".", 1)[0],
                )
            )
    last_damage = max((d.line for d in contents.damaged), default=0)
    for run in contents.runs.values():
        if run.end is not None or run.pid is None:  # ended, or written before runs recorded their end
            continue
        if run.host == host_name() and pid_alive(run.pid):
            continue  # still running (the window, or another command)
        concerned.setdefault(run.id, []).append("no end")
    for run_id, why in concerned.items():
        run = contents.runs.get(run_id) or Run(run_id, "", "", "")
        unrecorded = unrecorded_photos(run, contents)
        damaged_after = contents.torn_end or any(
            d.line > run.line and d.salvaged is None and (not d.ids or any(i.startswith(run.id + ".") for i in d.ids))
            for d in contents.damaged
        )  # damage after the run's start that may have held its records (not another run's, nor one salvaged)
        if why == ["no end"] and not unrecorded and not damaged_after:
            if close:
                _close(journal, run)
            continue
        if "no end" in why:
            problems.append(Problem(f"(journal: run {run_id})", _unfinished(run, len(unrecorded), last_damage), run_id))
        problems += [
            Problem(
                path,
                f"it carries GeoGuess's position from run {run_id}, but its journal record is lost: no exact undo "
                f"is left (by hand: {BY_HAND}, which also removes a GPS position the write may have replaced)",
                run_id,
                photo=True,
            )
            for path in unrecorded
        ]
    return problems


def locate_damaged(contents: Contents) -> None:
    """A damaged record whose photo's name cannot be proven: the file it wrote, found by its size
    and SHA-256 in the run's folders (and the folder the damaged name points to)."""
    for write in contents.writes:
        if write.origin != "damaged" or "path" not in write.unproven:
            continue
        sha, size = write.after.get("sha256"), write.after.get("size")
        if not isinstance(sha, str):
            continue
        run = contents.runs.get(write.run)
        folders = {os.path.dirname(write.path)} if write.path else set()
        if run is not None:
            folders |= set(run.folders) | {os.path.dirname(w.path) for w in run.writes if w.path and w is not write}
        for folder in sorted(f for f in folders if f):
            found = _file_with(folder, sha, size)
            if found is not None:
                write.path = found
                write.unproven = write.unproven - {"path"}
                break


def _file_with(folder: str, sha: str, size) -> str | None:
    import hashlib

    try:
        entries = list(os.scandir(folder))
    except OSError:
        return None
    for entry in entries:
        try:
            if not entry.is_file(follow_symlinks=False) or (isinstance(size, int) and entry.stat().st_size != size):
                continue
            with open(entry.path, "rb") as f:
                if hashlib.file_digest(f, "sha256").hexdigest() == sha:
                    return entry.path
        except OSError:
            continue
    return None


def _numbers(contents: Contents) -> dict[str, set[int]]:
    """Each run's write numbers the journal knows of: records whole or damaged, marks, damage."""
    found: dict[str, set[int]] = {run: set() for run in contents.runs}
    for write_id in [w.id for w in contents.writes] + list(contents.marks):
        run, _, n = write_id.rpartition(".")
        if run and n.isdigit():
            found.setdefault(run, set()).add(int(n))
    # an id read from a damaged line may itself be damaged: it fills a gap (that line is reported
    # already), never extends a run
    for write_id in (i for d in contents.damaged if d.salvaged is None for i in d.ids):
        run, _, n = write_id.rpartition(".")
        if run in found and n.isdigit() and int(n) <= max(found[run], default=0):
            found[run].add(int(n))
    return {run: numbers for run, numbers in found.items() if run != "legacy"}


def _unfinished(run: Run, unrecorded: int, damage_line: int) -> str:
    recorded = len(run.writes)
    broken = sum(1 for w in run.writes if not w.restorable)
    where = (
        f"or records past the damage at journal line {damage_line} are missing"
        if damage_line > run.line
        else "or its last records are missing (the journal may have been cut off)"
    )
    given = f" of the {run.planned} photo(s) it was given" if run.planned else ""
    damaged = f" ({broken} damaged beyond undo)" if broken else ""
    return (
        f"run {run.id} ({run.time[:19].replace('T', ' ')}) has no end record: it was interrupted, {where}. "
        f"{recorded} write(s) are recorded{damaged}; {unrecorded} photo(s){given} carry its position without "
        f"a record (listed): {unrecorded + broken} photo(s) of this run are unaccounted for"
    )


def _close(journal: Journal, run: Run) -> None:
    try:
        journal.end_run(run.id, len(run.writes), note="interrupted; checked: nothing unaccounted for")
    except OSError:
        pass  # looked at again next time


def unrecorded_photos(run: Run, contents: Contents) -> list[str]:
    """The files in ``run``'s folders whose GeoGuess provenance names the run and which no record
    (whole, damaged or from its mark) of the journal names."""
    named = {n for w in contents.writes for n in w.names() if n}
    recorded = {os.path.realpath(n) for n in named} | named
    folders = set(run.folders) | {os.path.dirname(n) for w in run.writes for n in w.names() if n}
    folders |= {os.path.dirname(m["path"]) for i, found in contents.marks.items() if i.startswith(run.id + ".")
                for _, m in found if isinstance(m.get("path"), str)}  # fmt: skip
    needle = run.id.encode("ascii", "replace")
    found = []
    for folder in sorted(f for f in folders if f):
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            try:
                if not entry.is_file(follow_symlinks=False) or entry.name.startswith(".geoguess-"):
                    continue
            except OSError:
                continue
            if entry.path in recorded or os.path.realpath(entry.path) in recorded:
                continue
            if _holds(entry.path, needle) and _written_by(entry.path, run.id):
                found.append(entry.path)
    return found


def never_written(write: WriteRecord) -> bool:
    """Whether a damaged record too broken to undo was about a photo that holds nothing of its run:
    a record cut off by a crash while it was appended (records go first, so its photo was never
    replaced), or a photo put back since. False when no file it names can be read."""
    if not write.origin or write.restorable:
        return False
    needle = write.run.encode("ascii", "replace")
    seen = False
    for name in {n for n in write.names() if n}:
        if not os.path.isfile(name):
            continue
        seen = True
        if _holds(name, needle):
            return False
    return seen


def _holds(path: str, needle: bytes) -> bool:
    try:
        with open(path, "rb") as f:
            head = f.read(HEAD)
            if needle in head:
                return True
            size = f.seek(0, 2)
            if size <= HEAD:
                return False
            f.seek(max(HEAD, size - TAIL))
            return needle in f.read()
    except OSError:
        return False


def _written_by(path: str, run: str) -> bool:
    try:
        return str(read_metadata(Path(path)).get(RUN_KEY, "")) == run
    except GeoGuessError:
        return False
