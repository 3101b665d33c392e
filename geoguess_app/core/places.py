"""Offline place names ("Roppongi, Tokyo, Japan") from the reverse-geocode package.

reverse-geocode ships the GeoNames cities data (places of 1,000+ people) and finds the nearest one.
Loading it takes about half a second, so it is loaded once, on first use or by ``warm_up()`` in the
background while the model loads.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from .cells import great_circle_km

#: Beyond this distance from the nearest known place, the name is given as "near ...".
NEAR_KM = 25.0


@dataclass(frozen=True)
class Place:
    name: str  # "Roppongi, Tokyo, Japan", or "near Takoradi, Western, Ghana" when far away
    distance_km: float  # from the queried point to the named place


class Places:
    def __init__(self):
        self._lock = threading.Lock()
        self._data = None

    def _geocoder(self):
        with self._lock:
            if self._data is None:
                import reverse_geocode  # noqa: PLC0415 - slow import, data load on first use

                self._data = reverse_geocode.GeocodeData()
            return self._data

    def warm_up(self) -> threading.Thread:
        thread = threading.Thread(target=self._geocoder, name="geoguess-places", daemon=True)
        thread.start()
        return thread

    def lookup(self, points: list[tuple[float, float]]) -> list[Place]:
        if not points:
            return []
        data = self._geocoder()
        with self._lock:  # the library mutates its result records
            found = [dict(r) for r in data.query(points)]
        places = []
        for (lat, lon), rec in zip(points, found):
            parts = []
            for key in ("city", "state", "country"):
                value = (rec.get(key) or "").strip()
                if value and value not in parts:
                    parts.append(value)
            distance = great_circle_km(lat, lon, rec["latitude"], rec["longitude"])
            name = ", ".join(parts) or "unknown place"
            places.append(Place(name if distance <= NEAR_KM else f"near {name}", distance))
        return places


_shared = Places()


def shared_places() -> Places:
    return _shared
