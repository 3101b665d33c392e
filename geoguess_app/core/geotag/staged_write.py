"""Replacing a file by a verified new version: the one way GeoGuess changes a photo or a sidecar.

1. ``StagedWrite(path)`` takes the photo's lock (another GeoGuess process writing it, the window
   or a command line, is waited for, so that the check that the photo did not change and its
   replacement are one step; see core/system.py), checks what must stop a write (not a regular
   file, read-only, immutable, a read-only file system, a hard-linked file unless asked, see
   ``fileattrs``), resolves a
   symbolic link to the file it names (the link stays a link), reads the file's bytes and what the
   file system holds about it, and reserves a temporary name in its folder:
   ``.geoguess-tmp-PID-RANDOM.ext``, short whatever the photo's name, so that any name within the
   file system's limit can be written. Creating that name once tells early whether the folder
   takes new files, with the real cause when not.
2. The caller makes the new version at ``tmp`` (with ExifTool) and checks it.
3. ``record()`` prepares the journal record: SHA-256 and size before and after, the file's mode,
   owner and times, and the delta that rebuilds the original from the new version (checked by
   applying it).
4. ``commit()`` gives the new version the original's owner, group, mode, extended attributes and
   (unless told otherwise) times, syncs it, writes and syncs the journal record, and only then puts
   it in place: by rename, or, for a file with several hard links written in place, by copying it
   over the original and checking it (the verified copy is kept until then, so an interrupted copy
   is finished by the next run, see ``finish_interrupted``). The folder is synced. A failure at any
   step leaves the original as it was, says why, and marks the record aborted.

Temporary files of a killed run are removed by the next run that writes in that folder
(``clean_stale_temps``), which says so; a file being written by a running GeoGuess is never touched.
"""

from __future__ import annotations

import base64
import errno
import logging
import os
import re
import secrets
from contextlib import ExitStack
from pathlib import Path

from ..errors import WriteRefused
from ..system import photo_lock
from . import bytedelta, fileattrs
from .fileattrs import FileAttrs, fsync_dir
from .journal import Journal, WriteRecord, WriteState, now_text

log = logging.getLogger(__name__)

TEMP_PREFIX = ".geoguess-tmp-"
INPLACE_PREFIX = ".geoguess-inplace-"  # kept until an in-place copy is complete: never removed blindly
_TEMP = re.compile(r"^\.geoguess-tmp-(\d+)-[0-9a-f]+(\.[A-Za-z0-9]{1,8})?$")
_INPLACE = re.compile(r"^\.geoguess-inplace-(\d+)-")
_OLD_TEMP = re.compile(r"^\..*\.[0-9a-f]{8}\.geoguess-tmp(\.[A-Za-z0-9]{1,8})?$")  # GeoGuess 0.1's naming
MAX_DELTA_LITERAL = 8 << 20  # a delta needing more literal bytes is not kept (undo then works by tags)
HARDLINKS = ("refuse", "in-place", "split")


def _suffix(path: Path) -> str:
    suffix = path.suffix
    return suffix if re.fullmatch(r"\.[A-Za-z0-9]{1,8}", suffix) else ""


def temp_path(target: Path, prefix: str = TEMP_PREFIX) -> Path:
    """A new temporary name beside ``target``: its extension (ExifTool picks the output format by
    it), never its name."""
    return target.with_name(f"{prefix}{os.getpid()}-{secrets.token_hex(6)}{_suffix(target)}")


def sha256_file(path: Path) -> str:
    return bytedelta.sha256(path.read_bytes())


#: How the command line says to choose what happens to a file with several names (the window says its own).
HARDLINKS_CHOICE = (
    "Choose: --hardlinks in-place (every name sees the position) or --hardlinks split (only this name gets a new file)"
)


def check_writable(given: str | Path, hardlinks: str = "refuse", what: str = "it") -> tuple[Path, FileAttrs, bool]:
    """What must stop a write to ``given``, as WriteRefused; else (the file replaced, its
    attributes, whether it is written in place)."""
    target = Path(os.path.realpath(given))
    try:
        attrs = FileAttrs.of(target)
        reason = fileattrs.writable_reason(target, attrs, what)
    except FileNotFoundError:
        raise WriteRefused(f"{what} does not exist") from None
    except OSError as e:
        raise WriteRefused(f"{what} cannot be examined: {fileattrs.explain(e, target)}") from None
    if reason:
        raise WriteRefused(reason)
    if attrs.nlink > 1 and hardlinks == "refuse":
        raise WriteRefused(
            f"{what} has {attrs.nlink} hard links (other names for the same file): writing would split them. "
            + HARDLINKS_CHOICE
        )
    return target, attrs, attrs.nlink > 1 and hardlinks == "in-place"


class StagedWrite:
    """One replacement of a file; use as a context manager (the temporary file goes on exit)."""

    def __init__(self, given: str | Path, hardlinks: str = "refuse", create: bool = False, what: str = "it"):
        self.given = Path(given)
        self.target = Path(os.path.realpath(self.given))
        self.in_place = False
        self.journaled = False  # its journal record was appended (commit): a failure after it is marked there
        self._keep_tmp = False
        self.attrs: FileAttrs | None = None
        self.original: bytes | None = None
        self._new: bytes | None = None
        if not create or self.target.exists():  # what stops the write is said first, lock or not
            check_writable(self.given, hardlinks, what)
        self._locked = ExitStack()  # another GeoGuess process writing this photo is waited for
        self._locked.enter_context(photo_lock(self.target))
        try:
            self._stage(hardlinks, create, what)
        except BaseException:
            self._locked.close()
            raise

    def _stage(self, hardlinks: str, create: bool, what: str) -> None:
        if not create or self.target.exists():
            self.target, self.attrs, self.in_place = check_writable(self.given, hardlinks, what)
            try:
                with open(self.target, "rb") as f:
                    self._stat = os.fstat(f.fileno())  # before reading: a change while reading shows
                    self.original = f.read()
            except OSError as e:
                raise WriteRefused(f"{what} cannot be read: {fileattrs.explain(e, self.target)}") from None
        self.tmp = temp_path(self.target)
        self._probe()

    def _probe(self) -> None:
        """Create and remove the temporary name: the folder's refusal, if any, with its cause."""
        try:
            fd = os.open(self.tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as e:
            raise WriteRefused(
                f"no new file can be made in {self.target.parent}: {fileattrs.explain(e, self.tmp)}"
            ) from None
        os.close(fd)
        os.unlink(self.tmp)
        if fileattrs.disk_full(self.target.parent, len(self.original or b"") + (1 << 20)):
            raise WriteRefused(fileattrs.disk_full_text(self.target.parent))

    def __enter__(self) -> StagedWrite:
        return self

    def __exit__(self, *exc) -> None:
        try:
            if not self._keep_tmp:
                self.tmp.unlink(missing_ok=True)
        finally:
            self._locked.close()

    def new_bytes(self) -> bytes:
        """The new version's bytes, read once (checks, the journal record and an in-place copy all
        need them; nothing changes them after ExifTool wrote them)."""
        if self._new is None:
            self._new = self.tmp.read_bytes()
        return self._new

    def record(self, journal_run: str, write_id: str, kind: str, tags: dict, search: tuple = ()) -> WriteRecord:
        """The journal record of this write (before ``commit``). A file with several names that this
        write splits records the other names found in its folder and in ``search`` (folders), so
        that undo can make them one file again."""
        new = self.new_bytes()
        before = None
        delta = None
        if self.original is not None and self.attrs is not None:
            before = {"sha256": bytedelta.sha256(self.original), "size": len(self.original), **self.attrs.as_dict()}
            if self.attrs.nlink > 1 and not self.in_place:
                before["links"] = other_names(self.target, self.attrs, (self.target.parent, *search))
            made = bytedelta.make(new, self.original, max_literal=MAX_DELTA_LITERAL)
            if made is not None and bytedelta.apply(new, made) == self.original:
                delta = base64.b64encode(made).decode("ascii")
        given = os.path.abspath(self.given)
        return WriteRecord(
            id=write_id,
            run=journal_run,
            time=now_text(),
            kind=kind,
            path=str(self.target),
            given=given if given != str(self.target) else None,
            before=before,
            after={"sha256": bytedelta.sha256(new), "size": len(new)},
            tags=tags,
            delta=delta,
        )

    def commit(
        self,
        journal: Journal | None = None,
        record: dict | None = None,
        keep_mtime: bool = True,
        abort_id: str | None = None,
    ) -> None:
        """Put the new version in place; ``record`` is journaled (and synced) just before."""
        try:
            if self.attrs is not None and not self.in_place:  # in place, the file keeps its own
                fileattrs.keep(self.attrs, self.tmp, keep_times=keep_mtime)
            _fsync_file(self.tmp)
            self._unchanged_since_staged()
        except OSError as e:
            raise WriteRefused(f"the new version cannot be finished: {fileattrs.explain(e, self.tmp)}") from None
        kept = temp_path(self.target, INPLACE_PREFIX) if self.in_place else None
        if kept is not None and record is not None:
            record.update(in_place=True, tmp=str(kept))
            if not keep_mtime:  # --touch: the times are the copy's own, and recovery leaves them
                record["times"] = "new"
        if journal is not None and record is not None:
            try:
                journal.append(record)
                self.journaled = True
            except OSError as e:
                raise JournalUnwritable(
                    f"the undo journal {journal.path} cannot be written: {fileattrs.explain(e, journal.path)}"
                ) from None
        try:
            if kept is not None:
                os.rename(self.tmp, kept)
                self.tmp = kept
                self._copy_in_place()
            else:
                self._replace()
        except _Interrupted:
            raise
        except (OSError, WriteRefused) as e:  # the file is as it was
            reason = e if isinstance(e, WriteRefused) else WriteRefused(fileattrs.explain(e, self.target))
            if journal is not None and abort_id is not None:
                try:
                    journal.mark(WriteState.ABORTED, abort_id, str(reason))
                except OSError:
                    log.warning("cannot mark the journal record %s aborted", abort_id)
            raise reason from None
        if kept is not None:  # written: what is left to do must not undo that
            try:
                if keep_mtime and self.attrs is not None:
                    os.utime(self.target, ns=(self.attrs.atime_ns, self.attrs.mtime_ns))
                kept.unlink()
            except OSError as e:
                log.warning("after the in-place write of %s: %s", self.target, e)
        fsync_dir(self.target.parent)

    def _replace(self) -> None:
        if self.attrs is not None:
            os.replace(self.tmp, self.target)
            return
        try:  # a new file (a sidecar): never over one that appeared meanwhile
            os.link(self.tmp, self.target)
        except FileExistsError:
            raise WriteRefused(f"{self.target.name} appeared while GeoGuess was writing it") from None
        except OSError as e:
            if e.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
                raise
            if self.target.exists():  # no hard links here: check, then rename
                raise WriteRefused(f"{self.target.name} appeared while GeoGuess was writing it") from None
            os.replace(self.tmp, self.target)
            return
        self.tmp.unlink()

    def _unchanged_since_staged(self) -> None:
        if self.attrs is None:
            return
        now = os.stat(self.target)
        was = self._stat
        if (now.st_ino, now.st_size, now.st_mtime_ns, now.st_ctime_ns) != (
            was.st_ino,
            was.st_size,
            was.st_mtime_ns,
            was.st_ctime_ns,
        ):
            raise WriteRefused("it changed while GeoGuess was writing it; left as the other program wrote it")

    def _copy_in_place(self) -> None:
        """Write the verified new version over the file itself (all its hard links see it)."""
        new = self.new_bytes()
        if fileattrs.disk_full(self.target.parent, len(new) - len(self.original or b"") + (1 << 20)):
            raise WriteRefused(fileattrs.disk_full_text(self.target.parent))
        try:
            copy_over(self.target, new)
        except OSError as e:
            try:  # put the original back at once; if that fails too, the next run finishes the write
                copy_over(self.target, self.original or b"")
            except OSError:
                self._keep_tmp = True  # the verified copy, for finish_interrupted
                raise _Interrupted(
                    f"the in-place write was interrupted ({fileattrs.explain(e, self.target)}); "
                    f"the next GeoGuess run with this journal finishes it from {self.tmp.name}"
                ) from None
            raise


class JournalUnwritable(WriteRefused):
    """The write's record could not be journaled: the file was not touched."""


class _Interrupted(WriteRefused):
    """An in-place copy failed and the original could not be put back: the record stays pending."""


def other_names(target: Path, attrs: FileAttrs, folders) -> list[str]:
    """The other names of ``target``'s file (the same device and inode) in ``folders``, at most 20."""
    found: list[str] = []
    for folder in dict.fromkeys(Path(f) for f in folders):
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if (st.st_dev, st.st_ino) == (attrs.dev, attrs.ino) and entry.path != str(target):
                found.append(entry.path)
                if len(found) >= 20:
                    return found
    return found


def copy_over(target: Path, data: bytes) -> None:
    """Overwrite ``target``'s content in place, synced, and check it."""
    with open(target, "r+b") as f:
        f.write(data)
        f.truncate(len(data))
        f.flush()
        os.fsync(f.fileno())
    if sha256_file(target) != bytedelta.sha256(data):
        raise OSError(errno.EIO, "the file does not read back as written")


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
