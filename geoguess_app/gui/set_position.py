"""A position the person set for a photo (the pin dragged, a searched place, typed coordinates),
and what the window says about it. It is written as set by a person (GeoTag.set_by_person), never
as a prediction."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.geo.cells import format_km, great_circle_km
from ..core.geo.places import shared_places
from ..core.geotag.position import SET_BY_PERSON
from ..core.geotag.writer import GeoTag


def describe_pin(lat: float, lon: float, guess) -> str:  # a background thread: the place search
    place = shared_places().lookup([(lat, lon)])[0].name
    away = format_km(great_circle_km(lat, lon, guess.lat, guess.lon))
    return f"Pin moved to {lat:.6f}, {lon:.6f}: {place}, {away} from guess #{guess.rank}. Esc puts it back."


@dataclass(frozen=True)
class SetPosition:
    """A position the person set for the shown photo, and how: the pin dragged ("pin"), a searched
    place ("searched", with its name) or typed coordinates ("typed")."""

    lat: float
    lon: float
    how: str = "pin"
    place: str = ""

    def describe(self) -> str:
        """'46.519700, 6.632300 (Lausanne, Vaud, Switzerland, a searched place)'."""
        how = f"{self.place}, {SET_BY_PERSON[self.how]}" if self.place else SET_BY_PERSON[self.how]
        return f"{self.lat:.6f}, {self.lon:.6f} ({how})"

    def tag(self) -> GeoTag:
        return GeoTag.set_by_person(self.lat, self.lon, self.how, place=self.place)

    def note(self, photos: str = "The photo") -> str:
        """What the photo will record, said before it is written."""
        return (
            f"{photos} will record this position as set by a person ({SET_BY_PERSON[self.how]}), not as a "
            "prediction: no probability, rank, cell or error radius."
        )
