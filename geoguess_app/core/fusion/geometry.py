"""The cells of a model as points on the sphere: unit vectors, sizes, distances, nearest cells."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from ..geo.cells import EARTH_RADIUS_KM, CellGrid

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Float32Array = npt.NDArray[np.float32]

#: Square root of the mean area of a level-0 S2 cell (a sixth of the sphere), in km; a level-L
#: cell is on average 2**L times smaller.
_LEVEL0_KM = EARTH_RADIUS_KM * math.sqrt(4 * math.pi / 6)


def unit_vectors(lats: npt.ArrayLike, lons: npt.ArrayLike) -> FloatArray:
    """(n, 3) unit vectors of positions given in degrees."""
    phi = np.radians(np.asarray(lats, np.float64))
    lam = np.radians(np.asarray(lons, np.float64))
    cos_phi = np.cos(phi)
    return np.stack([cos_phi * np.cos(lam), cos_phi * np.sin(lam), np.sin(phi)], axis=-1)


def to_lat_lon(xyz: FloatArray) -> tuple[float, float]:
    x, y, z = (float(v) for v in xyz / np.linalg.norm(xyz))
    return math.degrees(math.asin(max(-1.0, min(1.0, z)))), math.degrees(math.atan2(y, x))


def distances_km(a: FloatArray, b: FloatArray) -> FloatArray:
    """Great-circle distances between every row of ``a`` and every row of ``b`` (unit vectors)."""
    dots = np.clip(a @ b.T, -1.0, 1.0)
    out: FloatArray = np.arccos(dots) * EARTH_RADIUS_KM
    return out


def token_level(token: str) -> int:
    """The S2 level of a cell token (its lowest set bit says it)."""
    cell_id = int(token.ljust(16, "0"), 16)
    lowest = (cell_id & -cell_id).bit_length() - 1
    return 30 - lowest // 2


class GridGeometry:
    """What fusion needs of a grid: cell positions as unit vectors, and each cell's size."""

    def __init__(self, grid: CellGrid):
        self.grid = grid
        self.num_cells = len(grid)
        self.lats = np.asarray(grid.lats, np.float64)
        self.lons = np.asarray(grid.lons, np.float64)
        self.xyz = unit_vectors(self.lats, self.lons)
        levels = np.array([token_level(t) for t in grid.tokens], np.float64)
        self.size_km: FloatArray = _LEVEL0_KM / np.power(2.0, levels)
        self._probes: FloatArray | None = None
        self.xyz32 = self.xyz.astype(np.float32)  # for the travel model's many small matrices
        self.size32 = self.size_km.astype(np.float32)

    def nearest(self, lat: float, lon: float, k: int = 1) -> IntArray:
        """The ``k`` cells whose positions are nearest to (lat, lon), nearest first."""
        dots = self.xyz @ unit_vectors([lat], [lon])[0]
        k = min(k, self.num_cells)
        part = np.argpartition(-dots, k - 1)[:k]
        out: IntArray = part[np.argsort(-dots[part])].astype(np.int64)
        return out

    def probes(self) -> FloatArray:
        """(cells, 5, 2) latitude/longitude of five points of each cell: its position and four
        points half a cell away to the north, east, south and west. Where a cell may reach."""
        if self._probes is None:
            half = self.size_km / 2 / EARTH_RADIUS_KM  # radians
            lat, lon = np.radians(self.lats), np.radians(self.lons)
            points = [(lat, lon)]
            for bearing in (0.0, math.pi / 2, math.pi, 3 * math.pi / 2):
                lat2 = np.arcsin(np.sin(lat) * np.cos(half) + np.cos(lat) * np.sin(half) * math.cos(bearing))
                lon2 = lon + np.arctan2(
                    math.sin(bearing) * np.sin(half) * np.cos(lat), np.cos(half) - np.sin(lat) * np.sin(lat2)
                )
                points.append((lat2, lon2))
            out = np.empty((self.num_cells, 5, 2))
            for i, (a, b) in enumerate(points):
                out[:, i, 0] = np.degrees(a)
                out[:, i, 1] = (np.degrees(b) + 540.0) % 360.0 - 180.0
            self._probes = out
        return self._probes
