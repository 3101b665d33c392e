"""Fusing a set of photos: every source of evidence, the photos before and after, one answer each.

1. Photos are put on one clock (UTC where any offset is known; see ``place_in_time``) and in time
   order, and cut into sequences wherever two photos are more than the travel model's gap apart.
   Photos without a time are each a sequence of their own, unless the person says the set is one
   place (``album``).
2. Each photo's evidence over its candidate cells is the product of the sources' weights: the
   model's distribution, the time zone, the region, a measured position (GPS, track).
3. Forward-backward over each sequence (hmm.py) with the travel model (travel.py) gives each photo
   a fused distribution; its most likely cell is the answer, with the radius around it that holds
   90% of the fused probability.
4. A photo placed by a measurement (its own GPS, a track, GPS photos just before and after it,
   the GPS photo nearest it in time) takes that position: it is not a prediction from pixels, and
   says so.
"""

from __future__ import annotations

import bisect
import datetime
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from .evidence import MEASURED, Evidence, Fix, ModelEvidence, anchor_text, format_duration, normalised
from .geometry import Float32Array, FloatArray, GridGeometry, IntArray, distances_km, unit_vectors
from .hmm import forward_backward
from .inputs import FusionPhoto
from .travel import TravelModel

OWN_CANDIDATES = 48  # a photo's own most likely cells, after its other evidence
SHARED_CANDIDATES = 12  # of which this many are also candidates of the photos around it ...
SHARE_WITH = 6  # ... up to this many photos before and after it
FIX_CELLS = 6  # cells nearest a measured position, candidates of every photo of its sequence
NEIGHBOUR_WINDOW = datetime.timedelta(hours=2)  # for "14 photos within 2 h"
RADIUS_MASS = 0.9
T = TypeVar("T")


@dataclass
class FusedAnswer:
    """One photo's fused answer."""

    path: str
    position: tuple[float, float] | None = None
    radius_km: float | None = None
    source: str = "model"  # gps, track, interpolated, near_gps, fused or model
    evidence: list[str] = field(default_factory=list)
    single: tuple[float, float, float] | None = None  # the photo's own top guess: lat, lon, probability
    error: str | None = None
    cell: int | None = None  # the answer's cell, when it is one
    probability: float | None = None  # the fused probability of that cell (None for a measured position)
    token: str | None = None  # that cell's S2 token

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "position": None
            if self.position is None
            else {"lat": round(self.position[0], 6), "lon": round(self.position[1], 6)},
            "radius_km": None if self.radius_km is None else round(self.radius_km, 3),
            "probability": None if self.probability is None else round(self.probability, 6),
            "source": None if self.error else self.source,
            "evidence": list(self.evidence),
            "single": None
            if self.single is None
            else {
                "lat": round(self.single[0], 6),
                "lon": round(self.single[1], 6),
                "probability": round(self.single[2], 6),
            },
            "error": self.error,
        }

    @property
    def measured(self) -> bool:
        return self.source in MEASURED


@dataclass
class FusionOptions:
    sources: list[Evidence] = field(default_factory=list)  # besides the model: time zone, region, anchors, tracks
    neighbours: bool = True
    album: bool = False
    travel: TravelModel = field(default_factory=TravelModel)
    model_weight: float = 0.7  # tempering of each photo's distribution (see evidence.ModelEvidence)


def place_in_time(photos: Sequence[FusionPhoto]) -> None:
    """Give each timed photo the offset that puts it on the set's one clock: its own; else that of
    the nearest photo (in camera time) that has one; else the set's most common. With no offset at
    all, camera times are compared as they are."""
    with_offset = sorted((p.time, p.offset) for p in photos if p.time is not None and p.offset is not None)
    common = Counter(o for _, o in with_offset).most_common(1)
    times = [t for t, _ in with_offset]
    for p in photos:
        if p.offset is not None or p.time is None or not with_offset:
            p.clock_offset = p.offset
            continue
        i = bisect.bisect_left(times, p.time)
        near = [j for j in (i - 1, i) if 0 <= j < len(times)]
        j = min(near, key=lambda k: abs(times[k] - p.time))  # type: ignore[operator]
        p.clock_offset = with_offset[j][1] if abs(times[j] - p.time) <= datetime.timedelta(hours=6) else common[0][0]


def sequences(
    photos: Sequence[FusionPhoto], travel: TravelModel, neighbours: bool, album: bool
) -> list[list[FusionPhoto]]:
    """The usable photos cut into chains that fusion links, each in time order."""
    usable = [p for p in photos if p.usable]
    timed = sorted((p for p in usable if p.utc is not None), key=lambda p: (p.utc, p.index))
    untimed = [p for p in usable if p.utc is None]
    if album:
        return [timed + untimed] if usable else []
    if not neighbours:
        return [[p] for p in usable]
    return [[p] for p in untimed] + split_in_time([(p.utc, p) for p in timed if p.utc], travel.max_gap)


def split_in_time(items: Sequence[tuple[datetime.datetime, T]], max_gap: datetime.timedelta) -> list[list[T]]:
    """Items in time order, cut wherever two are more than ``max_gap`` apart."""
    out: list[list[T]] = []
    last: datetime.datetime | None = None
    for when, item in sorted(items, key=lambda pair: pair[0]):
        if last is None or when - last > max_gap:
            out.append([])
        out[-1].append(item)
        last = when
    return out


class Fuser:
    def __init__(self, geometry: GridGeometry, options: FusionOptions):
        self.geometry = geometry
        self.options = options
        self.model = ModelEvidence(geometry, options.model_weight)

    def fuse(self, photos: Sequence[FusionPhoto]) -> list[FusedAnswer]:
        place_in_time(photos)
        answers = {p.index: self._single(p) for p in photos}
        fixes: dict[int, Fix] = {}
        for source in self.options.sources:
            for index, fix in source.fixes(photos).items():
                if index not in fixes or fix.radius_km < fixes[index].radius_km:
                    fixes[index] = fix
        for chain in sequences(photos, self.options.travel, self.options.neighbours, self.options.album):
            self._fuse_chain(chain, fixes, answers)
        return [answers[p.index] for p in photos]

    def _single(self, p: FusionPhoto) -> FusedAnswer:
        answer = FusedAnswer(p.path, error=p.error)
        if p.usable:
            assert p.classes is not None and p.probabilities is not None
            top = int(p.classes[0])
            answer.single = (float(self.geometry.lats[top]), float(self.geometry.lons[top]), float(p.probabilities[0]))
        elif p.error is None:
            answer.error = "no prediction"
        return answer

    def _evidence(self, p: FusionPhoto, cells: IntArray, fix: Fix | None) -> FloatArray:
        weights = self.model.factors(p, cells)
        assert weights is not None
        for source in self.options.sources:
            f = source.factors(p, cells)
            if f is not None:
                weights = weights * f
        if fix is not None:
            d = distances_km(self.geometry.xyz[cells], unit_vectors([fix.lat], [fix.lon]))[:, 0]
            beyond = np.maximum(d - self.geometry.size_km[cells] / 2, 0.0)
            weights = weights * np.exp(-beyond / (fix.radius_km + 1.0))
        return weights

    def _candidates(self, chain: list[FusionPhoto], fixes: dict[int, Fix]) -> tuple[list[IntArray], list[FloatArray]]:
        """Each photo's candidate cells, and its evidence over its stored cells (for _coverage)."""
        own, shared, stored = [], [], []
        for p in chain:
            assert p.classes is not None
            fix = fixes.get(p.index)
            weights = self._evidence(p, p.classes, fix)
            stored.append(weights)
            top = p.classes[np.argsort(-weights, kind="stable")[:OWN_CANDIDATES]]
            extra = [c for c in (s.candidates(p) for s in self.options.sources) if c is not None]
            if extra:
                top = np.concatenate([top, *extra])
            if fix is not None:
                top = np.concatenate([self.geometry.nearest(fix.lat, fix.lon, FIX_CELLS), top[:SHARED_CANDIDATES]])
            own.append(top)
            shared.append(top[: SHARED_CANDIDATES if fix is None else FIX_CELLS])
        fix_cells = [own[i][:FIX_CELLS] for i, p in enumerate(chain) if p.index in fixes]
        out = []
        for i in range(len(chain)):
            parts = [own[i], *shared[max(0, i - SHARE_WITH) : i + SHARE_WITH + 1], *fix_cells]
            out.append(np.unique(np.concatenate(parts)))
        return out, stored

    def _fuse_chain(self, chain: list[FusionPhoto], fixes: dict[int, Fix], answers: dict[int, FusedAnswer]) -> None:
        states, stored = self._candidates(chain, fixes)
        evidence = [self._evidence(p, s, fixes.get(p.index)) for p, s in zip(chain, states)]
        # float32 like the transitions: the messages are normalised at every step
        emissions = [e.astype(np.float32) for e in evidence]
        travel = self.options.travel
        album = self.options.album

        def transition(i: int) -> Float32Array:
            a, b = chain[i].utc, chain[i + 1].utc
            seconds = 0.0 if album or a is None or b is None else (b - a).total_seconds()
            return travel.matrix(self.geometry, states[i], states[i + 1], seconds)

        posteriors = forward_backward(emissions, transition) if len(chain) > 1 else [normalised(emissions[0])]
        for k, (p, cells, post, weights, over_stored) in enumerate(zip(chain, states, posteriors, evidence, stored)):
            answer = answers[p.index]
            fix = fixes.get(p.index)
            if fix is not None:
                answer.position, answer.radius_km, answer.source = (fix.lat, fix.lon), fix.radius_km, fix.source
                answer.evidence = [fix.evidence]
                continue
            best = int(np.argmax(post))
            cell = int(cells[best])
            answer.cell = cell
            answer.token = self.geometry.grid.tokens[cell]
            answer.position = (float(self.geometry.lats[cell]), float(self.geometry.lons[cell]))
            answer.evidence = self._texts(p, chain, k, fixes, cells)
            answer.source = "fused" if answer.evidence else "model"
            if answer.source == "model":  # nothing moved it: the model's own probability and spread
                classes, probabilities, _ = self.model.stored(p)
                answer.probability = float(self.model.probabilities(p, np.array([cell]))[0])
                answer.radius_km = self._radius(cell, classes, probabilities)
            else:  # the fused probability, less what lies outside the candidates
                mass = post.astype(np.float64) * self._coverage(p, cells, weights, over_stored)
                answer.probability = float(mass[best])
                answer.radius_km = self._radius(cell, cells, mass)

    def _coverage(self, p: FusionPhoto, cells: IntArray, weights: FloatArray, over_stored: FloatArray) -> float:
        """The share of the photo's evidence (all sources, over every cell of the grid) that its
        candidate cells hold (``weights``): the rest is its stored cells left out (``over_stored``
        is its evidence over all of them), and the cells it did not store (at the floor, with each
        source's average weight)."""
        classes, _, floor = self.model.stored(p)  # in class order
        assert p.classes is not None
        candidate = _member(p.classes, cells)
        rest = float(over_stored[~candidate].sum())
        unstored = self.geometry.num_cells - len(classes) - int(np.count_nonzero(~_member(cells, classes)))
        mean = float(np.prod([source.mean_factor(p) for source in self.options.sources]))
        rest += max(unstored, 0) * floor**self.options.model_weight * mean
        inside = float(weights.sum())
        return inside / (inside + rest) if inside + rest > 0 else 0.0

    def _radius(self, cell: int, cells: IntArray, post: FloatArray) -> float:
        """The distance from the answer within which the fused probability reaches 90%, each cell
        counted out to its far side."""
        geo = self.geometry
        d = distances_km(geo.xyz[cells], geo.xyz[[cell]])[:, 0] + geo.size_km[cells] / 2
        order = np.argsort(d)
        mass = np.cumsum(post[order])
        k = min(int(np.searchsorted(mass, RADIUS_MASS)), len(order) - 1)
        return float(d[order][k]) if mass[-1] >= RADIUS_MASS else 20037.5  # half the Earth's circumference

    def _texts(
        self, p: FusionPhoto, chain: list[FusionPhoto], k: int, fixes: dict[int, Fix], cells: IntArray
    ) -> list[str]:
        texts = [t for t in (s.describe(p, cells) for s in self.options.sources) if t]
        if len(chain) > 1:
            if self.options.album:
                texts.append(f"album of {len(chain)} photos (one place)")
            else:
                near = sum(q is not p and abs(q.utc - p.utc) <= NEIGHBOUR_WINDOW for q in chain)  # type: ignore[operator]
                span = chain[-1].utc - chain[0].utc  # type: ignore[operator]
                texts.append(
                    f"{near} photos within {format_duration(NEIGHBOUR_WINDOW.total_seconds())}"
                    if near
                    else f"{len(chain) - 1} photos in a sequence over {format_duration(span.total_seconds())}"
                )
            anchored = [q for q in chain if q.index in fixes and q.gps is not None and q.utc is not None]
            if anchored and p.utc is not None:
                q = min(anchored, key=lambda q: abs(q.utc - p.utc))  # type: ignore[operator]
                texts.append(anchor_text(q.name, (q.utc - p.utc).total_seconds()))  # type: ignore[operator]
        return texts


def _member(values: IntArray, sorted_set: IntArray) -> npt.NDArray[np.bool_]:
    """Whether each of ``values`` is in ``sorted_set`` (sorted, as np.unique makes it)."""
    at = np.minimum(np.searchsorted(sorted_set, values), len(sorted_set) - 1)
    found: npt.NDArray[np.bool_] = sorted_set[at] == values
    return found


def fuse(
    photos: Sequence[FusionPhoto], geometry: GridGeometry, options: FusionOptions | None = None
) -> list[FusedAnswer]:
    """One answer per photo, in the order given."""
    return Fuser(geometry, options or FusionOptions()).fuse(photos)
