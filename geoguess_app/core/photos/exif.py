"""Reading the EXIF fields GeoGuess shows or uses: orientation, GPS position, camera, time.

Broken EXIF is common (bad offsets, zero denominators, impossible values). Reading never raises:
a field that cannot be read is simply absent, and an impossible GPS position is no position.
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from PIL import Image

TAG_ORIENTATION = 0x0112
TAG_MAKE = 0x010F
TAG_MODEL = 0x0110
TAG_DATETIME = 0x0132
IFD_EXIF = 0x8769
IFD_GPS = 0x8825
TAG_DATETIME_ORIGINAL = 0x9003
TAG_DATETIME_DIGITIZED = 0x9004
TAG_OFFSET, TAG_OFFSET_ORIGINAL, TAG_OFFSET_DIGITIZED = 0x9010, 0x9011, 0x9012
TAG_GPS_PROCESSING_METHOD = 0x001B
TAG_SUBSEC, TAG_SUBSEC_ORIGINAL, TAG_SUBSEC_DIGITIZED = 0x9290, 0x9291, 0x9292
_EXIF_TIME = re.compile(r"(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_OFFSET = re.compile(r"([+-])(\d{2}):(\d{2})")


@dataclass(frozen=True)
class GPSPosition:
    lat: float
    lon: float
    #: GeoGuess wrote it (GPSProcessingMethod says so): a prediction, not a measurement.
    predicted: bool = False

    def as_dict(self) -> dict[str, float | bool]:
        return {"lat": self.lat, "lon": self.lon, "predicted": self.predicted}


@dataclass(frozen=True)
class PhotoMeta:
    orientation: int = 1
    gps: GPSPosition | None = None
    make: str = ""
    model: str = ""
    taken: str = ""  # EXIF DateTimeOriginal (or DateTimeDigitized, or DateTime) as written, "YYYY:MM:DD HH:MM:SS"
    subsec: str = ""  # the SubSecTime that goes with that time, as written
    offset: str = ""  # OffsetTimeOriginal (or OffsetTimeDigitized, or OffsetTime) as written, "+HH:MM"

    @property
    def time(self) -> str | None:
        """When the photo was taken, in the camera's local time: "YYYY-MM-DDTHH:MM:SS" with any
        sub-seconds; None when the photo does not say, or says an impossible time."""
        m = _EXIF_TIME.fullmatch(self.taken.strip())
        if not m:
            return None
        try:
            year, month, day, hour, minute, second = (int(g) for g in m.groups())
            when = datetime.datetime(year, month, day, hour, minute, second)
        except ValueError:  # month 13, second 70, year 0 ...
            return None
        digits = self.subsec.strip()
        return when.isoformat() + (f".{digits}" if digits.isdigit() else "")

    @property
    def utc_offset(self) -> str | None:
        """The camera's offset from UTC when the photo was taken ("+09:00"), or None (also for one
        beyond the -14:00 to +14:00 clocks have)."""
        m = _OFFSET.fullmatch(self.offset.strip())
        if not m or int(m.group(3)) >= 60 or int(m.group(2)) * 60 + int(m.group(3)) > 14 * 60:
            return None
        return f"{m.group(1)}{m.group(2)}:{m.group(3)}"

    @property
    def camera(self) -> str:
        make, model = self.make.strip(), self.model.strip()
        if make and model.lower().startswith(make.split()[0].lower()):
            return model
        return " ".join(x for x in (make, model) if x)


def read_meta(image: Image.Image) -> PhotoMeta:
    try:
        exif = image.getexif()
    except Exception:  # noqa: BLE001 - any damage in EXIF means "no EXIF", never a failed photo
        return PhotoMeta()
    orientation = _int(exif.get(TAG_ORIENTATION))
    if orientation not in range(1, 9):
        orientation = 1
    try:
        exif_ifd = exif.get_ifd(IFD_EXIF)
    except Exception:  # noqa: BLE001
        exif_ifd = {}
    try:
        gps_ifd = exif.get_ifd(IFD_GPS)
    except Exception:  # noqa: BLE001
        gps_ifd = {}
    # The time and its sub-seconds from the same source: taken, else digitized, else last changed.
    taken, subsec = "", ""
    for value, fraction in (
        (exif_ifd.get(TAG_DATETIME_ORIGINAL), exif_ifd.get(TAG_SUBSEC_ORIGINAL)),
        (exif_ifd.get(TAG_DATETIME_DIGITIZED), exif_ifd.get(TAG_SUBSEC_DIGITIZED)),
        (exif.get(TAG_DATETIME), exif_ifd.get(TAG_SUBSEC)),
    ):
        if _text(value):
            taken, subsec = _text(value), _text(fraction)
            break
    offset = next(
        (
            _text(exif_ifd.get(t))
            for t in (TAG_OFFSET_ORIGINAL, TAG_OFFSET_DIGITIZED, TAG_OFFSET)
            if _text(exif_ifd.get(t))
        ),
        "",
    )
    return PhotoMeta(
        orientation=orientation,
        gps=parse_gps(gps_ifd),
        make=_text(exif.get(TAG_MAKE)),
        model=_text(exif.get(TAG_MODEL)),
        taken=taken,
        subsec=subsec,
        offset=offset,
    )


def parse_gps(gps_ifd: Mapping[int, Any]) -> GPSPosition | None:
    """GPS IFD (Pillow mapping of tag number to value) to a position, or None if unusable."""
    try:
        lat = _dms(gps_ifd.get(2))
        lon = _dms(gps_ifd.get(4))
    except Exception:  # noqa: BLE001
        return None
    if lat is None or lon is None:
        return None
    lat_ref = _text(gps_ifd.get(1)).upper()[:1]
    lon_ref = _text(gps_ifd.get(3)).upper()[:1]
    if lat_ref == "S":
        lat = -abs(lat)
    if lon_ref == "W":
        lon = -abs(lon)
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    method = _text(gps_ifd.get(TAG_GPS_PROCESSING_METHOD))
    return GPSPosition(lat=lat, lon=lon, predicted="GeoGuess" in method)


def _dms(value: Any) -> float | None:
    if value is None:
        return None
    if not isinstance(value, (tuple, list)):
        value = (value,)
    parts = [float(v) for v in value[:3]]
    if not parts or any(math.isnan(p) or math.isinf(p) for p in parts):
        return None
    deg = parts[0]
    mins = parts[1] if len(parts) > 1 else 0.0
    secs = parts[2] if len(parts) > 2 else 0.0
    sign = -1.0 if deg < 0 else 1.0
    return sign * (abs(deg) + mins / 60.0 + secs / 3600.0)


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return str(value).replace("\x00", "").strip()
