"""A simulator of trips and of a model's distributions, for tests and the fusion benchmark.

It is a stand-in for the real model, never evidence of its accuracy: figures made with it say so.

Trips: a start anywhere (a random cell: cells hold equal numbers of training photos, so this
follows where people take photos), 1-8 days, each day 2-6 stops within 30 km of the day's base,
the base moving 100-1,500 km on a quarter of the days (and anywhere on 5%); at each stop a burst of
1-20 photos minutes apart. Times are local, with the true offset in ``offset_share`` of the photos,
and the true GPS in ``gps_share`` of them.

Distributions, calibrated to the published single-photo accuracy of PlaNet-style models on
MediaEval 2016 (``PUBLISHED``): each photo draws how far the model's top guess lands from the truth
from those figures (6.2% within 1 km, 13.5% within 25 km, ...), and its top cell is a cell at such a
distance (a photo the model gets right to 1 km is taken within 1 km of its cell's centre of mass).
Wrong photos at one stop repeat the stop's first mistake with probability ``correlated`` (photos
of one scene fool a model the same way). The rest of the distribution: the cells next to the top
cell, the true cell in 60% of the wrong photos (at 10-90% of the top probability), and a long
tail over 2,000 random cells; stored as ``predict --distribution`` stores it.
"""

from __future__ import annotations

import datetime
import math
import zoneinfo
from dataclasses import dataclass

import numpy as np
import tzfpy

from geoguess_app.core.fusion.geometry import GridGeometry, distances_km, unit_vectors
from geoguess_app.core.fusion.inputs import FusionPhoto
from geoguess_app.core.geo.cells import EARTH_RADIUS_KM
from geoguess_app.core.predict.results import Distribution

#: (km, share of photos whose top guess is within it): PlaNet on MediaEval 2016 placing task.
PUBLISHED = ((1, 0.062), (25, 0.135), (200, 0.208), (750, 0.356), (2500, 0.552))
_EDGES = (0.0, 1.0, 25.0, 200.0, 750.0, 2500.0, 40000.0)


@dataclass
class SimConfig:
    trips: int = 40
    offset_share: float = 0.5
    gps_share: float = 0.0
    correlated: float = 0.3
    truth_share: float = 0.6  # wrong photos whose distribution still holds the true cell
    seed: int = 0


@dataclass
class SimPhoto:
    photo: FusionPhoto
    lat: float  # where it was really taken
    lon: float
    trip: int


def _bin_shares() -> list[float]:
    shares, previous = [], 0.0
    for _, share in PUBLISHED:
        shares.append(share - previous)
        previous = share
    return [*shares, 1.0 - previous]


def _offset(lat: float, lon: float, local: datetime.datetime) -> datetime.timedelta | None:
    try:
        zone = tzfpy.get_tz(lon, lat)
        return local.replace(tzinfo=zoneinfo.ZoneInfo(zone)).utcoffset() if zone else None
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def _move(lat: float, lon: float, km: float, bearing: float) -> tuple[float, float]:
    d = km / EARTH_RADIUS_KM
    p, q = math.radians(lat), math.radians(lon)
    p2 = math.asin(math.sin(p) * math.cos(d) + math.cos(p) * math.sin(d) * math.cos(bearing))
    q2 = q + math.atan2(math.sin(bearing) * math.sin(d) * math.cos(p), math.cos(d) - math.sin(p) * math.sin(p2))
    return math.degrees(p2), (math.degrees(q2) + 540) % 360 - 180


class Simulator:
    def __init__(self, geometry: GridGeometry, config: SimConfig):
        self.geo = geometry
        self.config = config
        self.rng = np.random.default_rng(config.seed)
        self.shares = _bin_shares()

    def _cell_within(self, lat: float, lon: float, lo: float, hi: float) -> int:
        d = distances_km(self.geo.xyz, unit_vectors([lat], [lon]))[:, 0]
        pool = np.flatnonzero((d >= lo) & (d < hi))
        if len(pool):
            return int(self.rng.choice(pool))
        return int(np.argmin(np.abs(d - (lo + hi) / 2)))

    def run(self) -> list[SimPhoto]:
        out: list[SimPhoto] = []
        for trip in range(self.config.trips):
            self._trip(trip, out)
        return out

    def _trip(self, trip: int, out: list[SimPhoto]) -> None:
        rng, geo = self.rng, self.geo
        base = int(rng.integers(geo.num_cells))
        day0 = datetime.datetime(2015, 1, 1) + datetime.timedelta(days=int(rng.integers(3650)))
        for day in range(int(rng.integers(1, 9))):
            if day and rng.random() < 0.05:
                base = int(rng.integers(geo.num_cells))
            elif day and rng.random() < 0.25:
                base = self._cell_within(geo.lats[base], geo.lons[base], 100, 1500)
            when = day0 + datetime.timedelta(days=day, hours=8 + float(rng.random()) * 2)
            for _ in range(int(rng.integers(2, 7))):
                cell = self._cell_within(geo.lats[base], geo.lons[base], 0, 30)
                lat, lon = _move(
                    geo.lats[cell], geo.lons[cell], float(rng.exponential(2.0)), rng.random() * 2 * math.pi
                )
                mistake: int | None = None
                for _ in range(min(int(rng.geometric(0.2)), 20)):
                    when += datetime.timedelta(seconds=float(rng.uniform(10, 600)))
                    here = _move(lat, lon, float(rng.exponential(0.2)), rng.random() * 2 * math.pi)
                    sim, mistake = self._photo(len(out), trip, here, when, mistake)
                    out.append(sim)
                when += datetime.timedelta(minutes=float(rng.uniform(30, 150)))

    def _photo(
        self, index: int, trip: int, here: tuple[float, float], when: datetime.datetime, mistake: int | None
    ) -> tuple[SimPhoto, int | None]:
        rng, geo, cfg = self.rng, self.geo, self.config
        lat, lon = here
        k = int(rng.choice(len(self.shares), p=self.shares))
        true_cell = int(geo.nearest(lat, lon)[0])
        if k == 0:  # right to 1 km: taken within 1 km of the cell's centre of mass
            top = true_cell
            lat, lon = _move(geo.lats[top], geo.lons[top], float(rng.uniform(0, 1)), rng.random() * 2 * math.pi)
        elif k >= 2 and mistake is not None and rng.random() < cfg.correlated:
            top = mistake
        else:
            top = self._cell_within(lat, lon, _EDGES[k], _EDGES[k + 1])
            if k >= 2 and mistake is None:
                mistake = top
        vector = np.zeros(geo.num_cells)
        tail = rng.choice(geo.num_cells, 2000, replace=False)
        vector[tail] = rng.pareto(1.5, 2000) + 1e-3
        vector *= float(rng.uniform(0.2, 0.6)) / vector.sum()
        p1 = float(rng.uniform(0.05, 0.5))
        for c in geo.nearest(geo.lats[top], geo.lons[top], 6)[1:]:
            vector[c] += p1 * float(rng.uniform(0.1, 0.6))
        if top != true_cell and rng.random() < cfg.truth_share:
            r = float(rng.uniform(0.1, 0.9))
            for j, c in enumerate(geo.nearest(geo.lats[true_cell], geo.lons[true_cell], 4)):
                vector[c] = max(vector[c], p1 * r * (1.0 if j == 0 else float(rng.uniform(0, 0.5))))
        vector[top] = max(p1, vector.max() * 1.05)
        stored = Distribution.full((vector / vector.sum()).astype(np.float32)).stored()
        offset = _offset(lat, lon, when)
        photo = FusionPhoto(
            index=index,
            path=f"sim/{index:06d}.jpg",
            time=when,
            offset=offset if rng.random() < cfg.offset_share else None,
            classes=stored.classes.astype(np.int64),
            probabilities=stored.probabilities.astype(np.float64),
        )
        if rng.random() < cfg.gps_share:
            photo.gps = (lat, lon)
        return SimPhoto(photo, lat, lon, trip), mistake
