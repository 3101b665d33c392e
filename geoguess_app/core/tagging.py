"""Geotagging many photos: predict, decide, write (or say what would be written), report, undo."""

from __future__ import annotations

import csv
import json
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from .errors import GeoGuessError
from .geotag import (SIDECAR_CREATED, GeoTag, GeotagRefused, apply_changes, existing_position, is_geoguess_tagged,
                     photo_format, read_metadata, refuse_replacing, sidecar_path, write_gps, write_sidecar)

NAMESPACE_BYTES = b"geoguess.invalid/ns/1.0/"
from .journal import Journal
from .predict import Guess, Predictor
from .worker import background_thread_init

WRITTEN, WOULD_WRITE, SKIPPED, REFUSED, ERROR = "written", "would write", "skipped", "refused", "error"
FAILED = {REFUSED, ERROR}


@dataclass
class TagOutcome:
    path: str
    status: str
    message: str = ""
    guess: Guess | None = None
    untrained: bool = False
    model: object = None  # ModelInfo of the prediction
    existing_gps: str | None = None  # the position the photo already has, when known
    preview: object = field(default=None, repr=False)  # upright thumbnail, when the predictor makes them

    @property
    def failed(self) -> bool:
        return self.status in FAILED


def tag_photos(paths: Iterable[str | Path], predictor: Predictor, write: bool = False, min_probability: float = 0.0,
               overwrite_gps: bool = False, backup: bool = False, keep_mtime: bool = True,
               journal: Journal | None = None, cancel: threading.Event | None = None,
               sidecar: bool = False) -> Iterator[TagOutcome]:
    """One outcome per photo, in order. Photos GeoGuess already tagged are skipped without
    predicting them, so a stopped run can simply be run again. Writes happen on one save thread
    (as MusicBrainz Picard does) while the next photos are predicted."""
    skipped: list[TagOutcome] = []

    def source():
        for path in paths:
            if cancel is not None and cancel.is_set():
                return
            if _already_tagged(sidecar_path(Path(path)) if sidecar else Path(path)):
                skipped.append(TagOutcome(str(path), SKIPPED, "already geotagged by GeoGuess"))
                continue
            yield path

    def decide(result):
        return _decide(result, write, min_probability, overwrite_gps, backup, keep_mtime, journal, sidecar=sidecar)

    saver = ThreadPoolExecutor(max_workers=1, thread_name_prefix="geoguess-save", initializer=background_thread_init)
    pending: deque[Future] = deque()
    results = predictor.predict_many(source())
    try:
        for result in results:
            while pending and pending[0].done():
                yield pending.popleft().result()
            for outcome in skipped:
                pending.append(_done(outcome))
            skipped.clear()
            pending.append(saver.submit(decide, result))
            if cancel is not None and cancel.is_set():
                break
        for outcome in skipped:
            pending.append(_done(outcome))
        while pending:
            yield pending.popleft().result()
    finally:
        results.close()
        saver.shutdown(wait=True)  # a write that started always finishes


def _already_tagged(path: Path) -> bool:
    """Whether GeoGuess wrote into this photo before. A look for its XMP namespace in the file's
    first and last bytes (no ExifTool call on the thread that drives inference), confirmed by
    ExifTool when found."""
    try:
        with open(path, "rb") as f:
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


def _decide(result, write, min_probability, overwrite_gps, backup, keep_mtime, journal, sidecar=False) -> TagOutcome:
    outcome = _decide_status(result, write, min_probability, overwrite_gps, backup, keep_mtime, journal, sidecar)
    outcome.model, outcome.preview = result.model, result.preview
    return outcome


def _decide_status(result, write, min_probability, overwrite_gps, backup, keep_mtime, journal,
                   sidecar) -> TagOutcome:
    untrained = result.model.untrained
    if not result.ok:
        return TagOutcome(result.path, ERROR, result.error, untrained=untrained)
    guess = result.predictions[0]
    where = f"{guess.lat:.6f}, {guess.lon:.6f} ({guess.place}, {guess.probability * 100:.1f}%)"
    if guess.probability < min_probability:
        return TagOutcome(result.path, SKIPPED, f"best guess {guess.probability * 100:.1f}% is below "
                                                f"{min_probability * 100:.1f}%", guess, untrained)
    tag = GeoTag.from_guess(guess, result.model)
    try:
        if write and sidecar:
            side = write_sidecar(result.path, tag, overwrite_gps=overwrite_gps, journal=journal)
            return TagOutcome(result.path, WRITTEN, f"{where} into {side.name}", guess, untrained)
        if write:
            write_gps(result.path, tag, overwrite_gps=overwrite_gps, keep_mtime=keep_mtime, backup=backup,
                      journal=journal)
            return TagOutcome(result.path, WRITTEN, where, guess, untrained)
        if not sidecar:
            photo_format(Path(result.path))
        tags = read_metadata(Path(result.path))
        existing = existing_position(tags)
        try:
            refuse_replacing(tags, overwrite_gps)
        except GeotagRefused as e:
            return TagOutcome(result.path, REFUSED, str(e), guess, untrained, existing_gps=existing)
        return TagOutcome(result.path, WOULD_WRITE, where, guess, untrained, existing_gps=existing)
    except GeotagRefused as e:
        return TagOutcome(result.path, REFUSED, str(e), guess, untrained)
    except OSError as e:
        return TagOutcome(result.path, ERROR, f"cannot write: {e.strerror or e}", guess, untrained)


def undo(journal: Journal, paths: Iterable[str | Path] | None = None, keep_mtime: bool = True) -> Iterator[TagOutcome]:
    """Put back what GeoGuess's writes changed, newest first (all of them, or those of ``paths``)."""
    wanted = {str(Path(p).resolve()) for p in paths} if paths else None
    for entry in reversed(journal.entries()):
        if wanted is not None and entry.path not in wanted:
            continue
        path = Path(entry.path)
        try:
            if entry.before.get(SIDECAR_CREATED):  # GeoGuess made this sidecar: remove it
                if path.exists() and not is_geoguess_tagged(read_metadata(path)):
                    raise GeotagRefused("the sidecar changed since GeoGuess wrote it; left as it is")
                path.unlink(missing_ok=True)
                journal.mark_undone(entry.id)
                yield TagOutcome(str(path), WRITTEN, "sidecar removed")
                continue
            fmt = photo_format(path)
            current = read_metadata(path)
            for key in ("GPS:GPSLatitude", "GPS:GPSLongitude"):
                now, wrote = current.get(key), entry.after.get(key)
                if not isinstance(now, (int, float)) or wrote is None or abs(now - float(wrote)) > 1e-7:
                    raise GeotagRefused("its GPS position changed since GeoGuess wrote it; left as it is")
            clear = ["-XMP-geoguess:all="]
            if any(k.startswith("GPS:") and v is not None for k, v in entry.before.items()):
                clear.append("-GPS:all=")  # then put back exactly the GPS tags it had
            # The XMP packet GeoGuess added (with ExifTool's toolkit name) may go with the provenance.
            apply_changes(path, fmt, entry.before, clear=clear, keep_mtime=keep_mtime, original=current,
                          may_drop=("XMP-x:XMPToolkit",))
            journal.mark_undone(entry.id)
            yield TagOutcome(str(path), WRITTEN, "previous metadata restored")
        except GeotagRefused as e:
            yield TagOutcome(str(path), REFUSED, str(e))
        except OSError as e:
            yield TagOutcome(str(path), ERROR, f"cannot restore: {e.strerror or e}")


def write_report(outcomes: list[TagOutcome], target: str | Path) -> None:
    """CSV, GeoJSON or GPX, by the file's extension."""
    target = Path(target)
    kind = target.suffix.lower()
    rows = [(o, o.guess) for o in outcomes]
    if kind == ".csv":
        with open(target, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["path", "status", "lat", "lon", "place", "probability", "untrained", "message"])
            for o, g in rows:
                w.writerow([o.path, o.status, g.lat if g else "", g.lon if g else "", g.place if g else "",
                            f"{g.probability:.6f}" if g else "", o.untrained, o.message])
    elif kind in (".geojson", ".json"):
        features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [g.lon, g.lat]},
                     "properties": {"path": o.path, "status": o.status, "place": g.place, "probability": g.probability,
                                    "cell": g.token, "untrained": o.untrained, "predicted": True, "message": o.message}}
                    for o, g in rows if g is not None]
        target.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False, indent=1),
                          encoding="utf-8")
    elif kind == ".gpx":
        points = "".join(
            f'  <wpt lat="{g.lat:.7f}" lon="{g.lon:.7f}"><name>{escape(Path(o.path).name)}</name>'
            f"<desc>{escape(f'{o.status}: predicted, {g.probability * 100:.1f}%, {g.place}' + (' (UNTRAINED model)' if o.untrained else ''))}</desc></wpt>\n"
            for o, g in rows if g is not None)
        target.write_text('<?xml version="1.0" encoding="UTF-8"?>\n'
                          '<gpx version="1.1" creator="GeoGuess" xmlns="http://www.topografix.com/GPX/1/1">\n'
                          f"{points}</gpx>\n", encoding="utf-8")
    else:
        raise GeoGuessError(f"unknown report format {target.suffix!r}: use .csv, .geojson or .gpx")
