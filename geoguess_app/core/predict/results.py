"""What a prediction is: the model's distribution over cells, ranked guesses, one result per photo.

Every result serialises to plain data (``to_dict``) and back (``from_dict``), so that it can be
cached, sent between processes, or drawn by the map page; ``as_dict`` is the command line's JSON,
the same keys rounded for reading.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ..model.classifier import ModelInfo
from ..photos.exif import GPSPosition, PhotoMeta


@dataclass(frozen=True)
class Guess:
    """One candidate cell of a photo, with where it is and how likely."""

    rank: int
    cls: int
    token: str
    probability: float
    lat: float
    lon: float
    level: int
    cell_size_km: float
    corners: tuple[tuple[float, float], ...]
    place: str
    distance_km: float | None  # from the photo's own EXIF GPS position, when it has one

    def to_dict(self) -> dict[str, Any]:
        """Exact values, with the cell's corners (``from_dict`` reads it back)."""
        return {
            "rank": self.rank,
            "class": self.cls,
            "token": self.token,
            "probability": self.probability,
            "lat": self.lat,
            "lon": self.lon,
            "place": self.place,
            "cell_level": self.level,
            "cell_size_km": self.cell_size_km,
            "distance_km": self.distance_km,
            "corners": [list(c) for c in self.corners],
        }

    def as_dict(self) -> dict[str, Any]:
        """The command line's JSON: the same keys, rounded, without the corners."""
        data = self.to_dict()
        del data["corners"]
        for key, digits in (("probability", 6), ("lat", 6), ("lon", 6), ("cell_size_km", 2), ("distance_km", 2)):
            if data[key] is not None:
                data[key] = round(data[key], digits)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Guess:
        return cls(
            rank=int(data["rank"]),
            cls=int(data["class"]),
            token=str(data["token"]),
            probability=float(data["probability"]),
            lat=float(data["lat"]),
            lon=float(data["lon"]),
            level=int(data["cell_level"]),
            cell_size_km=float(data["cell_size_km"]),
            corners=tuple((float(a), float(b)) for a, b in data.get("corners", ())),
            place=str(data["place"]),
            distance_km=None if data["distance_km"] is None else float(data["distance_km"]),
        )


STORED_MASS = 0.995  # a stored distribution holds at least this share of the probability ...
STORED_MAX = 512  # ... in at most this many cells


@dataclass(frozen=True, eq=False)
class Distribution:
    """A model's probabilities over its cells: the whole vector, or its top-K slice.

    ``classes`` and ``probabilities`` are in class order for the whole vector (``classes`` is then
    ``arange``), highest first for a slice.
    """

    classes: npt.NDArray[np.integer[Any]]  # the cell classes held
    probabilities: npt.NDArray[np.float32]  # one per held class
    num_classes: int

    @classmethod
    def full(cls, vector: npt.ArrayLike) -> Distribution:
        vector = np.asarray(vector, dtype=np.float32)
        return cls(np.arange(vector.shape[0]), vector, int(vector.shape[0]))

    @property
    def is_full(self) -> bool:
        return len(self.classes) == self.num_classes

    def top(self, k: int) -> Distribution:
        """The ``k`` most likely classes, highest first."""
        k = min(k, len(self.classes))
        order = np.argpartition(-self.probabilities, k - 1)[:k] if k < len(self.classes) else np.arange(k)
        order = order[np.argsort(-self.probabilities[order], kind="stable")]
        return Distribution(self.classes[order], self.probabilities[order], self.num_classes)

    def stored(self) -> Distribution:
        """What GeoGuess keeps of a distribution in files: the most likely cells that together hold
        at least 99.5% of the probability, at most 512 of them, highest first."""
        top = self.top(STORED_MAX)
        mass = np.cumsum(top.probabilities, dtype=np.float64)
        n = min(int(np.searchsorted(mass, STORED_MASS)) + 1, len(top.classes))
        return Distribution(top.classes[:n], top.probabilities[:n], self.num_classes)

    def pairs(self) -> list[list[float]]:
        """``[[class, probability], ...]`` in the order held, each probability written with the
        fewest digits that read back as the same float32."""
        return [[int(c), float(str(p))] for c, p in zip(self.classes, self.probabilities)]

    @classmethod
    def from_pairs(cls, pairs: list[list[float]], num_classes: int) -> Distribution:
        classes = np.asarray([int(c) for c, _ in pairs], dtype=np.int64)
        probabilities = np.asarray([p for _, p in pairs], dtype=np.float32)
        if len(classes) and (classes.min() < 0 or classes.max() >= num_classes):
            raise ValueError(f"a class outside 0-{num_classes - 1}")
        return cls(classes, probabilities, num_classes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "num_classes": self.num_classes,
            "classes": [int(c) for c in self.classes],
            "probabilities": [float(p) for p in self.probabilities],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Distribution:
        return cls(
            np.asarray(data["classes"], dtype=np.int64),
            np.asarray(data["probabilities"], dtype=np.float32),
            int(data["num_classes"]),
        )


@dataclass
class PhotoResult:
    """Everything GeoGuess learnt about one photo, or why it could not."""

    path: str
    model: ModelInfo | None = None  # set once the model has answered (or the photo failed)
    predictions: list[Guess] = field(default_factory=list)
    meta: PhotoMeta | None = None
    size: tuple[int, int] | None = None  # (width, height) as displayed
    error: str | None = None
    preview: npt.NDArray[np.uint8] | None = field(default=None, repr=False)  # upright RGB, when asked for
    distribution: Distribution | None = field(default=None, repr=False)
    kind: str = "photo"  # photo, raw or video (photos/formats.py)
    source_image: str = ""  # a RAW file's or a video's: which image it was predicted from

    @property
    def name(self) -> str:
        return Path(self.path).name

    @property
    def exif_gps(self) -> GPSPosition | None:
        return self.meta.gps if self.meta else None

    @property
    def ok(self) -> bool:
        return self.error is None

    def about(self, size_unit: str = "") -> list[str]:
        """What the photo says about itself, for a line under its name: size and camera."""
        parts = []
        if self.size:
            parts.append(f"{self.size[0]} x {self.size[1]}{size_unit}")
        if self.meta and self.meta.camera:
            parts.append(self.meta.camera)
        if self.source_image:
            parts.append(f"from its {self.source_image}" if self.kind == "raw" else f"from {self.source_image}")
        return parts

    @property
    def taken(self) -> dict[str, str | None]:
        """When the photo was taken, as its EXIF says: local time and offset from UTC, each or None."""
        meta = self.meta
        return {"time": meta.time if meta else None, "offset": meta.utc_offset if meta else None}

    def as_dict(self, distribution: bool = False) -> dict[str, Any]:
        """The command line's JSON for this photo; with ``distribution``, also the stored
        distribution as ``[[class, probability], ...]``, highest first (empty for a failed photo)."""
        gps = self.exif_gps
        data: dict[str, Any] = {
            "path": self.path,
            "predictions": [g.as_dict() for g in self.predictions],
            "exif_gps": gps.as_dict() if gps else None,
            "taken": self.taken,
            "model": self.model.as_dict() if self.model else None,
            "error": self.error,
        }
        if self.kind != "photo" or self.source_image:  # a RAW file, a video, or a reduced decode
            data.update(kind=self.kind, source_image=self.source_image)
        if distribution:
            data["distribution"] = self.distribution.stored().pairs() if self.distribution is not None else []
        return data

    def to_dict(self) -> dict[str, Any]:
        """Everything but the preview, as plain data (``from_dict`` reads it back)."""
        meta = self.meta
        return {
            "path": self.path,
            "model": self.model.to_dict() if self.model else None,
            "predictions": [g.to_dict() for g in self.predictions],
            "meta": None
            if meta is None
            else {
                "orientation": meta.orientation,
                "gps": meta.gps.as_dict() if meta.gps else None,
                "make": meta.make,
                "model": meta.model,
                "taken": meta.taken,
                "subsec": meta.subsec,
                "offset": meta.offset,
            },
            "size": list(self.size) if self.size else None,
            "error": self.error,
            "distribution": self.distribution.to_dict() if self.distribution is not None else None,
            "kind": self.kind,
            "source_image": self.source_image,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PhotoResult:
        meta = data.get("meta")
        if meta is not None:
            gps = meta.get("gps")
            meta = PhotoMeta(
                orientation=int(meta["orientation"]),
                gps=GPSPosition(**gps) if gps else None,
                make=meta["make"],
                model=meta["model"],
                taken=meta["taken"],
                subsec=meta.get("subsec", ""),
                offset=meta.get("offset", ""),
            )
        size = data.get("size")
        distribution = data.get("distribution")
        return cls(
            path=data["path"],
            model=ModelInfo.from_dict(data["model"]) if data.get("model") else None,
            predictions=[Guess.from_dict(g) for g in data.get("predictions", [])],
            meta=meta,
            size=(int(size[0]), int(size[1])) if size else None,
            error=data.get("error"),
            distribution=Distribution.from_dict(distribution) if distribution else None,
            kind=str(data.get("kind", "photo")),
            source_image=str(data.get("source_image", "")),
        )
