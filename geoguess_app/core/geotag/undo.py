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
record is reported with the photo it may concern, never skipped silently.
"""

from __future__ import annotations

import base64
import dataclasses
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import GeoGuessError, WriteRefused
from ..names import display_path
from . import bytedelta, fileattrs
from .journal import Contents, Journal, Run, WriteRecord, WriteState
from .metadata import (
    NAMESPACE_BYTES,
    exif_block_file,
    harm_text,
    is_geoguess_tagged,
    new_warnings,
    photo_format,
    read_metadata,
    real_tag,
)
from .outcome import ERROR, REFUSED, RESTORED, TagOutcome
from .recovery import finish_interrupted, tidy_folders
from .staged_write import StagedWrite
from .writer import write_new_version

EXIF_MARK = "File:ExifByteOrder"  # present exactly when a file has EXIF


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


def undo(journal: Journal, scope: UndoScope, notices: list[str] | None = None) -> Iterator[TagOutcome]:
    """Restore the photos in scope, newest write first; one outcome per write (and one error per
    damaged journal record that may concern them). What else was done (an interrupted write
    finished, temporary files of a killed run removed) is added to ``notices``."""
    notes = notices if notices is not None else []
    notes += finish_interrupted(journal)
    contents = journal.read()
    run = scope.run or (last_run(contents) if scope.last else None)
    selected = select(contents, scope)
    notes += tidy_folders({Path(w.path).parent for w in selected})
    for damage in _damage_in_scope(contents, scope, run):
        harmless = _harmless(damage, contents)
        if harmless:
            notes.append(f"{damage.describe()}; {harmless}")
            continue
        where = damage.paths[0] if damage.paths else f"(journal line {damage.line})"
        yield TagOutcome(
            where, ERROR, damage.describe() + ": check that photo by hand (exiftool -XMP-geoguess:all -GPS:all PHOTO)"
        )
    for record in reversed(selected):
        yield restore(journal, record)


def _harmless(damage, contents: Contents) -> str | None:
    """Why a damaged journal line loses nothing, or None. A record is written before its photo is
    replaced, so a line torn by a crash was about a photo still as it was; a mark (done, undone)
    is recovered from the photo's bytes."""
    writes = {w.id: w for w in contents.writes}
    if damage.ids and all(i in writes for i in damage.ids):
        return "it marked a write whose record is intact (nothing lost)"
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
    after = record.after.get("sha256")
    before = (record.before or {}).get("sha256")
    current = path.read_bytes()
    digest = bytedelta.sha256(current)
    if record.before is None and digest == after:  # a sidecar GeoGuess created, untouched since
        _remove(path)
        return "sidecar removed (GeoGuess had created it)"
    if before and digest == before:
        return "nothing to undo: it is already as it was before GeoGuess's write"
    if digest == after and record.delta:
        original = bytedelta.apply(current, base64.b64decode(record.delta))
        if bytedelta.sha256(original) != before:
            raise WriteRefused("its journal record does not rebuild the original (the record is damaged)")
        _put_back(journal, record, path, current, original)
        return "byte-identical to before GeoGuess's write"
    return _restore_tags(journal, record, path)


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except OSError as e:
        raise WriteRefused(fileattrs.explain(e, path)) from None
    fileattrs.fsync_dir(path.parent)


def _put_back(journal: Journal, record: WriteRecord, path: Path, current: bytes, original: bytes) -> None:
    with StagedWrite(path, hardlinks="in-place") as stage:
        if stage.original != current:
            raise WriteRefused("it changed while GeoGuess was restoring it; left as the other program wrote it")
        with open(stage.tmp, "xb") as f:
            f.write(original)
        assert stage.attrs is not None
        mtime = (record.before or {}).get("mtime_ns", stage.attrs.mtime_ns)
        stage.attrs = dataclasses.replace(stage.attrs, mtime_ns=mtime)
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
            }
        stage.commit(journal, restore_record, keep_mtime=True)


def _position_keys(record: WriteRecord) -> tuple[str, str]:
    if record.kind == "sidecar":
        return "XMP-exif:GPSLatitude", "XMP-exif:GPSLongitude"
    return "GPS:GPSLatitude", "GPS:GPSLongitude"


def _restore_tags(journal: Journal, record: WriteRecord, path: Path) -> str:
    """The file changed since GeoGuess wrote it: undo GeoGuess's tags and keep the rest."""
    current = read_metadata(path)
    wrote = record.tags.get("set", {})
    for key in _position_keys(record):
        now, value = current.get(key), wrote.get(key)
        if value is None or not isinstance(now, (int, float)) or abs(now - float(value)) > 1e-7:
            shown = f"{current.get('Composite:GPSLatitude', now)}, {current.get('Composite:GPSLongitude', '')}"
            raise WriteRefused(
                f"its GPS position changed since GeoGuess wrote it (now {shown.strip(', ')}); left as it is"
            )
    if not is_geoguess_tagged(current):
        raise WriteRefused("GeoGuess's provenance record is no longer in it; left as it is")
    before = record.tags.get("before", {})
    added = list(record.tags.get("added", []))
    if record.before == {}:  # GeoGuess 0.1 did not record what its write added; its XMP toolkit name at most
        added += [k for k in ("XMP-x:XMPToolkit",) if str(current.get(k, "")).startswith("Image::ExifTool")]
    ours = set(wrote) | set(added)
    if record.kind == "sidecar" and record.before is None:
        if all(k in ours for k in current if real_tag(k)):
            _remove(path)
            return "sidecar removed (GeoGuess had created it; the changes made to it since were GeoGuess's own)"
        return _rewrite(journal, record, path, current, {k: None for k in wrote if k in current}, {}, [])
    kept = set(record.tags.get("kept", []))  # GPS tags the photo had before and GeoGuess left alone
    gps_since = [
        k for k in current if k.startswith("GPS:") and k not in ours and k not in kept and before.get(k) is None
    ]
    if gps_since:
        raise WriteRefused(f"GPS tags were added since GeoGuess wrote it ({', '.join(gps_since[:3])}); left as it is")
    exif_block = record.tags.get("exif")
    whole_exif = bool(exif_block) or EXIF_MARK in added  # the EXIF goes back as a block, or goes
    extra: list[str] = []
    values: dict = {}
    if exif_block:  # EXIF tags were replaced: the original EXIF block goes back whole
        extra.append("-EXIF<=")  # completed with the block's file in _rewrite
    elif EXIF_MARK in added:  # no EXIF before: none after
        extra.append("-EXIF:all=")
    else:
        values = {k: None for k in current if k.startswith("GPS:")}
    values.update({k: None for k in ours if k in current and not (whole_exif and k.startswith(EXIF_GROUPS))})
    values.update(
        {k: _value(v) for k, v in before.items() if v is not None and not (whole_exif and k.startswith(EXIF_GROUPS))}
    )
    xmp = [k for k in current if k.startswith("XMP-") and real_tag(k)]
    if (
        xmp
        and all(k in ours for k in xmp)
        and not any(k.startswith("XMP-") and v is not None for k, v in before.items())
    ):
        extra.append("-XMP:all=")  # no XMP before: none after
    expected = {k: v for k, v in current.items() if real_tag(k) and k not in ours}
    expected.update({k: v for k, v in before.items() if v is not None})
    return _rewrite(journal, record, path, current, values, expected, extra)


EXIF_GROUPS = ("GPS:", "IFD0:", "IFD1:", "ExifIFD:", "InteropIFD:", "File:ExifByteOrder")


def _rewrite(
    journal: Journal, record: WriteRecord, path: Path, current: dict, values: dict, expected: dict, extra: list[str]
) -> str:
    """Write ``values`` (and the ``extra`` ExifTool arguments) and check the result tag by tag
    against ``expected`` (when given) before it replaces the photo."""

    def check(written: dict) -> None:
        # Putting the original EXIF block back moves a maker note, and ExifTool then says it adjusted
        # the note's base offset ("[minor] Adjusted MakerNoteCanon base by -128"): it read the note
        # whole, and every tag is compared below, so that note is not a harm.
        warnings = [w for w in new_warnings(current, written) if "[minor] Adjusted MakerNote" not in w]
        problems = (differences(expected, written) if expected else []) + warnings
        if problems:
            raise WriteRefused(
                harm_text(problems, "its tags") + " (compared with the photo before GeoGuess's "
                "write, with the changes made since)"
            )

    fmt = None if record.kind == "sidecar" else photo_format(path)
    with tempfile.TemporaryDirectory(prefix="geoguess-undo-") as scratch:
        if "-EXIF<=" in extra:
            block = exif_block_file(record.tags["exif"], Path(scratch))
            extra = [f"-EXIF<={block}" if a == "-EXIF<=" else a for a in extra]
        with StagedWrite(path, hardlinks="in-place") as stage:
            write_new_version(
                stage, fmt, values, clear=extra, original=current, check=check, compare_others=not expected
            )
            stage.commit(journal, None, keep_mtime=True)
    if record.delta is None and record.before == {}:
        return (
            "tags GeoGuess recorded restored (a record of GeoGuess 0.1: tags its write added besides, "
            "such as basic EXIF tags, stay)"
        )
    return "every tag as before GeoGuess's write; the changes made since by another program were kept"


def _value(value) -> str | list:
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, dict):
        raise WriteRefused("a structured tag it replaced cannot be put back by tags")
    return str(value)


#: XMP GPS values are rationals ExifTool writes back with its own denominator (1875.25598144531 comes
#: back as 1875.256): the same to 7 significant digits; every other number to 9.
XMP_GPS_DIGITS = 1e-7


def _same(a, b, key: str = "") -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        tolerance = XMP_GPS_DIGITS if key.startswith("XMP-exif:GPS") else 1e-9
        return abs(a - b) <= tolerance * max(1.0, abs(a))
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y, key) for x, y in zip(a, b))
    return a == b or str(a) == str(b)


def differences(expected: dict, got: dict) -> list[str]:
    """How ``got`` differs from ``expected``, tag by tag (derived values and pointers aside)."""
    problems = []
    for key, value in expected.items():
        if not real_tag(key):
            continue
        if key not in got:
            problems.append(f"{key} would be lost")
        elif not _same(got[key], value, key):
            problems.append(f"{key} would be {got[key]!r}, not {value!r}")
    problems += [f"{key} would remain" for key in got if real_tag(key) and key not in expected]
    return problems


@dataclass
class RunSummary:
    run: Run
    undoable: int
    written: int
    folders: list[str]


def list_runs(journal: Journal) -> tuple[list[RunSummary], list]:
    """Every run that wrote something, oldest first, and the damaged journal lines."""
    contents = journal.read()
    summaries = []
    for run in contents.runs.values():
        written = [w for w in run.writes if w.state != WriteState.ABORTED]
        if not written:
            continue
        folders = sorted({os.path.dirname(w.given or w.path) for w in written})
        summaries.append(RunSummary(run, len(run.undoable), len(written), folders))
    return summaries, contents.damaged
