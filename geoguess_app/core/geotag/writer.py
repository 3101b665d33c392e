"""Writing a predicted position into a photo, or its XMP sidecar, safely, with ExifTool.

Every write goes through ``staged_write.StagedWrite``: ExifTool writes a new file beside the photo
(``exiftool -o``), the new file is read back (the GPS must be what was meant, every other tag as it
was, no new ExifTool warning, the image data byte-identical, see photos/pixel_digest.py), and only then is
it given the photo's owner, mode, extended attributes and times, journaled and renamed over the
photo. A crash at any moment leaves the old file or the new one, never a broken one. An existing
GPS position is never replaced unless asked.

What is written: see position.py (the position, its radius and where it came from, and GeoGuess's
XMP provenance record).

exiv2 (pyexiv2) was tried first and rejected: over the test corpus it dropped or broke maker notes
(Canon, PrintIM), rewrote IPTC times and EXIF byte order, and dropped TIFF tags from JPEG EXIF.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
from collections.abc import Callable
from pathlib import Path

from ..errors import reason_of
from ..photos.exiftool import ExifToolError, shared_exiftool
from ..photos.pixel_digest import image_data_digest
from . import fileattrs
from .journal import Journal, WriteState, new_run_id
from .metadata import (
    QUICKTIME,
    RUN_KEY,
    SIDECAR_NAMES,
    VIDEO_GPS_CLEAR,
    GeotagRefused,
    exif_block,
    harm_text,
    photo_format,
    read_metadata,
    refuse_replacing,
    sidecar_path,
    tag_changes,
    unexpected_changes,
)
from .position import GeoTag, exif_values, sidecar_values, video_values, xmp_values
from .recovery import finish_interrupted, tidy_folders
from .staged_write import HARDLINKS, StagedWrite

log = logging.getLogger(__name__)


def write_new_version(
    stage: StagedWrite,
    fmt: str | None,
    values: dict,
    clear: list[str] | None = None,
    original: dict | None = None,
    check: Callable[[dict], None] | None = None,
    may_drop: tuple[str, ...] = (),
    source: Path | None = None,
    compare_others: bool = True,
) -> dict:
    """Have ExifTool write ``stage.tmp`` from ``source`` (default the staged file) with tags set
    (value) or deleted (None), and check it: every other tag as it was, no new ExifTool warning
    (unless ``compare_others`` is off: then ``check`` does it), the image data byte-identical (when
    ``fmt`` is given). Returns the new file's tags."""
    exiftool = shared_exiftool()
    source = source or stage.target
    original = original if original is not None else read_metadata(source)
    args = ["-n", "-charset", "filename=utf8", "-charset", "exif=utf8", *(clear or [])]
    toolkit = "XMP-x:XMPToolkit"
    if toolkit in original and toolkit not in may_drop and toolkit not in values:  # ExifTool would put its name
        args.append(f"-XMP-x:XMPToolkit={original['XMP-x:XMPToolkit']}")
    for key, value in values.items():
        if value is None:
            args.append(f"-{key}=")
        else:  # a list: one assignment per item, as ExifTool builds lists
            args += [f"-{key}={v}" for v in (value if isinstance(value, list) else [value])]
    try:
        out, err = exiftool.run(*args, "-o", stage.tmp, source)
    except ExifToolError as e:
        raise GeotagRefused(str(e)) from None
    if not stage.tmp.exists():
        raise GeotagRefused(_failure_reason(err, out, stage))
    written = read_metadata(stage.tmp)
    for key, value in values.items():
        if (value is None) == (key in written):
            state = "is still there" if value is None else "is missing (ExifTool could not write it)"
            raise GeotagRefused(f"after writing, {key} {state}")
    if check is not None:
        check(written)
    cleared = tuple(c[1:-1].rstrip("*").replace("all", "") for c in (clear or []))
    problems = (
        unexpected_changes(original, written, set(values), cleared + may_drop, video=fmt == QUICKTIME)
        if compare_others
        else []
    )
    if problems:
        raise GeotagRefused(harm_text(problems))
    if fmt is not None:
        try:
            before = image_data_digest(stage.original or b"", fmt)
        except Exception as e:  # noqa: BLE001 - image data that cannot be read cannot be proven kept
            raise GeotagRefused(
                f"its image data cannot be read to prove a write keeps it ({reason_of(e)}); the file was left as it was"
            ) from None
        try:
            same = image_data_digest(stage.new_bytes(), fmt) == before
        except Exception:  # noqa: BLE001 - any failure to read the image data means: do not write
            same = False
        if not same:
            raise GeotagRefused("writing would have changed the image data; the photo was left as it was")
    return written


def _failure_reason(err: str, out: str, stage: StagedWrite) -> str:
    """Why ExifTool made no new file: the file system's reason first, then ExifTool's error (not an
    unrelated warning)."""
    folder = stage.target.parent
    if fileattrs.disk_full(folder, len(stage.original or b"") + (1 << 20)):
        return fileattrs.disk_full_text(folder)
    lines = [ln.strip() for ln in (err + "\n" + out).splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("Error")]
    reason = (errors or [ln for ln in lines if ln.startswith("Warning")] or lines or ["no reason given"])[0]
    return f"ExifTool could not write it: {reason[:200]}"


def _check_position(tags: dict, tag: GeoTag, keys=("Composite:GPSLatitude", "Composite:GPSLongitude")) -> None:
    lat, lon = tags.get(keys[0]), tags.get(keys[1])
    if (
        not isinstance(lat, (int, float))
        or not isinstance(lon, (int, float))
        or abs(lat - tag.lat) > 1e-6
        or abs(lon - tag.lon) > 1e-6
    ):
        raise GeotagRefused(f"after writing, the position reads back as {lat}, {lon} instead of {tag.lat}, {tag.lon}")


_finished_journals: set[str] = set()
_finished_lock = threading.Lock()


class PhotoWriter:
    """Writes positions into photos or sidecars: one run, with one id, in one journal.

    ``notices`` collects what a person should be told besides each photo's outcome (temporary
    files of a killed run removed, an interrupted in-place write finished)."""

    def __init__(
        self,
        journal: Journal | None = None,
        command: str = "",
        keep_mtime: bool = True,
        backup: bool = False,
        hardlinks: str = "refuse",
        sidecar_name: str = SIDECAR_NAMES[0],
        raw_in_file: str = "no",
    ):
        if hardlinks not in HARDLINKS:
            raise ValueError(f"hardlinks must be one of {HARDLINKS}")
        self.journal = journal
        self.command = command
        self.keep_mtime = keep_mtime
        self.backup = backup
        self.hardlinks = hardlinks
        self.sidecar_name = sidecar_name  # a new sidecar's: NAME.xmp or NAME.EXT.xmp
        self.raw_in_file = raw_in_file  # which RAW files are written in-file (metadata.RAW_IN_FILE)
        self.run = new_run_id()
        self.notices: list[str] = []
        self._count = 0
        self._started = False
        self._ended = False
        self._folders: set[Path] = set()
        self._planned: set[str] = set()  # the photos it was given (prepare_folders), for its run record
        self._lock = threading.Lock()

    def prepare_folders(self, paths) -> None:
        """Before the first write: finish in-place writes a killed run left half done (once per
        journal and process); then remove temporary files a killed run left in the folders of
        ``paths`` (once each)."""
        if self.journal is not None:
            with _finished_lock:
                key = os.path.realpath(self.journal.path)
                if key not in _finished_journals:
                    _finished_journals.add(key)
                    self.notices += finish_interrupted(self.journal)
        folders = set()
        for p in paths:
            self._planned.add(os.path.abspath(p))
            folder = Path(os.path.realpath(p)).parent  # a link loop is named by its photo, never raised here
            if folder not in self._folders:
                self._folders.add(folder)
                folders.add(folder)
        if folders:
            self.notices += tidy_folders(folders)

    def _next_id(self) -> str:
        with self._lock:
            if not self._started and self.journal is not None:
                folders = sorted({os.path.dirname(p) for p in self._planned})
                self.journal.start_run(self.run, self.command, len(self._planned) or None, folders)
                self._started = True
            self._count += 1
            return f"{self.run}.{self._count}"

    def _unused(self, write_id: str, why: BaseException) -> None:
        """A number whose record never reached the journal (the write was refused or failed before
        it): given back while it is the last, else marked aborted with the reason, so that the run's
        writes stay numbered without gaps (a gap is a lost record, see journal_check)."""
        with self._lock:
            if write_id == f"{self.run}.{self._count}":
                self._count -= 1
                return
        assert self.journal is not None
        try:
            self.journal.mark(WriteState.ABORTED, write_id, f"refused before its record: {why}")
        except OSError:
            log.warning("cannot mark the unused write number %s aborted", write_id)

    def finish(self) -> None:
        """The run is over: its end record says how many writes it recorded, so that records lost
        from the journal's end can be told from a run that simply stopped (journal_check)."""
        with self._lock:
            if not self._started or self._ended or self.journal is None:
                return
            self._ended = True
            count = self._count
        try:
            self.journal.end_run(self.run, count)
        except OSError as e:
            self.notices.append(f"the undo journal could not record the end of this run: {e.strerror or e}")

    def _commit(self, stage: StagedWrite, kind: str, tags: dict, keep_mtime: bool) -> None:
        record = None
        write_id = None
        written = None
        if self.journal is not None:
            try:
                write_id = self._next_id()
            except OSError as e:
                raise GeotagRefused(
                    f"the undo journal {self.journal.path} cannot be written: {fileattrs.explain(e, self.journal.path)}"
                ) from None
            written = stage.record(self.run, write_id, kind, tags, search=tuple(self._folders))
            record = written.as_dict()
        try:
            stage.commit(self.journal, record, keep_mtime=keep_mtime, abort_id=write_id)
        except BaseException as e:
            if write_id is not None and not stage.journaled:
                self._unused(write_id, e)
            raise
        if self.journal is not None and write_id is not None and written is not None:
            try:
                self.journal.mark(WriteState.DONE, write_id, about=written.mark_summary())
            except OSError:
                pass  # undo finds from the photo's bytes that the write happened

    def write_gps(self, path: str | Path, tag: GeoTag, overwrite_gps: bool = False) -> Path:
        """Write ``tag`` into the photo at ``path`` (GeotagRefused, file untouched, otherwise);
        returns the file written (a symbolic link's target)."""
        path = Path(path)
        self.prepare_folders([path])
        fmt = photo_format(path, self.raw_in_file)
        with StagedWrite(path, hardlinks=self.hardlinks) as stage:
            tags = read_metadata(stage.target)
            values, written = _gps_version(stage, fmt, tag, tags, overwrite_gps, self.run)
            changes = tag_changes(tags, written, values)
            # GPS tags the photo had and kept (a GPSStatus without a position): undo must know they
            # were there before, not added by another program since
            changes["kept"] = sorted(k for k in tags if k.startswith("GPS:") and k in written and k not in values)
            if any(k.startswith("GPS:") and v is not None for k, v in changes["before"].items()):
                # EXIF tags replaced: keep the original EXIF block, the only exact way back should the
                # photo be changed by another program before an undo (tags rewritten from their values
                # lose rational precision and odd values).
                changes["exif"] = exif_block(stage.target)
            backup = _make_backup(stage.target) if self.backup else None
            try:
                self._commit(stage, "photo", changes, self.keep_mtime)
            except BaseException:
                if backup is not None and _unchanged(stage):  # not written: no backup of it is left
                    backup.unlink(missing_ok=True)
                raise
            return stage.target

    def write_sidecar(self, path: str | Path, tag: GeoTag, overwrite_gps: bool = False) -> Path:
        """Write the position into the photo's XMP sidecar (the one it has, of either naming, else
        a new one named as ``sidecar_name`` says); the photo itself is never opened for writing.
        A new sidecar starts from the photo's own XMP (as ExifTool makes sidecars); an existing
        one is updated with nothing else in it lost or changed."""
        path = Path(path)
        side = sidecar_path(path, self.sidecar_name)
        self.prepare_folders([side])
        photo_tags = read_metadata(path)
        with StagedWrite(side, hardlinks=self.hardlinks, create=True, what="its sidecar") as stage:
            side_tags = read_metadata(stage.target) if stage.original is not None else {}
            for tags in (photo_tags, side_tags):
                refuse_replacing(tags, overwrite_gps, ours=side_tags)
            values = {**sidecar_values(tag), **xmp_values(tag), RUN_KEY: self.run}
            source = stage.target if stage.original is not None else path
            written = write_new_version(
                stage,
                None,
                values,
                original=side_tags,
                source=source,
                check=lambda t: _check_position(t, tag, ("XMP-exif:GPSLatitude", "XMP-exif:GPSLongitude")),
            )
            self._commit(stage, "sidecar", tag_changes(side_tags, written, values), keep_mtime=False)
            return stage.target


def write_gps(
    path: str | Path,
    tag: GeoTag,
    overwrite_gps: bool = False,
    keep_mtime: bool = True,
    backup: bool = False,
    journal: Journal | None = None,
    hardlinks: str = "refuse",
) -> Path:
    """Write one photo in a run of its own (see ``PhotoWriter.write_gps``)."""
    writer = PhotoWriter(journal, keep_mtime=keep_mtime, backup=backup, hardlinks=hardlinks)
    return writer.write_gps(path, tag, overwrite_gps=overwrite_gps)


def _gps_version(
    stage: StagedWrite, fmt: str | None, tag: GeoTag, tags: dict, overwrite_gps: bool, run: str = ""
) -> tuple[dict, dict]:
    """ExifTool's new version of the staged photo with ``tag`` in it (and the journal ``run`` that
    writes it), checked (GeotagRefused otherwise): the values set, and the new version's tags."""
    existing = refuse_replacing(tags, overwrite_gps)
    video = fmt == QUICKTIME
    values = {**(video_values(tag) if video else exif_values(tag)), **xmp_values(tag)}
    if run:
        values[RUN_KEY] = run
    clear: list[str] = []
    if existing:  # nothing old may contradict the new
        clear = VIDEO_GPS_CLEAR if video else ["-GPS:all=", "-XMP-exif:GPS*="]
    written = write_new_version(stage, fmt, values, clear=clear, original=tags, check=lambda t: _check_position(t, tag))
    return values, written


def rehearse_gps(
    path: str | Path,
    tag: GeoTag,
    overwrite_gps: bool = False,
    hardlinks: str = "refuse",
    tags: dict | None = None,
    raw_files: str = "no",
) -> None:
    """Everything a write does short of replacing the photo: ExifTool makes the new version beside
    it, and it is checked as a write checks it (every other tag kept, the image data identical);
    then it is thrown away. GeotagRefused says why the write would be refused. ``tags``: the
    photo's, when the caller has read them already."""
    path = Path(path)
    fmt = photo_format(path, raw_files)
    with StagedWrite(path, hardlinks=hardlinks) as stage:
        _gps_version(stage, fmt, tag, tags if tags is not None else read_metadata(stage.target), overwrite_gps)


def write_sidecar(path: str | Path, tag: GeoTag, overwrite_gps: bool = False, journal: Journal | None = None) -> Path:
    return PhotoWriter(journal).write_sidecar(path, tag, overwrite_gps=overwrite_gps)


def _unchanged(stage: StagedWrite) -> bool:
    try:
        return stage.target.read_bytes() == stage.original
    except OSError:
        return False


def _make_backup(path: Path) -> Path:
    target = path.with_name(path.name + ".geoguess-backup")
    n = 1
    try:
        while target.exists():  # never overwrite an earlier backup: it may be the only original
            target = path.with_name(f"{path.name}.geoguess-backup-{n}")
            n += 1
        shutil.copy2(path, target)
    except OSError as e:
        try:
            target.unlink(missing_ok=True)
        except OSError:
            pass
        raise GeotagRefused(f"its backup cannot be made: {fileattrs.explain(e, target)}") from None
    return target
