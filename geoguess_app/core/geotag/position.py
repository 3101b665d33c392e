"""What GeoGuess writes into a photo: the position (GeoTag) and its provenance, as ExifTool values.

GPSVersionID 2.3.0.0, GPSLatitude/Ref, GPSLongitude/Ref, GPSMapDatum WGS-84, GPSHPositioningError
(the 90% radius of a fused answer, or half the diagonal of the predicted S2 cell),
GPSProcessingMethod saying it is a GeoGuess prediction, a position taken from GPS data or one a
person set, and an XMP provenance record in the GeoGuess namespace (model, untrained or not,
verified against the published files or not, cell token, probability, rank, source, evidence, the
photo's own guess, software, date).

A position a person set in the window (typed coordinates, a searched place, the pin placed on the
map: ``GeoTag.set_by_person``) is no prediction: its record says who set it and how (Predicted
False, Source, the searched place's name), with no model, probability, rank or cell, and no error
radius unless the person gave one; a prediction's tags an earlier write left are removed.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass

from ... import __version__
from ..fusion.evidence import MEASURED
from .metadata import PROCESSING_METHOD

#: What a person used to set a position (GeoTag.source), as the photo's record says it.
SET_BY_PERSON = {"typed": "typed coordinates", "searched": "a searched place", "pin": "the pin placed on the map"}
#: The provenance tags only a prediction has (a position a person set removes them).
PREDICTION_ONLY = (
    "Model",
    "Untrained",
    "Verified",
    "Adjusted",
    "Probability",
    "Rank",
    "Precision",
    "CellToken",
    "SingleLatitude",
    "SingleLongitude",
    "SingleProbability",
)


@dataclass(frozen=True)
class GeoTag:
    lat: float
    lon: float
    accuracy_m: float | None  # the error radius; None: none known (a position a person set)
    model: str
    untrained: bool
    token: str
    probability: float
    rank: int
    adjusted: bool = False  # moved by hand from the predicted cell's position
    verified: bool = False  # the model's files are the published ones
    source: str = "model"  # what placed it: model, fused, track or interpolated (see core/fusion)
    evidence: tuple[str, ...] = ()  # what moved it from the photo's own guess, for people
    single: tuple[float, float, float] | None = None  # the photo's own top guess: lat, lon, probability
    precision: str = "exact"  # "fast": the model ran in bfloat16 (--precision fast)
    place: str = ""  # the name of the place a person searched for (source "searched")

    @classmethod
    def from_guess(cls, guess, model_info) -> GeoTag:
        return cls(
            lat=guess.lat,
            lon=guess.lon,
            accuracy_m=guess.cell_size_km * 1000 * math.sqrt(2) / 2,
            model=model_info.name,
            untrained=model_info.untrained,
            token=guess.token,
            probability=guess.probability,
            rank=guess.rank,
            verified=model_info.verified,
            precision=getattr(model_info, "precision", "exact"),
        )

    @classmethod
    def set_by_person(
        cls, lat: float, lon: float, how: str, place: str = "", accuracy_m: float | None = None
    ) -> GeoTag:
        """A position a person set: ``how`` is typed, searched or pin (see SET_BY_PERSON); no model
        placed it, and it has no error radius unless the person gave one."""
        if how not in SET_BY_PERSON:
            raise ValueError(f"a position a person set is typed, searched or pin, not {how!r}")
        return cls(
            lat=lat,
            lon=lon,
            accuracy_m=accuracy_m,
            model="",
            untrained=False,
            token="",
            probability=1.0,
            rank=0,
            source=how,
            place=place if how == "searched" else "",
        )

    @property
    def by_person(self) -> bool:
        """Set by a person (typed, searched, the pin), not predicted."""
        return self.source in SET_BY_PERSON

    @classmethod
    def from_answer(cls, answer, model_info, token: str) -> GeoTag:
        """A fused answer (core/fusion): its position, its 90% radius as the accuracy."""
        return cls(
            lat=answer.position[0],
            lon=answer.position[1],
            accuracy_m=answer.radius_km * 1000,
            model=model_info.name,
            untrained=model_info.untrained and not answer.measured,
            token=token,
            probability=answer.probability if answer.probability is not None else 1.0,
            rank=1,
            verified=model_info.verified,
            source=answer.source,
            evidence=tuple(answer.evidence),
            single=answer.single,
            precision=getattr(model_info, "precision", "exact"),
        )

    @property
    def processing_method(self) -> str:
        """GPSProcessingMethod: a prediction, or a position GeoGuess took from GPS data."""
        if self.source == "track":
            return "GeoGuess, from a GPS track: not a prediction"
        if self.source == "interpolated":
            return "GeoGuess, between GPS positions of other photos: not a prediction"
        if self.source == "near_gps":  # before the first GPS photo, after the last: not between them
            return "GeoGuess, from the GPS position of a photo taken close in time: not a prediction"
        if self.by_person:
            return f"GeoGuess, set by a person ({SET_BY_PERSON[self.source]}): not a prediction"
        return PROCESSING_METHOD


def _accuracy(tag: GeoTag) -> str | None:
    return f"{tag.accuracy_m:.1f}" if tag.accuracy_m is not None else None


def exif_values(tag: GeoTag) -> dict[str, str | None]:
    """ExifTool assignments (numeric values, -n) for the GPS position (None: the tag is removed)."""
    return {
        "GPS:GPSVersionID": "2 3 0 0",
        "GPS:GPSLatitudeRef": "N" if tag.lat >= 0 else "S",
        "GPS:GPSLatitude": f"{abs(tag.lat):.8f}",
        "GPS:GPSLongitudeRef": "E" if tag.lon >= 0 else "W",
        "GPS:GPSLongitude": f"{abs(tag.lon):.8f}",
        "GPS:GPSMapDatum": "WGS-84",
        "GPS:GPSHPositioningError": _accuracy(tag),
        "GPS:GPSProcessingMethod": tag.processing_method,
    }


def video_values(tag: GeoTag) -> dict[str, str | None]:
    """A video's position, where phones put it and Photos apps read it: QuickTime Keys (Apple's
    and Android's ``com.apple.quicktime.location.ISO6709``) and UserData ``©xyz``; the processing
    method and accuracy in the XMP ExifTool adds (videos have no EXIF GPS block)."""
    where = f"{tag.lat:.8f} {tag.lon:.8f}"
    return {
        "Keys:GPSCoordinates": where,
        "UserData:GPSCoordinates": where,
        "XMP-exif:GPSLatitude": f"{tag.lat:.8f}",
        "XMP-exif:GPSLongitude": f"{tag.lon:.8f}",
        "XMP-exif:GPSMapDatum": "WGS-84",
        "XMP-exif:GPSHPositioningError": _accuracy(tag),
        "XMP-exif:GPSProcessingMethod": tag.processing_method,
    }


def sidecar_values(tag: GeoTag) -> dict[str, str | None]:
    return {
        "XMP-exif:GPSLatitude": f"{tag.lat:.8f}",
        "XMP-exif:GPSLongitude": f"{tag.lon:.8f}",
        "XMP-exif:GPSMapDatum": "WGS-84",
        "XMP-exif:GPSHPositioningError": _accuracy(tag),
        "XMP-exif:GPSProcessingMethod": tag.processing_method,
    }


def xmp_values(tag: GeoTag) -> dict[str, str | None]:
    """The provenance record (None: the tag is removed, should an earlier write have left it)."""
    p = "XMP-geoguess:"
    if tag.by_person:
        return _set_by_person(tag)
    values: dict[str, str | None] = {
        p + "Predicted": "True",
        p + "Model": tag.model,
        p + "Untrained": "True" if tag.untrained else "False",
        p + "Verified": "True" if tag.verified else "False",
        p + "Adjusted": "True" if tag.adjusted else "False",
        p + "Source": tag.source,
        p + "Software": f"GeoGuess {__version__}",
        p + "Date": datetime.datetime.now(datetime.UTC).strftime("%Y:%m:%d %H:%M:%S+00:00"),
    }
    if tag.source not in MEASURED:  # a position taken from GPS data has no probability
        values[p + "Probability"] = f"{tag.probability:.6f}"
        values[p + "Rank"] = str(tag.rank)
    if tag.precision != "exact" and tag.source not in MEASURED:
        values[p + "Precision"] = tag.precision  # bfloat16 answers: said in the photo too
    if tag.token:  # none for a position taken from GPS data
        values[p + "CellToken"] = tag.token
    if tag.evidence:
        values[p + "Evidence"] = "; ".join(tag.evidence)
    if tag.single is not None and tag.source != "model":
        values[p + "SingleLatitude"] = f"{tag.single[0]:.6f}"
        values[p + "SingleLongitude"] = f"{tag.single[1]:.6f}"
        values[p + "SingleProbability"] = f"{tag.single[2]:.6f}"
    values[p + "Place"] = None  # a name only a position a person searched for has
    return values


def _set_by_person(tag: GeoTag) -> dict[str, str | None]:
    """The record of a position a person set: who set it and how, nothing of a prediction."""
    p = "XMP-geoguess:"
    values: dict[str, str | None] = {
        p + "Predicted": "False",
        p + "Source": tag.source,
        p + "Place": tag.place or None,
        p + "Evidence": "; ".join(tag.evidence) if tag.evidence else None,
        p + "Software": f"GeoGuess {__version__}",
        p + "Date": datetime.datetime.now(datetime.UTC).strftime("%Y:%m:%d %H:%M:%S+00:00"),
    }
    values.update({p + name: None for name in PREDICTION_ONLY})
    return values
