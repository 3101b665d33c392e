"""What a RAW file or a video says about itself, read with ExifTool (which reads them all): when it
was taken and at what offset from UTC, the camera, and its own GPS position.

- **RAW** files keep EXIF as JPEGs do (DateTimeOriginal, SubSecTimeOriginal, OffsetTimeOriginal,
  the GPS IFD), in the file's own TIFF-like structure or, for some makers, in their own blocks;
  ExifTool's Composite tags give the position whatever its source.
- **Videos**: QuickTime's CreateDate is UTC by the specification; Keys:CreationDate (what iPhones
  and Android write) carries the local time and its offset and is preferred. The position is
  Keys:GPSCoordinates or UserData ©xyz (ExifTool's Composite GPSLatitude/GPSLongitude); a 0,0
  position is no position (many cameras write it when they have none). The rotation a phone
  recorded is applied to the frames when they are decoded (video.py), so the orientation here is 1.

Tags are ExifTool's numeric JSON (``-j -n -G1``), as ``metadata.read_metadata`` returns them.
"""

from __future__ import annotations

import re
from typing import Any

from .exif import GPSPosition, PhotoMeta

GEOGUESS_METHOD = "GeoGuess"  # GPSProcessingMethod of a position GeoGuess wrote (a prediction or a person's)
_LOCAL_WITH_OFFSET = re.compile(r"(\d{4}:\d{2}:\d{2} \d{2}:\d{2}:\d{2})(?:\.(\d+))?([+-]\d{2}:\d{2}|Z)?$")


def _first(tags: dict[str, Any], *names: str) -> Any:
    """The first of ``names`` (``Name`` matches any group) the tags hold with a value."""
    for name in names:
        if ":" in name:
            value = tags.get(name)
            if value not in (None, ""):
                return value
            continue
        for key, value in tags.items():
            if key.endswith(":" + name) and value not in (None, ""):
                return value
    return None


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _gps(tags: dict[str, Any]) -> GPSPosition | None:
    lat, lon = tags.get("Composite:GPSLatitude"), tags.get("Composite:GPSLongitude")
    if not isinstance(lat, (int, float)) or not isinstance(lon, (int, float)):
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        return None
    method = _text(_first(tags, "GPSProcessingMethod"))
    predicted = method.startswith(GEOGUESS_METHOD) or tags.get("XMP-geoguess:Predicted") in (True, "True", 1)
    return GPSPosition(float(lat), float(lon), predicted=predicted)


def raw_meta(tags: dict[str, Any]) -> PhotoMeta:
    """A RAW file's time, offset, camera and own GPS (orientation: see raw.py)."""
    taken = _text(_first(tags, "ExifIFD:DateTimeOriginal", "DateTimeOriginal", "ExifIFD:CreateDate", "IFD0:ModifyDate"))
    subsec = _text(_first(tags, "ExifIFD:SubSecTimeOriginal", "SubSecTimeOriginal"))
    offset = _text(_first(tags, "ExifIFD:OffsetTimeOriginal", "OffsetTimeOriginal", "OffsetTime"))
    return PhotoMeta(
        orientation=1,
        gps=_gps(tags),
        make=_text(_first(tags, "IFD0:Make", "Make")),
        model=_text(_first(tags, "IFD0:Model", "Model", "CameraModelName")),
        taken=taken if not taken.startswith("0000") else "",
        subsec=subsec if subsec.isdigit() else "",
        offset=offset,
    )


def video_meta(tags: dict[str, Any]) -> PhotoMeta:
    """A video's time (local with its offset, else QuickTime's UTC), camera and own GPS."""
    taken, subsec, offset = "", "", ""
    local = _text(_first(tags, "Keys:CreationDate", "UserData:DateTimeOriginal", "CreationDate"))
    m = _LOCAL_WITH_OFFSET.match(local)
    if m and m.group(3):
        taken, subsec = m.group(1), m.group(2) or ""
        offset = "+00:00" if m.group(3) == "Z" else m.group(3)
    else:
        utc = _text(_first(tags, "QuickTime:CreateDate", "QuickTime:MediaCreateDate", "Track1:MediaCreateDate"))
        if utc and not utc.startswith("0000"):
            taken, offset = utc[:19], "+00:00"  # UTC, as the QuickTime specification says
    return PhotoMeta(
        orientation=1,
        gps=_gps(tags),
        make=_text(_first(tags, "Keys:Make", "UserData:Make", "Make")),
        model=_text(_first(tags, "Keys:Model", "UserData:Model", "Model")),
        taken=taken,
        subsec=subsec,
        offset=offset,
    )
