"""From photos to ranked guesses, in stages: decode, infer, score, describe.

- **decode** (on every core, running ahead: ``decoding.OrderedDecoder``): open the photo, read its
  EXIF, apply the input recipe; a photo that fails becomes a result with an error, never an
  exception.
- **infer**: the classifier's probabilities for a batch of decoded photos (on the runtime's thread).
- **score**: keep the distribution over cells (the whole vector, or its top-K slice).
- **describe**: the top-k cells with their centres, corners, place names and distance from the
  photo's own GPS position.

``Predictor.predict_many`` is a generator: it yields a ``PhotoResult`` for each path, in order, as
soon as that photo is done (for progress bars and cancel: closing the generator stops the work).
The predictor only knows the ``Classifier`` protocol, never a runtime.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future
from contextlib import closing
from functools import partial
from pathlib import Path
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from ..errors import GeoGuessError
from ..geo.cells import great_circle_km
from ..geo.places import Places, shared_places
from ..model.classifier import Classifier
from ..model.recipe import preprocess_photo
from ..photos.decode import open_photo
from ..photos.exif import GPSPosition
from .cache import PredictionCache, model_key, photo_key
from .decoding import DecodePlan, OrderedDecoder, decode_plan
from .results import Distribution, Guess, PhotoResult

log = logging.getLogger(__name__)

Decoded = tuple[PhotoResult, "npt.NDArray[np.float32] | None"]  # the result so far, and the input tensor if it decoded


class _Staged(NamedTuple):
    result: PhotoResult
    tensor: npt.NDArray[np.float32] | None  # None: failed, or from the cache
    key: str | None  # the photo's cache key, when a cache is used


def decode(path: str | Path, preview_size: int | None = None, reduced: bool = False) -> Decoded:
    """Stage 1: decode one photo and make its input tensor (and a display preview if a size is
    given); any failure becomes the result's error. ``reduced``: the fast decode (JPEGs at a
    reduced scale; the result's ``source_image`` says so), never the exact recipe's."""
    result = PhotoResult(str(path))
    try:
        photo = open_photo(result.path, reduced)
    except GeoGuessError as e:
        result.error = str(e)
        return result, None
    except Exception as e:  # one bad photo must never stop a batch
        log.exception("unexpected failure opening %s", result.path)
        result.error = f"cannot read this photo ({type(e).__name__}: {e})"
        return result, None
    try:
        # one input per frame of a video (stacked: combined after inference), else one
        tensors = [preprocess_photo(p) for p in photo.frame_photos()]
        tensor = tensors[0] if photo.kind != "video" else np.stack(tensors)
        result.meta, result.size = photo.meta, photo.full_size
        result.source_image, result.kind = photo.source, photo.kind
        result.preview = photo.preview(preview_size) if preview_size else None
        return result, tensor
    except MemoryError:
        result.error = "not enough memory to process this photo"
    except Exception as e:
        log.exception("unexpected failure preparing %s", result.path)
        result.error = f"cannot process this photo ({type(e).__name__}: {e})"
    finally:
        photo.close()
    return result, None


def stage(path: str, preview_size: int | None, reduced: bool, with_key: bool) -> _Staged:
    """Stage 1 in a decoding process: the photo decoded, with its cache key when a cache is used
    (the cache itself is read by the predictor, after)."""
    key = None
    if with_key:
        try:
            key = photo_key(path)
        except OSError:
            key = None  # decoding says what is wrong with the file
    result, tensor = decode(path, preview_size, reduced)
    return _Staged(result, tensor, key)


def _worker_failed(path: str, error: BaseException) -> _Staged:
    result = PhotoResult(path)
    result.error = f"cannot decode this photo: its decoding process ended abruptly ({type(error).__name__})"
    return _Staged(result, None, None)


class Predictor:
    """Ranks a classifier's guesses for photos and describes them (cells, place names, distances)."""

    def __init__(
        self,
        classifier: Classifier | Future[Classifier],
        top_k: int = 5,
        places: Places | None = None,
        preview_size: int | None = None,
        keep: int | None = None,
        cache: PredictionCache | None = None,
        decoding: DecodePlan | None = None,
    ):
        """``classifier`` may be a Future of one still loading: photos are decoded meanwhile.
        With ``preview_size``, each result also carries an upright preview for display. ``keep``:
        each result's distribution holds the whole vector (None) or its ``keep`` most likely cells.
        With a ``cache``, a photo predicted before by the same model is not decoded or classified
        again: its result comes from the cache (without a preview), with the stored distribution.
        ``decoding``: how photos are decoded (default: on every core, exact)."""
        if top_k < 1:
            raise ValueError("top_k must be at least 1")
        if keep is not None and keep < 1:
            raise ValueError("keep must be at least 1")
        self._classifier = classifier
        self._top_k = top_k
        self.keep = keep
        self.places = places or shared_places()
        self.preview_size = preview_size
        self.cache = cache
        self.decoding = decoding or decode_plan()
        self._model_key: str | None = None  # the cache's key of the model, once it is loaded

    @property
    def classifier(self) -> Classifier:
        """The classifier (waits for it, and raises its load error, if it is still a Future)."""
        if isinstance(self._classifier, Future):
            self._classifier = self._classifier.result()
        return self._classifier

    @property
    def top_k(self) -> int:
        return min(self._top_k, len(self.classifier.grid))

    def predict(self, path: str | Path) -> PhotoResult:
        with closing(self.predict_many([path])) as results:
            return next(results)

    def predict_many(self, paths: Iterable[str | Path], prefetch: int = 8) -> Generator[PhotoResult, None, None]:
        """One result per path, in order; decoding runs ahead of inference by ``prefetch`` photos
        (at least two per worker), on the plan's workers. Closing the generator cancels the photos
        not yet started."""
        loaded = not isinstance(self._classifier, Future)
        batch_size = self.classifier.batch_size if loaded else 1
        plan = self.decoding
        prefetch = max(prefetch, 2 * plan.workers)
        task: Callable[[str], _Staged] = (
            partial(stage, preview_size=self.preview_size, reduced=plan.reduced, with_key=self.cache is not None)
            if plan.processes
            else self._decode
        )
        decoder = OrderedDecoder(plan, task, paths, _worker_failed, batch_size + prefetch)
        try:
            while not decoder.exhausted():
                if not loaded:
                    batch_size, loaded = self.classifier.batch_size, True
                    decoder.ahead = batch_size + prefetch
                # The next photo, and any more already decoded, up to a batch.
                group = [decoder.take()]
                while len(decoder) and len(group) < batch_size and decoder.ready():
                    group.append(decoder.take())
                yield from self._finish(group)
        finally:
            decoder.close()

    def _decode(self, path: str | Path) -> _Staged:
        """Stage 1, from the cache when the photo was predicted before by this model (then only
        the preview, when one is asked for, is made from the file)."""
        key = None
        if self.cache is not None:
            try:
                key = photo_key(path)
            except OSError:
                key = None  # decoding says what is wrong with the file
            hit = self._cached(key, str(path))
            if hit is not None:
                if self.preview_size is not None and hit.ok:
                    try:
                        hit.preview = open_photo(path).preview(self.preview_size)
                    except Exception:  # the prediction stands without its thumbnail (logged)
                        log.debug("no preview of %s from the cache", path, exc_info=True)
                return _Staged(hit, None, key)
        result, tensor = decode(path, self.preview_size, self.decoding.reduced)
        return _Staged(result, tensor, key)

    def _cached(self, key: str | None, path: str) -> PhotoResult | None:
        if key is None or self._model_key is None or self.cache is None:
            return None
        hit = self.cache.get(key, self._model_key, path)
        if hit is None or hit.distribution is None or len(hit.distribution.classes) < self.top_k:
            return None  # a stored distribution too short for the guesses asked for: predict again
        return hit

    def _finish(self, group: list[_Staged]) -> list[PhotoResult]:
        """Stages 2 to 4 for a group of decoded (or cached) photos."""
        classifier = self.classifier
        if self.cache is not None and self._model_key is None:
            try:
                self._model_key = model_key(classifier.info)
            except OSError as e:
                log.warning("predicting without the cache: the model's files cannot be read (%s)", e)
                self.cache = None
        staged = []
        for s in group:  # decoded before the model's key was known: the cache may have it after all
            hit = self._cached(s.key, s.result.path) if s.tensor is not None else None
            if hit is not None:
                hit.preview = s.result.preview  # made while decoding
            staged.append(_Staged(hit, None, s.key) if hit is not None else s)
        fresh = [s for s in staged if s.tensor is not None]
        for s, vector in zip(fresh, self.probabilities([s.tensor for s in fresh if s.tensor is not None])):
            s.result.distribution = self.score(vector)
        for s in staged:
            result = s.result
            result.model = classifier.info
            if result.ok and result.distribution is not None:
                result.predictions = self.describe(result.distribution, result.exif_gps)
            if s.tensor is not None and s.key is not None and self.cache is not None and self._model_key:
                self.cache.put(s.key, self._model_key, result)
        return [s.result for s in staged]

    def probabilities(self, inputs: list[npt.NDArray[np.float32]]) -> list[npt.NDArray[np.float32]]:
        """One probability vector per input: a photo's (3, 224, 224) tensor, or a video's (frames,
        3, 224, 224) stack, whose frames are combined (``combine_frames``)."""
        flat = [t[None] if t.ndim == 3 else t for t in inputs]
        probs = self.infer([frame for t in flat for frame in t])
        out, at = [], 0
        for t in flat:
            rows = probs[at : at + len(t)]
            out.append(rows[0] if len(t) == 1 else combine_frames(rows))
            at += len(t)
        return out

    def infer(self, tensors: list[npt.NDArray[np.float32]]) -> npt.NDArray[np.float32]:
        """Stage 2: the classifier's probabilities, one row per tensor."""
        if not tensors:
            return np.zeros((0, len(self.classifier.grid)), dtype=np.float32)
        return self.classifier.probabilities(np.stack(tensors))

    def score(self, vector: npt.NDArray[np.float32]) -> Distribution:
        """Stage 3: what is kept of one photo's probabilities."""
        distribution = Distribution.full(vector)
        return distribution if self.keep is None else distribution.top(self.keep)

    def describe(self, distribution: Distribution, gps: GPSPosition | None) -> list[Guess]:
        """Stage 4: the top-k cells of a distribution, best first, with places and distances."""
        top = distribution.top(self.top_k)
        grid = self.classifier.grid
        cells = [grid.info(int(i)) for i in top.classes]
        places = self.places.lookup([(c.lat, c.lon) for c in cells])
        guesses = []
        for rank, (i, p, cell, place) in enumerate(zip(top.classes, top.probabilities, cells, places), start=1):
            distance = great_circle_km(gps.lat, gps.lon, cell.lat, cell.lon) if gps else None
            guesses.append(
                Guess(
                    rank,
                    int(i),
                    cell.token,
                    float(p),
                    cell.lat,
                    cell.lon,
                    cell.level,
                    cell.size_km,
                    cell.corners,
                    place.name,
                    distance,
                )
            )
        return guesses


def combine_frames(rows: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """One distribution from a video's frames: the mean of their log-probabilities, normalised (a
    place every frame finds likely stays likely; one frame alone cannot carry it)."""
    logs = np.log(np.maximum(rows.astype(np.float64), 1e-30)).mean(axis=0)
    combined = np.exp(logs - logs.max())
    out: npt.NDArray[np.float32] = (combined / combined.sum()).astype(np.float32)
    return out


def predict_all(
    results: Iterator[PhotoResult],
    on_predicted: Callable[[PhotoResult], None] | None = None,
    stop: Callable[[], bool] | None = None,
) -> list[PhotoResult]:
    """Every result of a prediction run, each keeping only its stored distribution (what fusion
    reads; a fraction of the memory), until ``stop`` says so."""
    predicted: list[PhotoResult] = []
    try:
        for result in results:
            if result.distribution is not None:
                result.distribution = result.distribution.stored()
            predicted.append(result)
            if on_predicted is not None:
                on_predicted(result)
            if stop is not None and stop():
                break
    finally:
        results.close()  # type: ignore[attr-defined]
    return predicted
