"""What fusion is to use, chosen once by a person (the command line's options, the window's folder
review) and turned into the sources of evidence here, and only here.

``FusionSettings`` is plain data: GPS tracks, a region, album mode, time zones, neighbours and
anchors on or off, the longest gap fused across, and a camera clock offset (the camera's clock
was wrong by N minutes, as Photini and digiKam offer for track matching). ``prepare`` reads the
tracks and parses the region at once, so that a mistake is said before any photo is predicted;
the ``PreparedFusion`` it gives makes the photos fusion reads from predictions and fuses them on a
model's grid.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import GeoGuessError
from ..predict.results import PhotoResult
from .evidence import Evidence
from .fuse import FusedAnswer, FusionOptions, fuse
from .geometry import GridGeometry
from .inputs import FusionPhoto
from .region import Region, RegionEvidence, parse_region
from .timezone import TimezoneEvidence
from .tracks import AnchorEvidence, Track, TrackEvidence, read_track
from .travel import DEFAULT_MAX_GAP_H, TravelModel

__all__ = ["DEFAULT_MAX_GAP_H", "FusionSettings", "PreparedFusion"]


@dataclass(frozen=True)
class FusionSettings:
    tracks: tuple[str, ...] = ()  # GPX, KML or GeoJSON files
    region: str | None = None  # as parse_region reads it: country names or codes, a box, a circle
    album: bool = False  # all taken in one place (also those without a time)
    timezones: bool = True  # the offset from UTC in EXIF
    neighbours: bool = True  # the photos taken before and after each
    anchors: bool = True  # the photos of the set with their own GPS
    max_gap_h: float = DEFAULT_MAX_GAP_H  # photos further apart in time are not fused with each other
    clock_offset_min: float = 0.0  # the camera's clock was ahead by this many minutes (behind: negative)
    trust_gps: bool = True  # the photos' own GPS positions are kept and are evidence (not with --overwrite-gps)

    def prepare(self) -> PreparedFusion:
        """Read the tracks and parse the region now: GeoGuessError says what is wrong."""
        if not self.max_gap_h > 0:
            raise GeoGuessError("the longest gap fused across (--max-gap) is a number of hours above 0")
        if not abs(self.clock_offset_min) <= 7 * 24 * 60:
            raise GeoGuessError("the camera clock offset is at most a week (10080 minutes) either way")
        region = parse_region(self.region) if self.region else None
        tracks = [read_track(Path(path)) for path in self.tracks]
        return PreparedFusion(self, region, tracks)


@dataclass
class PreparedFusion:
    settings: FusionSettings
    region: Region | None = None
    tracks: list[Track] = field(default_factory=list)

    def options(self, geometry: GridGeometry) -> FusionOptions:
        """The sources of evidence, and how fusion joins them, on this grid."""
        s = self.settings
        sources: list[Evidence] = []
        if s.timezones:
            sources.append(TimezoneEvidence(geometry))
        if self.region is not None:
            sources.append(RegionEvidence(self.region, geometry))
        if s.anchors and s.trust_gps:
            sources.append(AnchorEvidence())
        if self.tracks:
            sources.append(TrackEvidence(self.tracks))
        return FusionOptions(
            sources=sources,
            neighbours=s.neighbours,
            album=s.album,
            travel=TravelModel(max_gap=datetime.timedelta(hours=s.max_gap_h)),
        )

    def photos(self, results: Sequence[PhotoResult]) -> list[FusionPhoto]:
        """The photos as fusion reads them from predictions (see ``adjusted``)."""
        return self.adjusted([FusionPhoto.from_result(r, i) for i, r in enumerate(results)])

    def adjusted(self, photos: list[FusionPhoto]) -> list[FusionPhoto]:
        """The camera's clock corrected, and the photos' own GPS kept or not (changed in place)."""
        shift = datetime.timedelta(minutes=self.settings.clock_offset_min)
        for photo in photos:
            if shift and photo.time is not None:
                try:
                    photo.time -= shift
                except OverflowError:
                    photo.time = None  # at the end of the calendar: fused without its time
            if not self.settings.trust_gps:
                photo.gps = None
        return photos

    def fuse(
        self, results: Sequence[PhotoResult], geometry: GridGeometry
    ) -> tuple[list[FusionPhoto], list[FusedAnswer]]:
        photos = self.photos(results)
        return photos, fuse(photos, geometry, self.options(geometry))
