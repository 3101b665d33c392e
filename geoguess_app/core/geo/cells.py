"""The S2 cells LocationNet classifies into (grids.txt), and distances on the Earth.

Line i of grids.txt is class i: an S2 cell token, then the latitude and longitude of the centre of
mass of the training photos in that cell (not the cell centre). All S2 geometry comes from the
s2sphere library.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import s2sphere

from ..errors import ModelError

EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG)


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres between two WGS-84 positions (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def format_km(value: float) -> str:
    """A distance for people: '1,234 km', '8.9 km', '515 m'."""
    if value >= 10:
        return f"{value:,.0f} km"
    if value >= 1:
        return f"{value:.1f} km"
    return f"{value * 1000:.0f} m" if value >= 0.001 else "<1 m"


@dataclass(frozen=True)
class CellInfo:
    """Geometry of one class's S2 cell."""

    index: int
    token: str
    lat: float  # centre of mass of the training photos (grids.txt)
    lon: float
    level: int
    corners: tuple[tuple[float, float], ...]  # four (lat, lon) vertices, counter-clockwise
    size_km: float  # square root of the cell's area


class CellGrid:
    """The classes of a LocationNet model: one S2 cell per line of grids.txt."""

    def __init__(
        self, tokens: list[str], lats: npt.NDArray[np.float64], lons: npt.NDArray[np.float64], source: str = ""
    ):
        self.tokens = tokens
        self.lats = lats
        self.lons = lons
        self.source = source
        self._info: dict[int, CellInfo] = {}

    def __len__(self) -> int:
        return len(self.tokens)

    @classmethod
    def from_file(cls, path: str | Path) -> CellGrid:
        path = Path(path)
        try:
            text = path.read_text(encoding="ascii")
        except FileNotFoundError:
            raise ModelError(f"{path.name} is missing from {path.parent}") from None
        except UnicodeDecodeError:
            raise ModelError(f"{path} is not a LocationNet cell list (it is not plain text)") from None
        except OSError as e:
            raise ModelError(f"cannot read {path}: {e.strerror or e}") from None
        return cls.parse(text, source=str(path))

    @classmethod
    def parse(cls, text: str, source: str = "grids.txt") -> CellGrid:
        """Parse and validate grids.txt text: ``token<TAB>lat<TAB>lon`` a line, line i = class i."""
        tokens: list[str] = []
        lats: list[float] = []
        lons: list[float] = []
        seen: set[str] = set()
        lines = text.splitlines()
        while lines and not lines[-1].strip():
            lines.pop()  # a trailing newline is fine; a blank line inside is not
        for number, line in enumerate(lines, start=1):
            fields = line.split()
            where = f"{source}, line {number}"
            if len(fields) != 3:
                raise ModelError(f"{where}: expected 'token lat lon', found {line[:60]!r}")
            token, lat_s, lon_s = fields
            try:
                lat, lon = float(lat_s), float(lon_s)
            except ValueError:
                raise ModelError(f"{where}: latitude/longitude are not numbers: {line[:60]!r}") from None
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise ModelError(f"{where}: position {lat}, {lon} is outside the Earth's range")
            if not _valid_token(token):
                raise ModelError(f"{where}: {token!r} is not a valid S2 cell token")
            if token in seen:
                raise ModelError(f"{where}: cell {token} is listed twice")
            seen.add(token)
            tokens.append(token)
            lats.append(lat)
            lons.append(lon)
        if not tokens:
            raise ModelError(f"{source} holds no cells")
        return cls(tokens, np.asarray(lats, np.float64), np.asarray(lons, np.float64), source)

    def info(self, index: int) -> CellInfo:
        """Level, corners and size of class ``index``'s cell (computed once, then cached)."""
        cached = self._info.get(index)
        if cached is not None:
            return cached
        cell_id = s2sphere.CellId.from_token(self.tokens[index])
        cell = s2sphere.Cell(cell_id)
        corners = []
        for k in range(4):
            ll = s2sphere.LatLng.from_point(cell.get_vertex(k))
            corners.append((ll.lat().degrees, ll.lng().degrees))
        size_km = math.sqrt(cell.exact_area()) * EARTH_RADIUS_KM
        info = CellInfo(
            index=index,
            token=self.tokens[index],
            lat=float(self.lats[index]),
            lon=float(self.lons[index]),
            level=cell_id.level(),
            corners=tuple(corners),
            size_km=size_km,
        )
        self._info[index] = info
        return info

    def centres_outside_cells(self) -> list[int]:
        """Classes whose centre of mass lies outside their own cell (a sign of a damaged file)."""
        bad = []
        for i, token in enumerate(self.tokens):
            cell = s2sphere.Cell(s2sphere.CellId.from_token(token))
            point = s2sphere.LatLng.from_degrees(float(self.lats[i]), float(self.lons[i])).to_point()
            if not cell.contains(point):
                bad.append(i)
        return bad


def _valid_token(token: str) -> bool:
    if not 1 <= len(token) <= 16:
        return False
    try:
        int(token, 16)
    except ValueError:
        return False
    cell_id = s2sphere.CellId.from_token(token)
    # A canonical token has no trailing zeros and names a valid cell.
    return bool(cell_id.is_valid() and cell_id.to_token() == token.lower())
