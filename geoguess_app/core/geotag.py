"""Writing a predicted position into a photo, safely, with ExifTool.

Every write goes to a new file in the same folder (``exiftool -o``); the new file is read back (the
GPS must be what was meant, and the image data byte-identical, see image_data.py) and only then
renamed over the original, so a crash at any moment leaves the old file or the new one, never a
broken one. The file's modification time is kept unless asked otherwise. An existing GPS position
is never replaced unless asked. What a write changed is recorded in the undo journal before the
rename.

What is written: GPSVersionID 2.3.0.0, GPSLatitude/Ref, GPSLongitude/Ref, GPSMapDatum WGS-84,
GPSHPositioningError (half the diagonal of the predicted S2 cell), GPSProcessingMethod saying it
is a GeoGuess prediction, and an XMP provenance record in the GeoGuess namespace (model, untrained
or not, cell token, probability, rank, software, date).

exiv2 (pyexiv2) was tried first and rejected: over the test corpus it dropped or broke maker notes
(Canon, PrintIM), rewrote IPTC times and EXIF byte order, and dropped TIFF tags from JPEG EXIF.
"""

from __future__ import annotations

import datetime
import math
import os
import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from .. import __version__
from .errors import GeoGuessError
from .exiftool import ExifTool, shared_exiftool
from .image_data import image_data_digest

WRITABLE_FORMATS = {"JPEG", "MPO", "PNG", "WEBP", "TIFF", "HEIF", "AVIF"}
RAW_SUFFIXES = {".dng", ".nef", ".nrw", ".cr2", ".cr3", ".crw", ".arw", ".srf", ".sr2", ".orf", ".rw2",
                ".raf", ".pef", ".srw", ".x3f", ".3fr", ".erf", ".kdc", ".mrw", ".iiq", ".rwl"}
GPS_POSITION_KEYS = ("GPS:GPSLatitude", "GPS:GPSLongitude", "XMP-exif:GPSLatitude", "XMP-exif:GPSLongitude")
PREDICTED_KEY = "XMP-geoguess:Predicted"

# What may differ between a photo and its geotagged copy besides the written tags: file-system and
# derived values, and pointers that move when metadata grows (the image data they point to is
# checked byte for byte).
UNCOMPARED_GROUPS = ("System:", "Composite:", "ExifTool:", "XMP-geoguess:", "SourceFile")
POINTER = re.compile(r"(Offset|Offsets|Start|ByteCounts?|MediaDataSize)$")


class GeotagRefused(GeoGuessError):
    """The photo was left untouched, for the reason given."""


@dataclass(frozen=True)
class GeoTag:
    lat: float
    lon: float
    accuracy_m: float
    model: str
    untrained: bool
    token: str
    probability: float
    rank: int
    adjusted: bool = False  # moved by hand from the predicted cell's position

    @classmethod
    def from_guess(cls, guess, model_info) -> GeoTag:
        return cls(lat=guess.lat, lon=guess.lon, accuracy_m=guess.cell_size_km * 1000 * math.sqrt(2) / 2,
                   model=model_info.name, untrained=model_info.untrained, token=guess.token,
                   probability=guess.probability, rank=guess.rank)


def exif_values(tag: GeoTag) -> dict[str, str]:
    """ExifTool assignments (numeric values, -n) for the GPS position."""
    return {
        "GPS:GPSVersionID": "2 3 0 0",
        "GPS:GPSLatitudeRef": "N" if tag.lat >= 0 else "S",
        "GPS:GPSLatitude": f"{abs(tag.lat):.8f}",
        "GPS:GPSLongitudeRef": "E" if tag.lon >= 0 else "W",
        "GPS:GPSLongitude": f"{abs(tag.lon):.8f}",
        "GPS:GPSMapDatum": "WGS-84",
        "GPS:GPSHPositioningError": f"{tag.accuracy_m:.1f}",
        "GPS:GPSProcessingMethod": "GeoGuess prediction, not a measurement",
    }


def xmp_values(tag: GeoTag) -> dict[str, str]:
    p = "XMP-geoguess:"
    return {
        p + "Predicted": "True",
        p + "Model": tag.model,
        p + "Untrained": "True" if tag.untrained else "False",
        p + "CellToken": tag.token,
        p + "Probability": f"{tag.probability:.6f}",
        p + "Rank": str(tag.rank),
        p + "Adjusted": "True" if tag.adjusted else "False",
        p + "Software": f"GeoGuess {__version__}",
        p + "Date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y:%m:%d %H:%M:%S+00:00"),
    }


def photo_format(path: Path) -> str:
    """The format by content; refuses what GeoGuess does not write into."""
    if path.suffix.lower() in RAW_SUFFIXES:
        raise GeotagRefused("raw camera files are not written into (--sidecar writes an XMP sidecar instead)")
    try:
        with Image.open(path) as image:
            fmt = image.format or ""
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as e:
        raise GeotagRefused(f"not an image GeoGuess can read ({type(e).__name__})") from None
    if fmt not in WRITABLE_FORMATS:
        raise GeotagRefused(f"{fmt or 'this'} files are not written into safely (--sidecar writes an XMP sidecar)")
    return fmt


def read_metadata(path: Path, exiftool: ExifTool | None = None) -> dict:
    """Every tag ExifTool reads, as {'Group:Name': numeric value}."""
    tags = (exiftool or shared_exiftool()).read(path)
    if not tags:
        raise GeotagRefused("its metadata cannot be read")
    return tags


def existing_position(tags: dict) -> str | None:
    """A description of the GPS position the photo already has, or None."""
    found = [k for k in GPS_POSITION_KEYS if k in tags]
    if not found:
        return None
    lat, lon = tags.get("Composite:GPSLatitude"), tags.get("Composite:GPSLongitude")
    if isinstance(lat, (int, float)) and isinstance(lon, (int, float)):
        return f"{lat:.6f}, {lon:.6f}"
    return "GPS tags: " + ", ".join(found)


def is_geoguess_tagged(tags: dict) -> bool:
    return tags.get(PREDICTED_KEY) in (True, 1, "True", "true")


def refuse_replacing(tags: dict, overwrite_gps: bool, ours: dict | None = None) -> str | None:
    """The GPS position the photo already has (or None); GeotagRefused if it may not be replaced.

    A position GeoGuess wrote itself (per ``ours``, by default ``tags``) may always be replaced."""
    existing = existing_position(tags)
    if existing and not overwrite_gps and not is_geoguess_tagged(tags if ours is None else ours):
        raise GeotagRefused(f"it already has a GPS position ({existing}); replacing it needs --overwrite-gps")
    return existing


@dataclass
class WriteResult:
    path: str
    before: dict  # the previous value of every key written (None: absent), for undo
    after: dict


def write_gps(path: str | Path, tag: GeoTag, overwrite_gps: bool = False, keep_mtime: bool = True,
              backup: bool = False, journal=None) -> WriteResult:
    """Write ``tag`` into the photo at ``path``; raise GeotagRefused (file untouched) otherwise."""
    path = Path(path)
    fmt = photo_format(path)
    tags = read_metadata(path)
    existing = refuse_replacing(tags, overwrite_gps)
    changes = {**exif_values(tag), **xmp_values(tag)}
    clear = ["-GPS:all=", "-XMP-exif:GPS*="] if existing else []  # nothing old may contradict the new
    before = {key: tags.get(key) for key in changes}
    if existing:
        before.update({k: v for k, v in tags.items() if k.startswith(("GPS:", "XMP-exif:GPS"))})
    apply_changes(path, fmt, changes, clear=clear, keep_mtime=keep_mtime, backup=backup,
                  journal_entry=(journal, before, changes), check=lambda t: _check_position(t, tag),
                  original=tags)
    return WriteResult(str(path), before, changes)


def _check_position(tags: dict, tag: GeoTag) -> None:
    lat, lon = tags.get("Composite:GPSLatitude"), tags.get("Composite:GPSLongitude")
    if not isinstance(lat, (int, float)) or not isinstance(lon, (int, float)) \
            or abs(lat - tag.lat) > 1e-6 or abs(lon - tag.lon) > 1e-6:
        raise GeotagRefused(f"after writing, the position reads back as {lat}, {lon} instead of {tag.lat}, {tag.lon}")


def unexpected_changes(before: dict, after: dict, intended: set[str], cleared: tuple[str, ...] = ()) -> list[str]:
    """Tags that a write lost or changed without being asked to, and warnings it added."""
    problems = []
    for key, value in before.items():
        if key.startswith(UNCOMPARED_GROUPS) or key in intended or key.startswith(cleared) or POINTER.search(key):
            continue
        if key not in after:
            problems.append(f"{key} would be lost")
        elif after[key] != value:
            problems.append(f"{key} would change")
    new_warnings = set(_as_list(after.get("ExifTool:Warning"))) - set(_as_list(before.get("ExifTool:Warning")))
    problems += [f"ExifTool would warn: {w}" for w in sorted(new_warnings)]
    return problems


def _as_list(value) -> list:
    return [] if value is None else value if isinstance(value, list) else [value]


def apply_changes(path: Path, fmt: str, values: dict, clear: list[str] | None = None, keep_mtime: bool = True,
                  backup: bool = False, journal_entry=None, check=None, original: dict | None = None,
                  may_drop: tuple[str, ...] = ()) -> None:
    """Set (value) or delete (None) tags through a verified new file renamed over ``path``.

    The new file must read back with every other tag as it was (no tag lost or changed, no new
    ExifTool warning) and byte-identical image data; otherwise the photo is left untouched."""
    exiftool = shared_exiftool()
    stat = path.stat()
    original = original if original is not None else read_metadata(path)
    try:
        digest_before = image_data_digest(path, fmt)
    except Exception as e:  # noqa: BLE001 - any failure to read the image data means: do not write
        raise GeotagRefused(f"its image data cannot be checked ({type(e).__name__}: {e})") from None
    tmp = path.with_name(f".{path.stem}.{uuid.uuid4().hex[:8]}.geoguess-tmp{path.suffix}")
    args = ["-n", "-charset", "filename=utf8", "-charset", "exif=utf8", *(clear or [])]
    if "XMP-x:XMPToolkit" in original and "XMP-x:XMPToolkit" not in may_drop:  # ExifTool would put its name
        args.append(f"-XMP-x:XMPToolkit={original['XMP-x:XMPToolkit']}")
    for key, value in values.items():
        args.append(f"-{key}=" if value is None else f"-{key}={value}")
    try:
        out, err = exiftool.run(*args, "-o", str(tmp), str(path))
        if not tmp.exists():
            reason = _first_error(err) or _first_error(out) or (err.strip() or out.strip())[:200] or "no reason given"
            raise GeotagRefused(f"ExifTool could not write it: {reason}")
        written = read_metadata(tmp)
        for key, value in values.items():
            if (value is None) == (key in written):
                state = "is still there" if value is None else "is missing (ExifTool could not write it)"
                raise GeotagRefused(f"after writing, {key} {state}")
        if check is not None:
            check(written)
        cleared = tuple(c[1:-1].rstrip("*").replace("all", "") for c in (clear or []))
        problems = unexpected_changes(original, written, set(values), cleared + may_drop)
        if problems:
            more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
            raise GeotagRefused("writing would harm other metadata: " + "; ".join(problems[:3]) + more)
        try:
            same = image_data_digest(tmp, fmt) == digest_before
        except Exception:  # noqa: BLE001
            same = False
        if not same:
            raise GeotagRefused("writing would have changed the image data; the photo was left as it was")
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, stat.st_mode & 0o7777)
        if backup:
            _make_backup(path)
        if journal_entry is not None and journal_entry[0] is not None:
            journal, before, after = journal_entry
            journal.record(path, before, after)
        os.replace(tmp, path)
        if keep_mtime:
            os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        _fsync_dir(path.parent)
    finally:
        tmp.unlink(missing_ok=True)


def sidecar_path(photo: Path) -> Path:
    """The XMP sidecar beside a photo: same name, extension .xmp (Adobe's convention)."""
    return photo.with_suffix(".xmp")


def write_sidecar(path: str | Path, tag: GeoTag, overwrite_gps: bool = False, journal=None) -> Path:
    """Write the position into the photo's XMP sidecar; the photo itself is never opened for writing.

    A new sidecar starts from the photo's own XMP (as ExifTool makes sidecars); an existing one is
    updated through a verified copy renamed over it, with nothing else in it lost or changed."""
    path = Path(path)
    side = sidecar_path(path)
    exiftool = shared_exiftool()
    photo_tags = read_metadata(path)
    side_tags = read_metadata(side) if side.exists() else {}
    for tags in (photo_tags, side_tags):
        refuse_replacing(tags, overwrite_gps, ours=side_tags)
    values = {
        "XMP-exif:GPSLatitude": f"{tag.lat:.8f}",
        "XMP-exif:GPSLongitude": f"{tag.lon:.8f}",
        "XMP-exif:GPSMapDatum": "WGS-84",
        "XMP-exif:GPSHPositioningError": f"{tag.accuracy_m:.1f}",
        "XMP-exif:GPSProcessingMethod": "GeoGuess prediction, not a measurement",
        **xmp_values(tag),
    }
    tmp = side.with_name(f".{side.stem}.{uuid.uuid4().hex[:8]}.geoguess-tmp.xmp")
    args = ["-n", "-charset", "filename=utf8", *[f"-{k}={v}" for k, v in values.items()]]
    try:
        out, err = exiftool.run(*args, "-o", str(tmp), str(side if side.exists() else path))
        if not tmp.exists():
            raise GeotagRefused(f"ExifTool could not write the sidecar: {_first_error(err) or out.strip()}")
        written = read_metadata(tmp)
        lat, lon = written.get("XMP-exif:GPSLatitude"), written.get("XMP-exif:GPSLongitude")
        if not isinstance(lat, (int, float)) or not isinstance(lon, (int, float)) \
                or abs(lat - tag.lat) > 1e-6 or abs(lon - tag.lon) > 1e-6:
            raise GeotagRefused(f"the sidecar reads back {lat}, {lon} instead of {tag.lat}, {tag.lon}")
        if side_tags:
            problems = unexpected_changes(side_tags, written, set(values), ("XMP-exif:GPS",))
            if problems:
                raise GeotagRefused("writing would harm the sidecar: " + "; ".join(problems[:3]))
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        if journal is not None:
            before = {k: side_tags.get(k) for k in values} if side_tags else {SIDECAR_CREATED: True}
            journal.record(side, before, values)
        os.replace(tmp, side)
        _fsync_dir(side.parent)
    finally:
        tmp.unlink(missing_ok=True)
    return side


SIDECAR_CREATED = "GeoGuess:SidecarCreated"  # journal marker: undo deletes the sidecar


def _first_error(text: str) -> str:
    for line in text.splitlines():
        if line.startswith(("Error", "Warning")):
            return line.strip()[:200]
    return ""


def _make_backup(path: Path) -> Path:
    target = path.with_name(path.name + ".geoguess-backup")
    n = 1
    while target.exists():  # never overwrite an earlier backup: it may be the only original
        target = path.with_name(f"{path.name}.geoguess-backup-{n}")
        n += 1
    shutil.copy2(path, target)
    return target


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
