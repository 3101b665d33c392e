"""What can be undone, as ``geoguess undo --list`` and the window's Undo menu show it: each run
that wrote, how many of its photos can be put back, and what the journal's damage or lost
records mean for them. Reading only: a listing changes nothing in the journal."""

from __future__ import annotations

import os
from dataclasses import dataclass

from .journal import Contents, Journal, Run, WriteState
from .journal_check import Problem, check, never_written
from .metadata import NAMESPACE_BYTES

__all__ = ["JournalNote", "RunSummary", "harmless", "list_runs"]


def harmless(damage, contents: Contents, problems: list[Problem]) -> str | None:
    """Why a damaged journal line loses nothing, or None. A record is written before its photo is
    replaced, so a line torn by a crash was about a photo still as it was; a mark (done, undone)
    is recovered from the photo's bytes; a damaged write record is undone from what checks out in
    it; a line that names nothing is accounted for by the runs' numbering and ends (journal_check)."""
    writes = {w.id: w for w in contents.writes}
    if damage.salvaged is not None:
        if never_written(writes[damage.salvaged]):
            return f"its record of write {damage.salvaged} is cut off, but the photo holds nothing of that write (nothing lost)"
        if not writes[damage.salvaged].restorable:
            return f"too little of its record of write {damage.salvaged} is left to undo that photo (said below)"
        return f"its record of write {damage.salvaged} is undone from what still checks out in it and in its mark"
    if damage.ids and all(i in writes for i in damage.ids):
        return "it marked a write whose record is intact (nothing lost)"
    if not damage.paths and not damage.ids:
        if problems:
            return "what it held cannot be read; what the journal lost is listed"
        return "what it held cannot be read, but every run's numbering and end are whole (no write record lost)"
    if not damage.paths:
        return None
    handled = {n for w in contents.writes if w.undoable for n in w.names()}
    for name in damage.paths:
        if name in handled:
            continue
        try:
            with open(name, "rb") as f:
                if NAMESPACE_BYTES in f.read():
                    return None  # GeoGuess's provenance is in it, and no readable record says how to undo it
        except OSError:
            continue
    return "the photos it names hold nothing of GeoGuess's, or have a readable record (nothing lost)"


@dataclass
class RunSummary:
    run: Run
    undoable: int
    written: int
    folders: list[str]


@dataclass
class JournalNote:
    """What a person must hear about the journal: a damaged line, or a record it lost. ``serious``
    when something may not be undone because of it."""

    text: str
    serious: bool

    def describe(self) -> str:
        return self.text


def list_runs(journal: Journal) -> tuple[list[RunSummary], list[JournalNote]]:
    """Every run that wrote something, oldest first, and what the person must hear about the
    journal: its damaged lines, and the records it lost (journal_check.Problem)."""
    contents = journal.read()
    problems = check(journal, contents, close=False)  # a listing changes nothing
    notes = []
    writes = {w.id: w for w in contents.writes}
    for damage in contents.damaged:
        reason = harmless(damage, contents, problems)
        salvaged = writes.get(damage.salvaged) if damage.salvaged is not None else None
        lost = salvaged is not None and not salvaged.restorable and not never_written(salvaged)
        if lost:
            reason = f"too little of its record of write {damage.salvaged} is left to undo that photo"
        notes.append(JournalNote(damage.describe() + (f"; {reason}" if reason else ""), lost or not reason))
    notes += [
        JournalNote(
            f"the record of write {w.id} ({w.given or w.path}) is missing from the journal; its completion mark "
            "remains, so undo restores that photo by tags",
            False,
        )
        for w in contents.writes
        if w.origin == "mark" and w.undoable
    ]
    notes += [JournalNote(p.describe(), True) for p in problems]
    summaries = []
    for run in contents.runs.values():
        written = [w for w in run.writes if w.state != WriteState.ABORTED and not never_written(w)]
        if not written:
            continue
        folders = sorted({os.path.dirname(w.given or w.path) for w in written})
        undoable = [w for w in run.undoable if w.restorable]
        summaries.append(RunSummary(run, len(undoable), len(written), folders))
    return summaries, notes
