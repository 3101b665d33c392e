"""Reports of a geotagging run: CSV, GeoJSON or GPX."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from xml.sax.saxutils import escape

from ..errors import GeoGuessError
from ..fusion.evidence import MEASURED
from ..names import display_path
from .outcome import TagOutcome
from .position import SET_BY_PERSON


def write_report(outcomes: list[TagOutcome], target: str | Path) -> None:
    """CSV, GeoJSON or GPX, by the file's extension. File names are written as displayed (control
    characters and bytes that are not UTF-8 escaped)."""
    target = Path(target)
    kind = target.suffix.lower()
    rows = [(o, o.guess, display_path(o.path)) for o in outcomes]
    if kind == ".csv":
        with open(target, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(
                [
                    "path",
                    "status",
                    "lat",
                    "lon",
                    "place",
                    "probability",
                    "source",
                    "evidence",
                    "untrained",
                    "verified",
                    "message",
                ]
            )
            for o, g, name in rows:
                w.writerow(
                    [
                        name,
                        o.status,
                        g.lat if g else "",
                        g.lon if g else "",
                        g.place if g else "",
                        f"{g.probability:.6f}" if g and not _measured(o) else "",
                        o.source if g else "",
                        "; ".join(o.evidence),
                        # what the model that placed the photo was; nothing where no model placed it
                        o.untrained if g else "",
                        o.verified if g and o.verified is not None else "",
                        o.message,
                    ]
                )
    elif kind in (".geojson", ".json"):
        features = [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [g.lon, g.lat]},
                "properties": {
                    "path": name,
                    "status": o.status,
                    "place": g.place,
                    "probability": None if _measured(o) else g.probability,
                    "cell": g.token,
                    "untrained": o.untrained,
                    "verified": o.verified,
                    "predicted": o.source in ("model", "fused"),
                    "source": o.source,
                    "evidence": list(o.evidence),
                    "message": o.message,
                },
            }
            for o, g, name in rows
            if g is not None
        ]
        target.write_text(
            json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False, indent=1),
            encoding="utf-8",
        )
    elif kind == ".gpx":

        def label(o: TagOutcome) -> str:
            return " (UNTRAINED model)" if o.untrained else " (UNVERIFIED model)" if o.verified is False else ""

        points = "".join(
            f'  <wpt lat="{g.lat:.7f}" lon="{g.lon:.7f}"><name>{escape(Path(name).name)}</name>'
            f"<desc>{escape(f'{o.status}: {_kind(o)}{_percent(o)}, {g.place}' + label(o))}</desc></wpt>\n"
            for o, g, name in rows
            if g is not None
        )
        target.write_text(
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<gpx version="1.1" creator="GeoGuess" xmlns="http://www.topografix.com/GPX/1/1">\n'
            f"{points}</gpx>\n",
            encoding="utf-8",
        )
    else:
        raise GeoGuessError(f"unknown report format {target.suffix!r}: use .csv, .geojson or .gpx")


def _kind(o: TagOutcome) -> str:
    kinds = {
        "track": "from a GPS track",
        "interpolated": "between GPS photos",
        "near_gps": "from a GPS photo close in time",
        "fused": "predicted (fused)",
        **{how: f"set by a person ({said})" for how, said in SET_BY_PERSON.items()},
    }
    return kinds.get(o.source, "predicted")


def _measured(o: TagOutcome) -> bool:
    """A position from GPS data: it has no probability."""
    return o.source in MEASURED


def _percent(o: TagOutcome) -> str:
    return "" if _measured(o) or o.guess is None else f", {o.guess.probability * 100:.1f}%"
