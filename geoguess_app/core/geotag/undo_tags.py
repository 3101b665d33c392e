"""Undo by tags: a photo changed by another program since GeoGuess wrote it.

Every tag GeoGuess set or added is removed, every tag it replaced or removed is put back, and the
result is checked tag by tag against the photo as it was before GeoGuess's write, with the other
program's changes kept: tag-identical. A photo that had no EXIF before has none after (its EXIF
block goes); EXIF tags GeoGuess replaced come back as the original EXIF block, kept whole in the
record. A photo whose position changed since (edited by hand or by another tool) is refused.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from ..errors import WriteRefused
from . import fileattrs
from .journal import Journal, WriteRecord
from .metadata import (
    exif_block_file,
    harm_text,
    is_geoguess_tagged,
    new_warnings,
    photo_format,
    read_metadata,
    real_tag,
)
from .staged_write import StagedWrite
from .writer import write_new_version

EXIF_MARK = "File:ExifByteOrder"  # present exactly when a file has EXIF


def remove_file(path: Path) -> None:
    """Remove a sidecar GeoGuess created, the removal synced."""
    try:
        path.unlink()
    except OSError as e:
        raise WriteRefused(fileattrs.explain(e, path)) from None
    fileattrs.fsync_dir(path.parent)


def _position_keys(record: WriteRecord) -> tuple[str, str]:
    if record.kind == "sidecar":
        return "XMP-exif:GPSLatitude", "XMP-exif:GPSLongitude"
    return "GPS:GPSLatitude", "GPS:GPSLongitude"


def restore_tags(journal: Journal, record: WriteRecord, path: Path) -> str:
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
            remove_file(path)
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
