"""Reading a photo's metadata with ExifTool, and the checks every write and undo make with it.

What counts as a real tag of a file, the GPS position a photo already has, whether GeoGuess wrote
it, what a write changed, and what a write would harm (tags lost, new ExifTool warnings).
"""

from __future__ import annotations

import base64
import os
import re
import threading
import zlib
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from ..errors import WriteRefused
from ..photos.exiftool import ExifTool, shared_exiftool
from ..photos.formats import RAW, VIDEO, WRITABLE_RAW, WRITABLE_VIDEO, kind_of

GeotagRefused = WriteRefused  # the name the rest of GeoGuess knows it by

#: GeoGuess's XMP namespace (declared for ExifTool in resources/exiftool/geoguess.config).
NAMESPACE_URI = "http://geoguess.invalid/ns/1.0/"
NAMESPACE_BYTES = NAMESPACE_URI.removeprefix("http://").encode("ascii")

WRITABLE_FORMATS = {"JPEG", "MPO", "PNG", "WEBP", "TIFF", "HEIF", "AVIF"}
RAW_FORMAT = "RAW"  # a camera RAW file written in-file on request (its sensor data checked, pixel_digest)
#: Which RAW files are written in-file (``--raw-in-file``): none (each gets a sidecar: default), DNG
#: files, or every RAW format ExifTool writes.
RAW_IN_FILE = ("no", "dng", "all")
QUICKTIME = "QUICKTIME"  # MOV, MP4, M4V, 3GP: ExifTool writes their GPS (Keys and UserData)
GPS_POSITION_KEYS = (
    "GPS:GPSLatitude",
    "GPS:GPSLongitude",
    "XMP-exif:GPSLatitude",
    "XMP-exif:GPSLongitude",
    "Keys:GPSCoordinates",  # videos: what phones write, and Photos apps read
    "UserData:GPSCoordinates",
    "ItemList:GPSCoordinates",
)
#: Sidecar names: Adobe's (IMG_0001.xmp: Lightroom, Photini) and darktable's and digiKam's
#: (IMG_0001.CR2.xmp). An existing sidecar of either kind is found and updated; a new one takes the chosen.
SIDECAR_NAMES = ("NAME.xmp", "NAME.EXT.xmp")
#: What an existing video position is cleared with before another is written (--overwrite-gps).
VIDEO_GPS_CLEAR = ["-Keys:GPSCoordinates=", "-UserData:GPSCoordinates=", "-ItemList:GPSCoordinates=", "-XMP-exif:GPS*="]
PREDICTED_KEY = "XMP-geoguess:Predicted"
RUN_KEY = "XMP-geoguess:Run"  # the undo journal's run that wrote it
PROCESSING_METHOD = "GeoGuess prediction, not a measurement"

# Values that are not tags of the file: file-system facts, derived (composite) values, ExifTool's own.
DERIVED = ("System:", "Composite:", "ExifTool:", "SourceFile")
# What may differ between a photo and its geotagged copy besides the written tags: the derived values
# and pointers that move when metadata grows (the image data they point to is checked byte for byte).
UNCOMPARED_GROUPS = (*DERIVED, "XMP-geoguess:")
POINTER = re.compile(r"(Offset|Offsets|Start|ByteCounts?|MediaDataSize)$")
# A QuickTime track (and a file's metadata box) has handler boxes whose tags share names: ExifTool reads
# one of each name, and which one can differ after a write that adds the Keys' own handler. The
# media itself is checked byte for byte (pixel_digest), so these are not compared in a video.
QUICKTIME_HANDLERS = re.compile(r"^(Track\d+|QuickTime):Handler(Type|Description|Class|VendorID)$")


def raw_in_file(path: Path, which: str) -> bool:
    """Whether this RAW file is written in-file when ``which`` (RAW_IN_FILE) RAW files are."""
    suffix = path.suffix.lower()
    return (which == "all" and suffix in WRITABLE_RAW) or (which == "dng" and suffix == ".dng")


def photo_format(path: Path, raw_files: str = "no") -> str:
    """The format by content; refuses what GeoGuess does not write into (RAW files, unless
    ``raw_files`` (RAW_IN_FILE) says so, and videos that are not QuickTime-based take a sidecar)."""
    kind = kind_of(path)
    if kind == RAW:
        if raw_in_file(path, raw_files):
            return RAW_FORMAT
        raise GeotagRefused("camera RAW files are not written into: their position goes into an XMP sidecar")
    if kind == VIDEO:
        if path.suffix.lower() not in WRITABLE_VIDEO or not _quicktime(path):
            raise GeotagRefused(
                f"{path.suffix.lstrip('.').upper()} videos are not written into: their position goes into an XMP sidecar"
            )
        return QUICKTIME
    try:
        with Image.open(path) as image:
            fmt = image.format or ""
    except FileNotFoundError:
        raise GeotagRefused("it does not exist") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as e:
        raise GeotagRefused(f"not an image GeoGuess can read ({type(e).__name__})") from None
    if fmt not in WRITABLE_FORMATS:
        raise GeotagRefused(f"{fmt or 'this'} files are not written into safely (--sidecar writes an XMP sidecar)")
    return fmt


def in_sidecar(path: Path, raw_files: str = "no") -> bool:
    """Whether a position for this file goes into a sidecar whatever is asked: a RAW file (never
    touched, unless ``raw_files`` (RAW_IN_FILE) says it is written in-file), a video GeoGuess does
    not write into."""
    kind = kind_of(path)
    if kind == RAW:
        return not raw_in_file(path, raw_files)
    return kind == VIDEO and path.suffix.lower() not in WRITABLE_VIDEO


def _quicktime(path: Path) -> bool:
    """A QuickTime-based file (MOV, MP4, M4V, 3GP): an ``ftyp``, ``moov``, ``wide``, ``free`` or
    ``mdat`` box first."""
    try:
        with open(path, "rb") as f:
            head = f.read(12)
    except OSError:
        return False
    return head[4:8] in (b"ftyp", b"moov", b"wide", b"free", b"mdat", b"skip")


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
    """GeoGuess's provenance record is in the photo: Predicted is True for a prediction (or a position
    taken from GPS data) and False for a position a person set (typed, searched, the pin)."""
    return tags.get(PREDICTED_KEY) in (True, 1, "True", "true", False, 0, "False", "false")


#: How a refusal to replace a photo's own position ends on the command line (the window says its own).
REPLACING_NEEDS = "; replacing it needs --overwrite-gps"


def refuse_replacing(tags: dict, overwrite_gps: bool, ours: dict | None = None) -> str | None:
    """The GPS position the photo already has (or None); GeotagRefused if it may not be replaced.

    A position GeoGuess wrote (per ``ours``, by default ``tags``) is not replaced without being
    asked either: another GeoGuess run (the window, or another command line) may have written it
    since this one looked at the photo."""
    existing = existing_position(tags)
    if existing and not overwrite_gps:
        own = tags if ours is None else ours
        if is_geoguess_tagged(own):
            run = own.get(RUN_KEY)
            by = f" (run {run})" if run else ""
            raise GeotagRefused(f"GeoGuess already wrote a position into it{by}: {existing}{REPLACING_NEEDS}")
        raise GeotagRefused(f"it already has a GPS position ({existing}){REPLACING_NEEDS}")
    return existing


def unexpected_changes(
    before: dict, after: dict, intended: set[str], cleared: tuple[str, ...] = (), video: bool = False
) -> list[str]:
    """Tags that a write lost or changed without being asked to, and warnings it added."""
    problems = []
    for key, value in before.items():
        if key.startswith(UNCOMPARED_GROUPS) or key in intended or key.startswith(cleared) or POINTER.search(key):
            continue
        if video and QUICKTIME_HANDLERS.match(key):
            continue
        if key not in after:
            problems.append(f"{key} would be lost")
        elif after[key] != value:
            problems.append(f"{key} would change")
    return problems + new_warnings(before, after)


def new_warnings(before: dict, after: dict) -> list[str]:
    """ExifTool's warnings about ``after`` that it did not give about ``before``."""
    added = set(_as_list(after.get("ExifTool:Warning"))) - set(_as_list(before.get("ExifTool:Warning")))
    return [f"ExifTool would warn: {w}" for w in sorted(added)]


def _as_list(value) -> list:
    return [] if value is None else value if isinstance(value, list) else [value]


def real_tag(key: str) -> bool:
    """A tag of the file itself: not a derived value, not a pointer that moves with the metadata."""
    return not key.startswith(DERIVED) and not POINTER.search(key)


def harm_text(problems: list[str], what: str = "other metadata") -> str:
    more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
    return f"writing would harm {what}: " + "; ".join(problems[:3]) + more


def tag_changes(original: dict, written: dict, values: dict) -> dict:
    """What a write did to the tags, for the journal: the values set, the previous value of each
    tag it set or removed (None: absent), and the tags it added besides (such as the basic EXIF
    tags ExifTool adds to a photo that had no EXIF)."""
    before = {k: original.get(k) for k in values}
    before.update({k: v for k, v in original.items() if real_tag(k) and k not in written})
    added = sorted(k for k in written if real_tag(k) and k not in original and k not in values)
    return {"set": dict(values), "before": before, "added": added}


def sidecar_path(photo: Path, name: str = SIDECAR_NAMES[0]) -> Path:
    """The XMP sidecar of a photo: the one it has (either convention), else a new one named by
    ``name``: ``NAME.xmp`` (Adobe's: IMG_0001.xmp) or ``NAME.EXT.xmp`` (darktable's and
    digiKam's: IMG_0001.CR2.xmp)."""
    if name not in SIDECAR_NAMES:
        raise ValueError(f"a sidecar name is one of {SIDECAR_NAMES}")
    adobe, full = photo.with_suffix(".xmp"), photo.with_name(photo.name + ".xmp")
    if full.exists():
        return full
    if adobe.exists() and adobe != photo:
        return adobe
    return full if name == "NAME.EXT.xmp" else adobe


def exif_block(path: Path) -> str:
    """The photo's EXIF block as ExifTool extracts it (-b -EXIF), compressed, base64."""
    data, _ = shared_exiftool().run_binary("-b", "-EXIF", path)
    return base64.b64encode(zlib.compress(data, 9)).decode("ascii")


def exif_block_file(encoded: str, folder: Path) -> Path:
    """The EXIF block kept by ``_exif_block`` as a file ExifTool can copy from (-EXIF<=FILE)."""
    target = folder / f"original-{os.getpid()}-{threading.get_ident()}.exif"
    target.write_bytes(zlib.decompress(base64.b64decode(encoded)))
    return target
