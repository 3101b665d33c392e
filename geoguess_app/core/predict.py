"""From photos to ranked guesses: decoding overlapped with inference, one result per photo.

``Predictor.predict_many`` is a generator: it yields a ``PhotoResult`` for each path, in order, as
soon as that photo is done (for progress bars and cancel: closing the generator stops the work).
While the MXNet thread classifies one photo, a decoding thread prepares the next ones.
"""

from __future__ import annotations

import logging
from collections import deque
from contextlib import closing
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .cells import great_circle_km
from .errors import GeoGuessError
from .exif_read import GPSPosition, PhotoMeta
from .imaging import open_photo
from .model import LocationNet, ModelInfo
from .places import Places, shared_places
from .preprocess import preprocess_photo
from .worker import background_thread_init

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Guess:
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

    def as_dict(self) -> dict:
        return {
            "rank": self.rank,
            "class": self.cls,
            "token": self.token,
            "probability": round(self.probability, 6),
            "lat": round(self.lat, 6),
            "lon": round(self.lon, 6),
            "place": self.place,
            "cell_level": self.level,
            "cell_size_km": round(self.cell_size_km, 2),
            "distance_km": None if self.distance_km is None else round(self.distance_km, 2),
        }


@dataclass
class PhotoResult:
    path: str
    model: ModelInfo
    predictions: list[Guess] = field(default_factory=list)
    meta: PhotoMeta | None = None
    size: tuple[int, int] | None = None  # (width, height) as displayed
    error: str | None = None
    preview: np.ndarray | None = field(default=None, repr=False)  # upright RGB, when asked for

    @property
    def name(self) -> str:
        return Path(self.path).name

    @property
    def exif_gps(self) -> GPSPosition | None:
        return self.meta.gps if self.meta else None

    @property
    def ok(self) -> bool:
        return self.error is None

    def as_dict(self) -> dict:
        gps = self.exif_gps
        return {
            "path": self.path,
            "predictions": [g.as_dict() for g in self.predictions],
            "exif_gps": gps.as_dict() if gps else None,
            "model": self.model.as_dict(),
            "error": self.error,
        }


@dataclass
class Prepared:
    path: str
    tensor: np.ndarray | None = None
    meta: PhotoMeta | None = None
    size: tuple[int, int] | None = None
    error: str | None = None
    preview: np.ndarray | None = None


def prepare(path: str | Path, preview_size: int | None = None) -> Prepared:
    """Decode one photo and make its input tensor (and a display preview if a size is given);
    any failure becomes a per-photo error."""
    path = str(path)
    try:
        photo = open_photo(path)
    except GeoGuessError as e:
        return Prepared(path, error=str(e))
    except Exception as e:  # noqa: BLE001 - one bad photo must never stop a batch
        log.exception("unexpected failure opening %s", path)
        return Prepared(path, error=f"cannot read this photo ({type(e).__name__}: {e})")
    try:
        tensor = preprocess_photo(photo)
        preview = photo.preview(preview_size) if preview_size else None
        return Prepared(path, tensor=tensor, meta=photo.meta, size=photo.size, preview=preview)
    except MemoryError:
        return Prepared(path, error="not enough memory to process this photo")
    except Exception as e:  # noqa: BLE001
        log.exception("unexpected failure preparing %s", path)
        return Prepared(path, error=f"cannot process this photo ({type(e).__name__}: {e})")
    finally:
        photo.image.close()


class Predictor:
    """Ranks a model's guesses for photos and describes them (cells, place names, distances)."""

    def __init__(self, model: LocationNet | Future, top_k: int = 5, places: Places | None = None,
                 preview_size: int | None = None):
        """``model`` may be a Future of a model still loading: photos are decoded meanwhile.
        With ``preview_size``, each result also carries an upright preview for display."""
        if top_k < 1:
            raise ValueError("top_k must be at least 1")
        self._model = model
        self._top_k = top_k
        self.places = places or shared_places()
        self.preview_size = preview_size

    @property
    def model(self) -> LocationNet:
        """The model (waits for it, and raises its load error, if it is still a Future)."""
        if isinstance(self._model, Future):
            self._model = self._model.result()
        return self._model

    @property
    def top_k(self) -> int:
        return min(self._top_k, len(self.model.grid))

    def predict(self, path: str | Path) -> PhotoResult:
        with closing(self.predict_many([path])) as results:
            return next(results)

    def predict_many(self, paths: Iterable[str | Path], prefetch: int = 8) -> Iterator[PhotoResult]:
        """One result per path, in order; decoding runs ahead of inference by ``prefetch`` photos."""
        pending: deque[Future] = deque()
        source = iter(paths)
        loaded = not isinstance(self._model, Future)
        batch_size = self.model.batch_size if loaded else 1
        decoder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="geoguess-decode",
                                     initializer=background_thread_init)

        def fill() -> None:
            while len(pending) < batch_size + prefetch:
                try:
                    path = next(source)
                except StopIteration:
                    return
                pending.append(decoder.submit(prepare, path, self.preview_size))

        try:
            fill()
            while pending:
                if not loaded:
                    batch_size, loaded = self.model.batch_size, True
                # The next photo, and any more already decoded, up to a batch.
                group = [pending.popleft().result()]
                while pending and len(group) < batch_size and pending[0].done():
                    group.append(pending.popleft().result())
                fill()  # keep the decoder busy while this group is classified
                yield from self._classify(group)
        finally:
            for fut in pending:
                fut.cancel()
            decoder.shutdown(wait=True, cancel_futures=True)

    def _classify(self, group: list[Prepared]) -> list[PhotoResult]:
        good = [p for p in group if p.tensor is not None]
        probs = self.model.probabilities(np.stack([p.tensor for p in good])) if good else []
        by_path = {id(p): row for p, row in zip(good, probs)}
        results = []
        for p in group:
            result = PhotoResult(path=p.path, model=self.model.info, meta=p.meta, size=p.size, error=p.error,
                                 preview=p.preview)
            if p.tensor is not None:
                result.predictions = self.describe(by_path[id(p)], p.meta.gps if p.meta else None)
            results.append(result)
        return results

    def describe(self, probs: np.ndarray, gps: GPSPosition | None) -> list[Guess]:
        """The top-k classes of one probability vector, best first, with cells and places."""
        k = self.top_k
        top = np.argpartition(-probs, k - 1)[:k]
        top = top[np.argsort(-probs[top], kind="stable")]
        cells = [self.model.grid.info(int(i)) for i in top]
        places = self.places.lookup([(c.lat, c.lon) for c in cells])
        guesses = []
        for rank, (i, cell, place) in enumerate(zip(top, cells, places), start=1):
            distance = great_circle_km(gps.lat, gps.lon, cell.lat, cell.lon) if gps else None
            guesses.append(Guess(rank, int(i), cell.token, float(probs[i]), cell.lat, cell.lon, cell.level,
                                 cell.size_km, cell.corners, place.name, distance))
        return guesses
