"""RAW+JPEG pairs: a camera set to save both writes ``IMG_0001.CR2`` beside ``IMG_0001.JPG``, one
photo in two files. GeoGuess predicts it once (from the JPEG: the camera's own rendering, and
fast to read), fuses it once, and writes its position into both (the JPEG in-file, the RAW's
sidecar), in one run of the undo journal.

Twins are a RAW file and a JPEG (or HEIC: phones that save ProRAW DNGs beside HEICs) of the same
stem in the same folder (the case of the names aside) whose capture times, where both have one,
are within a second of each other.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from pathlib import Path

from .formats import RAW_EXTENSIONS

TWIN_EXTENSIONS = (".jpg", ".jpeg", ".jpe", ".heic", ".heif", ".hif")
MAX_APART = datetime.timedelta(seconds=1)


def find_twins(paths: Sequence[str | Path], time_of: Callable[[Path], str | None]) -> dict[str, str]:
    """{RAW path: its JPEG twin's path}, for the pairs among ``paths`` (as given). ``time_of``
    gives a file's capture time ("YYYY-MM-DDTHH:MM:SS", or None when it has none or cannot be
    read: the names alone then decide)."""
    by_stem: dict[tuple[str, str], list[Path]] = {}
    for p in map(Path, paths):
        by_stem.setdefault((str(p.parent), p.stem.lower()), []).append(p)
    twins: dict[str, str] = {}
    for files in by_stem.values():
        raws = [p for p in files if p.suffix.lower() in RAW_EXTENSIONS]
        jpegs = [p for p in files if p.suffix.lower() in TWIN_EXTENSIONS]
        if len(raws) != 1 or len(jpegs) != 1:
            continue  # none, or which goes with which is not clear: each file stands alone
        raw, jpeg = raws[0], jpegs[0]
        if _same_moment(time_of(raw), time_of(jpeg)):
            twins[str(raw)] = str(jpeg)
    return twins


def capture_time(path: Path) -> str | None:
    """A file's capture time as ``find_twins`` wants it, read from the file (ExifTool for a RAW)."""
    from .camera_files import capture_meta

    meta = capture_meta(path)
    return meta.time if meta is not None else None


def _same_moment(a: str | None, b: str | None) -> bool:
    ta, tb = _when(a), _when(b)
    return ta is None or tb is None or abs(ta - tb) <= MAX_APART


def _when(text: str | None) -> datetime.datetime | None:
    if text is None:
        return None
    try:
        return datetime.datetime.fromisoformat(text)
    except ValueError:
        return None


def list_with_twins(paths: Sequence[str | Path]) -> tuple[list[Path], dict[str, str]]:
    """The photos of ``paths`` (decode.list_photos) and the RAW twins among them ({RAW: JPEG})."""
    from .decode import list_photos

    found = list_photos(list(paths))
    return found, find_twins(found, capture_time)
