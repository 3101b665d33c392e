"""How far a person may be from where the previous photo was taken: the travel model.

Between two photos ``dt`` apart, the move is a Laplace (exponential in distance) kernel of scale
``stay_km + speed_kmh * dt``: a burst of photos stays within a few kilometres, an hour later a
person may be tens of kilometres away. A small ``jump`` share goes anywhere on the Earth (a flight,
a camera clock set wrong), so no evidence is ever overruled absolutely. Photos further apart than
``max_gap`` are not linked at all.

The kernel is normalised over the plane (2 pi s^2), and the chance of landing in a cell is its area
(no less than the square of twice the scale)
times the kernel at its position (at most 1), so the model needs no sum over the whole grid.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass

import numpy as np

from ..geo.cells import EARTH_RADIUS_KM
from .geometry import Float32Array, GridGeometry, IntArray

DEFAULT_MAX_GAP_H = 6.0  # hours


@dataclass(frozen=True)
class TravelModel:
    stay_km: float = 3.0  # scale of a move between photos taken at the same moment
    speed_kmh: float = 40.0  # how fast the scale grows with the time between photos
    jump: float = 0.005  # share of "anywhere": a flight, a wrong clock
    max_gap: datetime.timedelta = datetime.timedelta(hours=DEFAULT_MAX_GAP_H)  # photos further apart are not linked

    def scale_km(self, seconds: float) -> float:
        return self.stay_km + self.speed_kmh * max(seconds, 0.0) / 3600.0

    def matrix(self, geometry: GridGeometry, a: IntArray, b: IntArray, seconds: float) -> Float32Array:
        """P(next photo in cell b | this photo in cell a), for cells ``a`` (rows) and ``b``."""
        scale = self.scale_km(seconds)
        # The chord instead of the arc: within 0.1% up to 1,000 km, where the kernel still matters.
        dots = geometry.xyz32[a] @ geometry.xyz32[b].T
        chord = np.sqrt(np.maximum(2.0 - 2.0 * dots, 0.0)) * np.float32(EARTH_RADIUS_KM)
        # a tiny cell (a museum) may still be stayed in: no cell counts as smaller than the kernel
        area = np.maximum(geometry.size32[b], np.float32(2 * scale)) ** 2
        weight = (1.0 - self.jump) * area / np.float32(2 * math.pi * scale * scale)
        near = np.exp(chord * np.float32(-1.0 / scale))
        near *= weight[None, :]
        np.minimum(near, np.float32(1.0 - self.jump), out=near)
        near += np.float32(self.jump / geometry.num_cells)
        out: Float32Array = near
        return out
