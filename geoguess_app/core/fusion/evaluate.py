"""How well GeoGuess places a person's own photos: photos with GPS are the ground truth.

Their positions are hidden from what is measured: every photo with GPS is placed (1) by its own
pixels alone, (2) by fusion with no GPS at all, and (3) by fusion with the GPS of the other half of
the photos as anchors (the photos with GPS in time order, every other one in one half), so that
an anchor never sees its own position.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..geo.cells import great_circle_km
from .fuse import FusionOptions, fuse
from .geometry import GridGeometry
from .inputs import FusionPhoto
from .tracks import AnchorEvidence

DISTANCES_KM = (1, 25, 200, 750, 2500)


@dataclass
class Accuracy:
    name: str
    errors_km: list[float] = field(default_factory=list)

    def within(self, km: float) -> float:
        return float(np.mean([e <= km for e in self.errors_km])) if self.errors_km else float("nan")

    @property
    def median_km(self) -> float:
        return float(np.median(self.errors_km)) if self.errors_km else float("nan")

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "photos": len(self.errors_km),
            "within": {str(km): round(self.within(km), 4) for km in DISTANCES_KM},
            "median_km": round(self.median_km, 3),
        }


@dataclass
class Evaluation:
    photos: int  # in the set
    with_gps: int  # of which have their own GPS: the ground truth
    rows: list[Accuracy]


def evaluate(photos: Sequence[FusionPhoto], geometry: GridGeometry, options: FusionOptions) -> Evaluation:
    """Accuracy on the photos with their own GPS, fused with ``options`` (each GPS hidden as said above)."""
    truth = {p.index: p.gps for p in photos if p.gps is not None and p.usable}
    single = Accuracy("single photo")
    blind = Accuracy("fused, no GPS")
    anchored = Accuracy("fused, GPS of the other half")
    hidden = [dataclasses.replace(p, gps=None) for p in photos]
    for p in photos:
        if p.index in truth:
            assert p.classes is not None
            top = int(p.classes[0])
            single.errors_km.append(great_circle_km(*truth[p.index], geometry.lats[top], geometry.lons[top]))
    for answer, p in zip(fuse(hidden, geometry, options), photos):
        if p.index in truth and answer.position is not None:
            blind.errors_km.append(great_circle_km(*truth[p.index], *answer.position))
    order = sorted(truth, key=lambda i: (photos[i].utc is None, photos[i].utc or 0, i))
    halves = [set(order[0::2]), set(order[1::2])]
    for measured, shown in ((halves[0], halves[1]), (halves[1], halves[0])):
        if not measured or not shown:
            continue
        half = [dataclasses.replace(p, gps=truth[p.index] if p.index in shown else None) for p in photos]
        for answer, p in zip(fuse(half, geometry, options), photos):
            if p.index in measured and answer.position is not None:
                anchored.errors_km.append(great_circle_km(*truth[p.index], *answer.position))
    uses_anchors = any(isinstance(s, AnchorEvidence) for s in options.sources)
    rows = [single, blind] + ([anchored] if anchored.errors_km and uses_anchors else [])
    return Evaluation(photos=len(photos), with_gps=len(truth), rows=rows)
