"""The one interface every source of evidence has, and the model's own distribution as one.

A source may weigh cells (``factors``: one non-negative weight per candidate cell of a photo,
multiplied into what the other sources say) and may place photos outright (``fixes``: positions
measured by GPS or read from a track, which are not predictions). It says in words what it added
to a photo (``describe``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .geometry import FloatArray, GridGeometry, IntArray
from .inputs import FusionPhoto

#: The sources whose positions were measured (GPS in the photo, a track, GPS photos around it, the
#: GPS photo nearest in time): not predictions from pixels, and without a probability.
MEASURED = frozenset({"gps", "track", "interpolated", "near_gps"})


@dataclass(frozen=True)
class Fix:
    """A position not predicted from pixels: the photo's own GPS, or from a track, from GPS photos
    taken just before and after it, or from the GPS photo nearest it in time."""

    lat: float
    lon: float
    radius_km: float  # how far from it the photo may have been taken
    source: str  # "gps", "track", "interpolated" or "near_gps"
    evidence: str  # for people: "anchor IMG_0012 4 min later"


class Evidence:
    """A source of evidence. Subclasses override what they know."""

    name = "evidence"

    def factors(self, photo: FusionPhoto, cells: IntArray) -> FloatArray | None:
        """A weight per cell of ``cells`` for this photo, or None when the source says nothing."""
        return None

    def fixes(self, photos: Sequence[FusionPhoto]) -> dict[int, Fix]:
        """Positions by photo index, for the photos this source places outright."""
        return {}

    def candidates(self, photo: FusionPhoto) -> IntArray | None:
        """Cells this source wants considered for the photo even when the model did not rank them."""
        return None

    def mean_factor(self, photo: FusionPhoto) -> float:
        """The average of ``factors`` over all cells (for the probability outside a photo's candidates)."""
        return 1.0

    def describe(self, photo: FusionPhoto, cells: IntArray) -> str | None:
        """What this source added to the photo, whose candidates are ``cells``, for people; None
        when it added nothing (it did not tell the candidates apart)."""
        return None


class ModelEvidence(Evidence):
    """The model's distribution: the stored probability of each cell; a cell the stored
    distribution left out gets an equal share of the probability left out (at least a floor).

    ``weight`` tempers the distribution (probability ** weight): photos of one scene are not
    independent looks at the place, so their product must not grow overconfident."""

    name = "model"

    def __init__(self, geometry: GridGeometry, weight: float = 1.0):
        self.num_cells = geometry.num_cells
        self.weight = weight
        self._sorted: dict[int, tuple[IntArray, FloatArray, float]] = {}

    def _lookup(self, photo: FusionPhoto) -> tuple[IntArray, FloatArray, float]:
        found = self._sorted.get(photo.index)
        if found is None:
            assert photo.classes is not None and photo.probabilities is not None
            order = np.argsort(photo.classes)
            left = max(1.0 - float(photo.probabilities.sum()), 0.0)
            rest = max(self.num_cells - len(photo.classes), 1)
            floor = max(left / rest, float(photo.probabilities.min()) * 1e-3, 1e-9)
            found = (photo.classes[order], photo.probabilities[order], floor)
            self._sorted[photo.index] = found
        return found

    def stored(self, photo: FusionPhoto) -> tuple[IntArray, FloatArray, float]:
        """The photo's stored cells (in class order), their probabilities, and the floor."""
        return self._lookup(photo)

    def probabilities(self, photo: FusionPhoto, cells: IntArray) -> FloatArray:
        """The photo's probability of each cell (the stored value, else the floor)."""
        classes, probabilities, floor = self._lookup(photo)
        at = np.searchsorted(classes, cells)
        at = np.minimum(at, len(classes) - 1)
        hit = classes[at] == cells
        out: FloatArray = np.where(hit, probabilities[at], floor)
        return out

    def factors(self, photo: FusionPhoto, cells: IntArray) -> FloatArray | None:
        if not photo.usable:
            return None
        p = self.probabilities(photo, cells)
        return p if self.weight == 1.0 else np.power(p, self.weight)


def normalised(weights: npt.NDArray[np.floating[Any]]) -> npt.NDArray[np.floating[Any]]:
    """Weights that add up to 1 (equal ones when they add up to nothing), in the same precision."""
    total = weights.sum()
    if not np.isfinite(total) or total <= 0:
        return np.full(len(weights), 1.0 / max(len(weights), 1), weights.dtype)
    out: npt.NDArray[np.floating[Any]] = weights / total
    return out


def format_duration(seconds: float) -> str:
    """A time span for people: "4 min", "2 h", "3 days"."""
    minutes = abs(seconds) / 60
    if minutes < 90:
        return f"{max(round(minutes), 1)} min"
    if minutes < 48 * 60:
        return f"{minutes / 60:.0f} h"
    return f"{minutes / 1440:.0f} days"


def anchor_text(name: str, seconds_after: float) -> str:
    """ "anchor IMG_0012.jpg 4 min later": a GPS photo taken ``seconds_after`` the photo described."""
    if abs(seconds_after) < 30:
        return f"anchor {name} at the same time"
    return f"anchor {name} {format_duration(seconds_after)} {'later' if seconds_after > 0 else 'earlier'}"
