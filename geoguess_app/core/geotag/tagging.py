"""Geotagging many photos on this machine: predict, fuse, decide per photo, write (or rehearse).

``tag_photos`` is the loop; ``job.GeotagJob`` is the service the command line, the window and
``geoguess batch`` call. Each photo is decided by one ``TagPolicy`` (policy.py)."""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from pathlib import Path

from ..errors import GeoGuessError
from ..fusion.fuse import FusedAnswer
from ..fusion.geometry import GridGeometry
from ..fusion.inputs import FusionPhoto
from ..fusion.settings import PreparedFusion
from ..geo.cells import format_km
from ..geo.places import shared_places
from ..names import display_path
from ..photos.pairs import capture_time, find_twins
from ..photos.regular_files import open_regular
from ..predict.pipeline import Predictor, predict_all
from ..predict.results import Guess, PhotoResult
from ..threads import background_thread_init
from .metadata import (
    NAMESPACE_BYTES,
    GeotagRefused,
    existing_position,
    in_sidecar,
    is_geoguess_tagged,
    photo_format,
    read_metadata,
    refuse_replacing,
    sidecar_path,
)
from .outcome import ERROR, REFUSED, SKIPPED, STOPPED, WOULD_WRITE, WRITTEN, TagOutcome, failure, write_one
from .policy import TagPolicy
from .staged_write import check_writable
from .writer import GeoTag, PhotoWriter, rehearse_gps


def tag_photos(
    paths: Iterable[str | Path],
    predictor: Predictor,
    policy: TagPolicy = TagPolicy(),
    writer: PhotoWriter | None = None,
    fusion: PreparedFusion | None = None,
    cancel: threading.Event | None = None,
    stop: threading.Event | None = None,
    on_predicted: Callable[[PhotoResult], None] | None = None,
    on_fusing: Callable[[int], None] | None = None,
    on_fused: Callable[[list[FusionPhoto], list[FusedAnswer]], None] | None = None,
) -> Iterator[TagOutcome]:
    """One outcome per photo, in order, except that photos skipped without predicting them
    (already tagged by GeoGuess, so that a stopped run can simply be run again; another name of a
    file met before) are reported as soon as they are found. Writes happen on one save thread
    (as MusicBrainz Picard does) while the next photos are predicted.

    ``cancel``: predict no more photos; the writes already queued finish. ``stop``: also drop the
    queued writes that have not started (each reported as not written); the write in progress
    finishes. Every photo written is reported either way.

    ``fusion``: fuse the set before writing (core/fusion) on the model's grid: every photo is
    predicted first (``on_predicted`` is told of each), then fused (``on_fusing`` is told how
    many, then ``on_fused`` is given the
    photos as fusion read them and their answers), then written. Photos GeoGuess tagged before
    are predicted too (their distributions are evidence for the others; a rerun fuses the same
    set) and then skipped. ``cancel`` or ``stop`` while predicting writes nothing; while writing,
    the write in progress finishes and the rest are reported as not written.

    ``policy.consent``: whether guesses of an untrained or unverified model may be written;
    without it they are skipped with the reason, in a dry run too."""
    assert writer is not None or not policy.write, "a run that writes is given the policy's writer (GeotagJob)"
    paths = list(paths)
    raw_of = {jpeg: raw for raw, jpeg in find_twins(paths, capture_time).items()}  # JPEG -> its RAW twin
    twins = set(raw_of.values())
    skipped: list[TagOutcome] = []
    seen: dict[tuple[int, int], str] = {}  # the files of this run, by device and inode

    def halted(path: str) -> TagOutcome:
        """Not written: the run was stopped (with its twin, if it has one)."""
        outcome = TagOutcome(path, SKIPPED, STOPPED)
        if path in raw_of:
            outcome.twin = TagOutcome(raw_of[path], SKIPPED, STOPPED)
        return outcome

    def source():
        for path in paths:
            if _is_set(cancel) or _is_set(stop):
                return
            if str(path) in twins:
                continue  # predicted, fused and written with its JPEG twin
            try:
                st = os.stat(path)
                first = seen.setdefault((st.st_dev, st.st_ino), str(path))
            except OSError:
                first = str(path)  # the prediction says what is wrong with it
            if first != str(path):
                skipped.append(
                    TagOutcome(
                        str(path), SKIPPED, f"the same file as {display_path(first)} (another name for it), done once"
                    )
                )
                continue
            if fusion is None and _already_tagged(written_file(Path(path), policy)):
                skipped.append(with_twin(TagOutcome(str(path), SKIPPED, ALREADY_TAGGED), raw_of, policy, writer))
                continue
            yield path

    def decide(result):
        outcome = _decide(result, policy, writer)
        outcome.model, outcome.preview, outcome.verified = result.model, result.preview, result.model.verified
        return with_twin(outcome, raw_of, policy, writer)

    saver = ThreadPoolExecutor(max_workers=1, thread_name_prefix="geoguess-save", initializer=background_thread_init)
    pending: deque[tuple[str, Future]] = deque()
    if fusion is not None:
        geometry = GridGeometry(predictor.classifier.grid)

        def fuse_with(results):
            if on_fusing is not None:
                on_fusing(len(results))
            photos, answers = fusion.fuse(results, geometry)
            if on_fused is not None:
                on_fused(photos, answers)
            return answers

        def decided(result, answer):
            outcome = decide_fused(result, answer, policy, writer)
            outcome.preview = result.preview
            return with_twin(outcome, raw_of, policy, writer)

        for outcome in _fused(
            predictor.predict_many(source()), skipped, fuse_with, on_predicted, decided, saver, cancel, stop, halted
        ):
            yield from outcome.with_twin()
        return

    def finished(path: str, future: Future) -> list[TagOutcome]:
        try:
            return future.result().with_twin()
        except CancelledError:
            return halted(path).with_twin()

    results = predictor.predict_many(source())
    try:
        for result in results:
            while pending and pending[0][1].done():
                yield from finished(*pending.popleft())
            for outcome in skipped:
                pending.append((outcome.path, _done(outcome)))
            skipped.clear()
            if _is_set(stop):
                pending.append((result.path, _done(halted(result.path))))
                break
            pending.append((result.path, saver.submit(decide, result)))
            if _is_set(cancel):
                break
        for outcome in skipped:
            pending.append((outcome.path, _done(outcome)))
        while pending:
            if _is_set(stop):
                _cancel_all(f for _, f in pending)
            path, future = pending.popleft()
            yield from finished(path, future)
    finally:
        results.close()
        saver.shutdown(wait=True, cancel_futures=True)  # a write that started always finishes


def with_twin(outcome: TagOutcome, raw_of: dict[str, str], policy: TagPolicy, writer: PhotoWriter | None) -> TagOutcome:
    """A photo's outcome, with its RAW twin's: the same position written into the RAW's sidecar (or
    rehearsed) when the photo's was; else not written, for the photo's reason. Runs on the save
    thread, right after the photo's own write: one run of the journal holds both."""
    raw = raw_of.get(outcome.path)
    if raw is None:
        return outcome
    twin_name = display_path(Path(outcome.path).name)
    if outcome.status in (WRITTEN, WOULD_WRITE) and outcome.tag is not None:
        twin = apply(policy, writer, raw, outcome.tag, f"as its twin {twin_name}")
        twin.guess, twin.untrained, twin.source, twin.evidence = (
            outcome.guess,
            outcome.untrained,
            outcome.source,
            outcome.evidence,
        )
    else:
        twin = TagOutcome(raw, SKIPPED, f"as its twin {twin_name}: {outcome.summary}", outcome.guess, outcome.untrained)
    twin.model, twin.verified = outcome.model, outcome.verified
    outcome.twin = twin
    return outcome


def written_file(path: Path, policy: TagPolicy) -> Path:
    """The file a position for ``path`` goes into: the photo, or its sidecar."""
    in_file = not policy.sidecar and not in_sidecar(path, policy.raw_in_file)
    return path if in_file else sidecar_path(path, policy.sidecar_name)


def _is_set(event: threading.Event | None) -> bool:
    return event is not None and event.is_set()


def _already_tagged(path: Path) -> bool:
    """Whether GeoGuess wrote into this photo before. A look for its XMP namespace in the file's
    first and last bytes (no ExifTool call on the thread that drives inference), confirmed by
    ExifTool when found. Only a regular file is opened: a FIFO or a device is not a photo GeoGuess
    wrote (decoding says what it is), and ExifTool is never asked to read it."""
    try:
        with open_regular(path) as f:
            head = f.read(1 << 20)
            f.seek(max(0, f.seek(0, 2) - (1 << 16)))
            tail = f.read()
    except OSError:
        return False
    if NAMESPACE_BYTES not in head and NAMESPACE_BYTES not in tail:
        return False
    try:
        return is_geoguess_tagged(read_metadata(path))
    except GeoGuessError:
        return False


def _done(outcome: TagOutcome) -> Future:
    future: Future = Future()
    future.set_result(outcome)
    return future


def _decide(result: PhotoResult, policy: TagPolicy, writer: PhotoWriter | None) -> TagOutcome:
    untrained = bool(result.model and result.model.untrained)
    if not result.ok:
        return TagOutcome(result.path, ERROR, result.error or "cannot be predicted", untrained=untrained)
    guess = result.predictions[0]
    where = f"{guess.lat:.6f}, {guess.lon:.6f} ({guess.place}, {guess.probability * 100:.1f}%)"
    refusal = policy.consent.refusal(result.model)
    if refusal:
        return TagOutcome(result.path, SKIPPED, f"{where}: {refusal}", guess, untrained)
    if guess.probability < policy.min_probability:
        return TagOutcome(
            result.path,
            SKIPPED,
            f"best guess {guess.probability * 100:.1f}% is below {policy.min_probability * 100:.1f}%",
            guess,
            untrained,
        )
    outcome = apply(policy, writer, result.path, GeoTag.from_guess(guess, result.model), where)
    outcome.guess, outcome.untrained = guess, untrained
    return outcome


def apply(policy: TagPolicy, writer: PhotoWriter | None, path: str, tag: GeoTag, where: str) -> TagOutcome:
    """Write ``tag`` (policy.write) or rehearse the write, and say what happened."""
    if policy.write:
        assert writer is not None
        outcome = write_one(writer, path, tag, overwrite_gps=policy.overwrite_gps, sidecar=policy.sidecar, where=where)
    else:
        outcome = _dry_run(path, tag, where, policy)
    outcome.tag = tag
    return outcome


def _dry_run(path: str, tag: GeoTag, where: str, policy: TagPolicy) -> TagOutcome:
    """The same checks as a write, short of replacing the photo: for a photo, ExifTool makes the new
    version beside it and it is checked as a write checks it (so "would write" is what --write
    does: a tag the write would lose is a refusal here too), then thrown away."""
    overwrite_gps, hardlinks = policy.overwrite_gps, policy.hardlinks
    target = written_file(Path(path), policy)
    sidecar = target != Path(path)
    try:
        if not sidecar:
            photo_format(Path(path), policy.raw_in_file)
            check_writable(path, hardlinks)
        tags = read_metadata(Path(path))
        existing = existing_position(tags)
        try:
            if sidecar:
                refuse_replacing(tags, overwrite_gps)
            else:  # the same check, then the new version made and checked
                rehearse_gps(path, tag, overwrite_gps, hardlinks, tags=tags, raw_files=policy.raw_in_file)
        except GeotagRefused as e:
            return TagOutcome(path, REFUSED, str(e), existing_gps=existing)
        if sidecar:
            where += f" into {display_path(target.name)}"
        return TagOutcome(path, WOULD_WRITE, where, existing_gps=existing)
    except (GeotagRefused, OSError) as e:
        return failure(path, e)


ALREADY_TAGGED = "already geotagged by GeoGuess"


def _cancel_all(futures: Iterable[Future]) -> None:
    """Cancel every queued write at once (one at a time, the save thread would start the next)."""
    for future in futures:
        future.cancel()  # only succeeds for a write that has not started


def _fused(results, skipped, fuse_with, on_predicted, decide, saver, cancel, stop, halted) -> Iterator[TagOutcome]:
    """Predict all, fuse, then write in order on the save thread (``halted(path)``: a photo not
    written because the run stopped)."""
    stopped = lambda: _is_set(cancel) or _is_set(stop)  # noqa: E731
    predicted = predict_all(results, on_predicted, stopped)
    yield from skipped
    answers = fuse_with(predicted) if not stopped() else []
    if stopped():  # also when Ctrl+C came while fusing: nothing is written
        for result in predicted:
            yield halted(result.path)
        return
    try:
        futures = [(r.path, saver.submit(decide, r, a)) for r, a in zip(predicted, answers)]
        for k, (path, future) in enumerate(futures):
            if stopped():
                _cancel_all(f for _, f in futures[k:])
            try:
                yield future.result()
            except CancelledError:
                yield halted(path)
    finally:
        saver.shutdown(wait=True, cancel_futures=True)


def decide_fused(result: PhotoResult, answer: FusedAnswer, policy: TagPolicy, writer: PhotoWriter | None) -> TagOutcome:
    """One fused photo decided, then written or rehearsed (``geoguess tag``, ``batch write``)."""
    outcome = _decide_fused(result, answer, policy, writer)
    outcome.model = result.model
    outcome.verified = result.model.verified if result.model else None
    return outcome


def _decide_fused(
    result: PhotoResult, answer: FusedAnswer, policy: TagPolicy, writer: PhotoWriter | None
) -> TagOutcome:
    untrained = bool(result.model and result.model.untrained)
    if not result.ok or answer.error or answer.position is None:
        return TagOutcome(result.path, ERROR, result.error or answer.error or "no position", untrained=untrained)
    if answer.source == "gps":
        lat, lon = answer.position
        return TagOutcome(
            result.path,
            SKIPPED,
            "it has its own GPS position (used to place the others)",
            existing_gps=f"{lat:.6f}, {lon:.6f}",
            source="gps",
        )
    if _already_tagged(written_file(Path(result.path), policy)):
        return TagOutcome(result.path, SKIPPED, ALREADY_TAGGED)
    guess = answer_guess(result, answer)
    measured = answer.measured
    where = (
        f"{guess.lat:.6f}, {guess.lon:.6f} ({guess.place}, within {format_km(answer.radius_km or 0.0)}, {answer.source}"
    )
    where += ")" if measured else f", {guess.probability * 100:.1f}%)"
    refusal = policy.consent.refusal(result.model, measured)
    if refusal:
        outcome = TagOutcome(result.path, SKIPPED, f"{where}: {refusal}", guess, untrained)
    elif not measured and guess.probability < policy.min_probability:
        outcome = TagOutcome(
            result.path,
            SKIPPED,
            f"fused probability {guess.probability * 100:.1f}% is below {policy.min_probability * 100:.1f}%",
            guess,
            untrained,
        )
    else:
        outcome = apply(policy, writer, result.path, GeoTag.from_answer(answer, result.model, guess.token), where)
        outcome.guess, outcome.untrained = guess, untrained and not measured
    outcome.source, outcome.evidence = answer.source, tuple(answer.evidence)
    return outcome


def answer_guess(result: PhotoResult, answer: FusedAnswer) -> Guess:
    """The fused position as a ranked guess, for reports and the window."""
    lat, lon = answer.position  # type: ignore[misc]
    own = next((g for g in result.predictions if g.cls == answer.cell), None)
    place = own.place if own else shared_places().lookup([(lat, lon)])[0].name
    return Guess(
        rank=1,
        cls=-1 if answer.cell is None else answer.cell,
        token=answer.token or "",
        probability=answer.probability if answer.probability is not None else 1.0,
        lat=lat,
        lon=lon,
        level=own.level if own else 0,
        cell_size_km=own.cell_size_km if own else 0.0,
        corners=own.corners if own else (),
        place=place,
        distance_km=None,
    )
