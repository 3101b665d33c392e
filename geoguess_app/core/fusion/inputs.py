"""What fusion knows of each photo: its time, its own GPS, its model distribution.

Read from a line of ``geoguess predict --json --distribution`` (``from_json``) or from a
PhotoResult (``from_result``). A GPS position that GeoGuess itself wrote is a prediction, never
evidence: it is ignored here.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ..predict.results import PhotoResult

_OFFSET = re.compile(r"([+-])(\d{2}):(\d{2})")
#: The largest offset from UTC a clock has (Kiribati's +14:00; -12:00 is the lowest).
MAX_OFFSET = datetime.timedelta(hours=14)


class BadLine(ValueError):
    """A line of predictions that fusion cannot use; the message says why."""


def parse_time(text: object) -> datetime.datetime | None:
    """ "YYYY-MM-DDTHH:MM:SS[.fraction]" (local time, as EXIF says it) to a naive datetime."""
    if not text:
        return None
    if not isinstance(text, str):
        raise BadLine(f"'taken' time {text!r} is not YYYY-MM-DDTHH:MM:SS")
    main, _, fraction = text.partition(".")
    try:
        when = datetime.datetime.strptime(main, "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        raise BadLine(f"'taken' time {text!r} is not YYYY-MM-DDTHH:MM:SS") from None
    if fraction:
        if not fraction.isdigit():
            raise BadLine(f"'taken' time {text!r} has a bad fraction of a second")
        when += datetime.timedelta(microseconds=int(fraction[:6].ljust(6, "0")))
    return when


def parse_offset(text: object) -> datetime.timedelta | None:
    """ "+09:00" to a timedelta; None for none."""
    if not text:
        return None
    m = _OFFSET.fullmatch(text.strip()) if isinstance(text, str) else None
    if not m:
        raise BadLine(f"'taken' offset {text!r} is not +HH:MM")
    minutes = int(m.group(2)) * 60 + int(m.group(3))
    if int(m.group(3)) >= 60 or datetime.timedelta(minutes=minutes) > MAX_OFFSET:
        raise BadLine(f"'taken' offset {text!r} is not an offset from UTC (-14:00 to +14:00)")
    return datetime.timedelta(minutes=-minutes if m.group(1) == "-" else minutes)


def check_clock(time: datetime.datetime | None, offset: datetime.timedelta | None) -> None:
    """BadLine when fusion cannot put this time in UTC, on one clock with the other photos: its own
    offset, or for a photo without one any offset it may borrow or try (at most 14 h either way),
    must leave it within the years 1 to 9999 (a camera clock set to year 1 at +14:00)."""
    if time is None:
        return
    if offset is not None:
        try:
            time - offset
        except OverflowError:
            raise BadLine(
                f"its time {time.isoformat()} at {format_offset(offset)} cannot be put in UTC "
                "(before year 1 or after year 9999)"
            ) from None
    elif not datetime.datetime.min + MAX_OFFSET <= time <= datetime.datetime.max - MAX_OFFSET:
        raise BadLine(
            f"its time {time.isoformat()} cannot be put in UTC (without an offset, it is within 14 h "
            "of the first or last day of the years 1 to 9999)"
        )


def format_offset(offset: datetime.timedelta) -> str:
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


@dataclass
class FusionPhoto:
    """One photo as fusion sees it."""

    index: int  # position in the input
    path: str
    time: datetime.datetime | None = None  # local time of the camera, as in EXIF
    offset: datetime.timedelta | None = None  # from EXIF (OffsetTimeOriginal and fallbacks)
    gps: tuple[float, float] | None = None  # its own GPS position: a measurement (never GeoGuess's)
    classes: npt.NDArray[np.int64] | None = None  # the stored distribution, highest first
    probabilities: npt.NDArray[np.float64] | None = None
    error: str | None = None
    #: The offset used to place the photo in time: its own, or borrowed from the nearest photo
    #: with one (set by fuse.place_in_time).
    clock_offset: datetime.timedelta | None = None

    @property
    def name(self) -> str:
        return Path(self.path).name

    @property
    def usable(self) -> bool:
        return self.error is None and self.classes is not None and len(self.classes) > 0

    @property
    def utc(self) -> datetime.datetime | None:
        """The time on one clock for the whole set: UTC when an offset is known, else the camera's."""
        if self.time is None:
            return None
        return self.time - self.clock_offset if self.clock_offset is not None else self.time

    @classmethod
    def from_json(cls, data: Any, index: int, num_classes: int) -> FusionPhoto:
        """A line of ``predict --json --distribution``, already parsed; BadLine when it is not one."""
        if not isinstance(data, dict) or not isinstance(data.get("path"), str):
            raise BadLine("not a prediction of 'geoguess predict --json' (no 'path')")
        photo = cls(index=index, path=data["path"])
        if data.get("error"):
            photo.error = str(data["error"])
            return photo
        model = data.get("model")
        classes = model.get("num_classes") if isinstance(model, dict) else None
        if isinstance(classes, int) and classes != num_classes:
            raise BadLine(
                f"made by a model of {classes} cells, but the model folder's grids.txt has {num_classes}: "
                "give the --model-dir of the model that predicted it"
            )
        taken = data.get("taken") or {}
        if not isinstance(taken, dict):
            raise BadLine("'taken' is not an object")
        photo.time = parse_time(taken.get("time"))
        photo.offset = parse_offset(taken.get("offset"))
        check_clock(photo.time, photo.offset)
        gps = data.get("exif_gps")
        if isinstance(gps, dict) and not gps.get("predicted"):
            photo.gps = _position(gps)
        pairs = data.get("distribution")
        if pairs is None:  # an older line: fall back on its ranked guesses
            pairs = [
                [g.get("class"), g.get("probability")] for g in data.get("predictions") or [] if isinstance(g, dict)
            ]
        photo.classes, photo.probabilities = _pairs(pairs, num_classes)
        if not len(photo.classes):
            photo.error = "no distribution in this line (run 'geoguess predict --json --distribution')"
        return photo

    @classmethod
    def from_result(cls, result: PhotoResult, index: int) -> FusionPhoto:
        """A predicted photo; one whose time cannot be put in UTC is an error saying so."""
        photo = cls(index=index, path=result.path, error=result.error)
        meta = result.meta
        if meta is not None:
            try:
                photo.time = parse_time(meta.time)
                photo.offset = parse_offset(meta.utc_offset)
                check_clock(photo.time, photo.offset)
            except BadLine as e:
                photo.time = photo.offset = None
                photo.error = photo.error or str(e)
            if meta.gps is not None and not meta.gps.predicted:
                photo.gps = (meta.gps.lat, meta.gps.lon)
        if result.distribution is not None and result.ok:
            stored = result.distribution.stored()
            photo.classes = stored.classes.astype(np.int64)
            photo.probabilities = stored.probabilities.astype(np.float64)
        elif result.ok:
            photo.error = "no distribution"
        return photo


def _position(gps: dict[str, Any]) -> tuple[float, float]:
    try:
        lat, lon = float(gps["lat"]), float(gps["lon"])
    except (KeyError, TypeError, ValueError):
        raise BadLine("'exif_gps' is not {'lat': ..., 'lon': ...}") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise BadLine(f"'exif_gps' {lat}, {lon} is not a position on the Earth")
    return lat, lon


def _pairs(pairs: Any, num_classes: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Classes (whole numbers; ``true`` or 12.7 is none) and probabilities (numbers, not text),
    highest first; BadLine saying what is wrong."""
    if not isinstance(pairs, list) or not all(isinstance(pair, list) and len(pair) == 2 for pair in pairs):
        raise BadLine("'distribution' is not a list of [class, probability]")
    for c, p in pairs:
        if isinstance(c, bool) or not (isinstance(c, int) or (isinstance(c, float) and c.is_integer())):
            raise BadLine(f"'distribution' class {json.dumps(c)} is not a whole number")
        if isinstance(p, bool) or not isinstance(p, (int, float)):
            raise BadLine(f"'distribution' probability {json.dumps(p)} is not a number")
        if not 0 <= c < num_classes:
            raise BadLine(f"'distribution' names a class outside 0-{num_classes - 1}: is it from another model?")
    classes = np.array([int(c) for c, _ in pairs], np.int64)
    probabilities = np.array([float(p) for _, p in pairs], np.float64)
    if len(probabilities) and (
        not np.all(np.isfinite(probabilities)) or probabilities.min() < 0 or probabilities.sum() > 1.001
    ):
        raise BadLine("'distribution' probabilities are not between 0 and 1, or add up to more than 1")
    if len(probabilities) and probabilities.sum() <= 0:
        raise BadLine("'distribution' probabilities add up to 0")
    if len(np.unique(classes)) != len(classes):
        raise BadLine("'distribution' names a class twice")
    order = np.argsort(-probabilities, kind="stable")
    return classes[order], probabilities[order]


def read_lines(lines: Iterable[str], num_classes: int) -> tuple[list[FusionPhoto], list[dict[str, Any]]]:
    """The photos of ``predict --json --distribution`` output, in order, and the models named in it.
    A line that cannot be read is a photo with an error (its path when the line has one, else
    "line N"); the others go on. Blank lines are skipped."""
    photos: list[FusionPhoto] = []
    models: list[dict[str, Any]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        index = len(photos)
        try:
            data = json.loads(line)
        except json.JSONDecodeError as e:
            photos.append(FusionPhoto(index=index, path=f"line {number}", error=f"line {number} is not JSON: {e.msg}"))
            continue
        except RecursionError:  # "[[[[...": deeper than Python's parser goes
            error = f"line {number} cannot be read: its JSON is nested too deeply"
            photos.append(FusionPhoto(index=index, path=f"line {number}", error=error))
            continue
        try:
            photos.append(FusionPhoto.from_json(data, index, num_classes))
        except BadLine as e:
            path = f"line {number}"
            if isinstance(data, dict) and isinstance(data.get("path"), str):
                path = data["path"]
            photos.append(FusionPhoto(index=index, path=path, error=f"line {number}: {e}"))
            continue
        model = data.get("model")
        if isinstance(model, dict) and model not in models:
            models.append(model)
    return photos, models
