"""Geotagging many photos: predict, decide, write (or say what would be written), report, undo."""

from __future__ import annotations

import csv
import json
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from .errors import GeoGuessError
from .geotag import (GeoTag, GeotagRefused, apply_changes, existing_position, is_geoguess_tagged, photo_format,
                     read_metadata, write_gps)
from .journal import Journal
from .predict import Guess, Predictor

WRITTEN, WOULD_WRITE, SKIPPED, REFUSED, ERROR = "written", "would write", "skipped", "refused", "error"
FAILED = {REFUSED, ERROR}


@dataclass
class TagOutcome:
    path: str
    status: str
    message: str = ""
    guess: Guess | None = None
    untrained: bool = False

    @property
    def failed(self) -> bool:
        return self.status in FAILED


def tag_photos(paths: Iterable[str | Path], predictor: Predictor, write: bool = False, min_probability: float = 0.0,
               overwrite_gps: bool = False, backup: bool = False, keep_mtime: bool = True,
               journal: Journal | None = None, cancel: threading.Event | None = None) -> Iterator[TagOutcome]:
    """One outcome per photo. Photos GeoGuess already tagged are skipped without predicting them,
    so a stopped run can simply be run again."""
    skipped: list[TagOutcome] = []

    def source():
        for path in paths:
            if cancel is not None and cancel.is_set():
                return
            try:
                if is_geoguess_tagged(read_metadata(Path(path))):
                    skipped.append(TagOutcome(str(path), SKIPPED, "already geotagged by GeoGuess"))
                    continue
            except GeoGuessError:
                pass  # the prediction or the write will say what is wrong with it
            yield path

    results = predictor.predict_many(source())
    try:
        for result in results:
            yield from skipped
            skipped.clear()
            yield _decide(result, write, min_probability, overwrite_gps, backup, keep_mtime, journal)
            if cancel is not None and cancel.is_set():
                return
        yield from skipped
    finally:
        results.close()


def _decide(result, write, min_probability, overwrite_gps, backup, keep_mtime, journal) -> TagOutcome:
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
        if write:
            write_gps(result.path, tag, overwrite_gps=overwrite_gps, keep_mtime=keep_mtime, backup=backup,
                      journal=journal)
            return TagOutcome(result.path, WRITTEN, where, guess, untrained)
        photo_format(Path(result.path))
        tags = read_metadata(Path(result.path))
        existing = existing_position(tags)
        if existing and not overwrite_gps and not is_geoguess_tagged(tags):
            raise GeotagRefused(f"it already has a GPS position ({existing}); replacing it needs --overwrite-gps")
        return TagOutcome(result.path, WOULD_WRITE, where, guess, untrained)
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
