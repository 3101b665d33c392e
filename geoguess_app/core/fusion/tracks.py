"""Positions that are measured, not predicted: GPS tracks (GPX, KML, GeoJSON) and photos of the set
that have their own GPS (anchors).

A photo is placed on a track as ExifTool's geotag and gpscorrelate place it: between the two track
points around its time (along the great circle between them) when they are at most ``max_gap``
apart, else at the nearest point when that is at most ``max_extend`` away, before the first point
as after the last. These spans are measured to the second, as EXIF shows times: a GPS photo's
sub-seconds (an iPhone's .835) must not put a photo 30 min before it out of reach while one 30 min
after it is placed. Its radius grows with the time to the nearest point (a person moves). Photos of
the set with their own GPS form a track of their own, the anchors: a photo between two of them is
``interpolated``, one placed at the nearest (before the first, after the last, or across a gap) is
``near_gps``, never said to be between GPS photos. Times are compared in UTC: the photo's EXIF
offset (or one borrowed from the photos around it); a photo with no offset at all is placed with
the offset that agrees with the time zone of the place the track puts it, when exactly one does.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import tzfpy

from ..errors import GeoGuessError
from ..photos.regular_files import open_regular
from .evidence import Evidence, Fix, anchor_text, format_duration
from .geometry import FloatArray, to_lat_lon, unit_vectors
from .inputs import FusionPhoto
from .timezone import local_offsets

GPS_RADIUS_KM = 0.03  # a GPS fix: tens of metres
SPEED_KMH = 30.0  # how fast the radius grows away from a track point
MAX_GAP = datetime.timedelta(minutes=30)  # ExifTool's GeoMaxIntSecs
MAX_EXTEND = datetime.timedelta(minutes=30)  # ExifTool's GeoMaxExtSecs
#: The largest track file read (about 300,000 points): its parsers hold it whole, at up to 16 times
#: its size in memory (GPX through gpxpy; GeoJSON 9, KML 8), so a larger one is refused before reading.
MAX_TRACK_BYTES = 32_000_000
_EPOCH = datetime.datetime(1970, 1, 1)


@dataclass
class Located:
    lat: float
    lon: float
    radius_km: float
    before: int | None  # indices of the points used
    after: int | None
    seconds_to_nearest: float

    @property
    def between(self) -> bool:
        """Placed between two points (not at the nearest one)."""
        return self.before is not None and self.after is not None and self.before != self.after


class Track:
    """Time-ordered positions (UTC)."""

    def __init__(self, name: str, times: Sequence[datetime.datetime], lats: Sequence[float], lons: Sequence[float]):
        seconds = np.array([_seconds(t) for t in times], np.float64)
        order = np.argsort(seconds, kind="stable")
        self.name = name
        self.seconds: FloatArray = seconds[order]
        self.lats: FloatArray = np.asarray(lats, np.float64)[order]
        self.lons: FloatArray = np.asarray(lons, np.float64)[order]
        self.xyz = unit_vectors(self.lats, self.lons)
        self.order: npt.NDArray[np.intp] = order

    def __len__(self) -> int:
        return len(self.seconds)

    def line(self, max_points: int = 2000) -> list[tuple[float, float]]:
        """The track as a line to draw: its positions in time order, thinned to ``max_points``."""
        step = max(1, -(-len(self) // max_points))
        keep = list(range(0, len(self), step))
        if len(self) and keep[-1] != len(self) - 1:
            keep.append(len(self) - 1)
        return [(float(self.lats[i]), float(self.lons[i])) for i in keep]

    def locate(
        self, utc: datetime.datetime, max_gap: datetime.timedelta = MAX_GAP, max_extend: datetime.timedelta = MAX_EXTEND
    ) -> Located | None:
        if not len(self):
            return None
        t = _seconds(utc)
        i = int(np.searchsorted(self.seconds, t, side="right"))  # seconds[i-1] <= t < seconds[i]
        before = i - 1 if i > 0 else None
        after = i if i < len(self) else None
        if before is not None and self.seconds[before] == t:
            after = before
        if before is not None and after is not None:
            t0, t1 = self.seconds[before], self.seconds[after]
            if _apart(t0, t1) <= max_gap.total_seconds():
                f = 0.0 if t1 == t0 else (t - t0) / (t1 - t0)
                lat, lon = to_lat_lon(_slerp(self.xyz[before], self.xyz[after], f))
                near = min(t - t0, t1 - t)
                return Located(lat, lon, _radius(near), before, after, near)
        candidates = [j for j in (before, after) if j is not None]
        j = min(candidates, key=lambda k: abs(self.seconds[k] - t))
        dt = abs(self.seconds[j] - t)
        if _apart(self.seconds[j], t) > max_extend.total_seconds():
            return None
        return Located(float(self.lats[j]), float(self.lons[j]), _radius(dt), j, j, dt)


def _apart(a: float, b: float) -> int:
    """Whole seconds between two times, each taken to its second as EXIF shows it (the same span
    before a time as after it, whatever their sub-seconds)."""
    return abs(math.floor(a) - math.floor(b))


def _radius(seconds: float) -> float:
    return GPS_RADIUS_KM + SPEED_KMH * seconds / 3600.0


def _seconds(t: datetime.datetime) -> float:
    return (t - _EPOCH).total_seconds()


def _slerp(a: FloatArray, b: FloatArray, f: float) -> FloatArray:
    omega = math.acos(max(-1.0, min(1.0, float(a @ b))))
    if omega < 1e-12:
        return a
    out: FloatArray = (math.sin((1 - f) * omega) * a + math.sin(f * omega) * b) / math.sin(omega)
    return out


# --- reading track files ------------------------------------------------------------------------


def read_track(path: str | Path) -> Track:
    """A GPX, KML or GeoJSON file's timed positions; GeoGuessError saying why not (also for a file
    over MAX_TRACK_BYTES, or one that is not a regular file: a FIFO is never waited on)."""
    path = Path(path)
    try:
        with open_regular(path) as f:
            size = os.fstat(f.fileno()).st_size
            text = f.read(MAX_TRACK_BYTES + 1) if size <= MAX_TRACK_BYTES else b""
            size = max(size, len(text))  # also a file that grew while it was read
    except OSError as e:
        raise GeoGuessError(f"cannot read track {path}: {e.strerror or e}") from None
    if size > MAX_TRACK_BYTES:
        raise GeoGuessError(
            f"track {path.name} is {size / 1e6:.1f} MB, more than the {MAX_TRACK_BYTES / 1e6:.0f} MB GeoGuess "
            "reads (about 300,000 points): split it, or keep only the days of the photos"
        )
    suffix = path.suffix.lower()
    try:
        if suffix == ".gpx":
            points = _gpx(text)
        elif suffix == ".kml":
            points = _kml(text)
        elif suffix in (".geojson", ".json"):
            points = _geojson(text)
        else:
            raise GeoGuessError(f"track {path.name}: GeoGuess reads .gpx, .kml and .geojson tracks")
    except GeoGuessError:
        raise
    except Exception as e:  # noqa: BLE001 - any parse failure is the file's fault, said per file
        raise GeoGuessError(f"track {path.name} cannot be read: {str(e)[:200]}") from None
    points = [(t, lat, lon) for t, lat, lon in points if -90 <= lat <= 90 and -180 <= lon <= 180]
    if not points:
        raise GeoGuessError(f"track {path.name} has no positions with times (photos are placed on a track by time)")
    times, lats, lons = zip(*points)
    return Track(path.name, times, lats, lons)


def _utc(t: datetime.datetime) -> datetime.datetime:
    """A naive UTC datetime (a time without a zone is taken as UTC, as GPX says it is)."""
    return t.astimezone(datetime.UTC).replace(tzinfo=None) if t.tzinfo else t


def _parse_iso(text: str) -> datetime.datetime:
    return _utc(datetime.datetime.fromisoformat(text.strip().replace("Z", "+00:00")))


def _gpx(data: bytes) -> list[tuple[datetime.datetime, float, float]]:
    import gpxpy

    gpx = gpxpy.parse(data.decode("utf-8-sig"))
    points: list[Any] = [p for track in gpx.tracks for segment in track.segments for p in segment.points]
    points += [p for route in gpx.routes for p in route.points] + list(gpx.waypoints)
    return [(_utc(p.time), float(p.latitude), float(p.longitude)) for p in points if p.time is not None]


def _kml(data: bytes) -> list[tuple[datetime.datetime, float, float]]:
    root = ET.fromstring(data)
    out = []
    for element in root.iter():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag == "Track":  # gx:Track: <when> and <gx:coord> in turn
            whens = [c.text or "" for c in element if c.tag.rsplit("}", 1)[-1] == "when"]
            coords = [c.text or "" for c in element if c.tag.rsplit("}", 1)[-1] == "coord"]
            for when, coord in zip(whens, coords):
                lon, lat = (float(v) for v in coord.split()[:2])
                out.append((_parse_iso(when), lat, lon))
        elif tag == "Placemark":  # a point with a time stamp
            stamp = next((e.text for e in element.iter() if e.tag.rsplit("}", 1)[-1] == "when"), None)
            point = next((e.text for e in element.iter() if e.tag.rsplit("}", 1)[-1] == "coordinates"), None)
            if stamp and point and len(point.split()) == 1:
                lon, lat = (float(v) for v in point.split(",")[:2])
                out.append((_parse_iso(stamp), lat, lon))
    return out


def _geojson(data: bytes) -> list[tuple[datetime.datetime, float, float]]:
    doc = json.loads(data)
    features = doc.get("features", [doc]) if isinstance(doc, dict) else []
    out = []
    for feature in features:
        geometry = feature.get("geometry") or feature
        props = feature.get("properties") or {}
        kind, coords = geometry.get("type"), geometry.get("coordinates")
        if kind == "Point":
            when = props.get("time") or props.get("timestamp")
            if when:
                out.append((_parse_iso(str(when)), float(coords[1]), float(coords[0])))
            continue
        lines = [coords] if kind == "LineString" else coords if kind == "MultiLineString" else []
        times = props.get("coordTimes") or props.get("times") or []
        if kind == "LineString":
            times = [times]
        for line, line_times in zip(lines, times):
            for c, when in zip(line, line_times):
                if when:
                    out.append((_parse_iso(str(when)), float(c[1]), float(c[0])))
    return out


# --- evidence -----------------------------------------------------------------------------------


def _offset_from_track(photo: FusionPhoto, track: Track, max_gap: datetime.timedelta) -> Located | None:
    """A photo without any offset: the one offset under which the track puts it in a zone with
    that offset, or None when none or several do."""
    assert photo.time is not None
    found = []
    for quarter in range(-12 * 4, 14 * 4 + 1):
        offset = datetime.timedelta(minutes=15 * quarter)
        where = track.locate(photo.time - offset, max_gap, max_gap)
        if where is None:
            continue
        if offset in local_offsets(tzfpy.get_tz(where.lon, where.lat) or "", photo.time):
            found.append(where)
    return found[0] if len(found) == 1 else None


class TrackEvidence(Evidence):
    """``--track FILE``: photos placed on the track by time."""

    name = "track"

    def __init__(self, tracks: Sequence[Track], max_gap: datetime.timedelta = MAX_GAP):
        self.tracks = list(tracks)
        self.max_gap = max_gap

    def fixes(self, photos: Sequence[FusionPhoto]) -> dict[int, Fix]:
        out: dict[int, Fix] = {}
        for photo in photos:
            if photo.time is None or photo.gps is not None:
                continue
            best: tuple[Located, Track] | None = None
            for track in self.tracks:
                if photo.clock_offset is not None:
                    assert photo.utc is not None
                    where = track.locate(photo.utc, self.max_gap, self.max_gap)
                else:
                    where = _offset_from_track(photo, track, self.max_gap)
                if where is not None and (best is None or where.radius_km < best[0].radius_km):
                    best = (where, track)
            if best is not None:
                where, track = best
                text = f"track {track.name}, {format_duration(where.seconds_to_nearest)} from a track point"
                out[photo.index] = Fix(where.lat, where.lon, where.radius_km, "track", text)
        return out


class AnchorEvidence(Evidence):
    """Photos of the set with their own GPS: their position is theirs (a measurement); a photo taken
    between two of them at most 30 min apart is placed between them (``interpolated``), one within
    30 min of the nearest (before the first, after the last) at it (``near_gps``)."""

    name = "anchors"

    def __init__(self, max_gap: datetime.timedelta = MAX_GAP):
        self.max_gap = max_gap

    def fixes(self, photos: Sequence[FusionPhoto]) -> dict[int, Fix]:
        out: dict[int, Fix] = {}
        anchors = [p for p in photos if p.gps is not None]
        for p in anchors:
            assert p.gps is not None
            out[p.index] = Fix(
                p.gps[0], p.gps[1], GPS_RADIUS_KM, "gps", "its own GPS position (a measurement, not a prediction)"
            )
        timed = [p for p in anchors if p.utc is not None]
        if not timed:
            return out
        track = Track(
            "anchors",
            [p.utc for p in timed if p.utc],
            [p.gps[0] for p in timed if p.gps],
            [p.gps[1] for p in timed if p.gps],
        )
        names = [timed[int(k)].name for k in track.order]
        for photo in photos:
            if photo.index in out or photo.utc is None:
                continue
            where = track.locate(photo.utc, self.max_gap, self.max_gap)
            if where is None:
                continue
            t = _seconds(photo.utc)
            parts = [
                anchor_text(names[j], float(track.seconds[j] - t))
                for j in sorted({k for k in (where.before, where.after) if k is not None})
            ]
            source = "interpolated" if where.between else "near_gps"
            out[photo.index] = Fix(where.lat, where.lon, where.radius_km, source, "; ".join(parts))
        return out
