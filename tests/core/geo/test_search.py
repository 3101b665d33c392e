"""Finding a place offline by name (accents, typos, region) and reading typed coordinates."""

from __future__ import annotations

import pytest

from geoguess_app.core.geo import elsewhere, search_index
from geoguess_app.core.geo.search import PlaceSearch, fold, parse_coordinates, shared_search

QUERIES = ("Zürich", "lausane", "München", "paris, texas", "york")


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("Zürich", "Zürich, Zurich, Switzerland"),
        ("zurich", "Zürich, Zurich, Switzerland"),  # without its accent
        ("sao paulo", "São Paulo, Brazil"),
        ("lausane", "Lausanne, Vaud, Switzerland"),  # a typo
        ("reykjavík", "Reykjavík, Capital Region, Iceland"),
        ("paris, texas", "Paris, Texas, United States"),  # the region picks among namesakes
        ("paris", "Paris, Île-de-France, France"),  # else the largest first
        ("lausan", "Lausanne, Vaud, Switzerland"),  # as it is typed
        ("ly", "Lyon, Auvergne-Rhône-Alpes, France"),  # as you type: own names before other-language ones
        ("München", "Munich, Bavaria, Germany (München)"),  # a name in another language
        ("munchen", "Munich, Bavaria, Germany (Munchen)"),  # as it was typed
        ("Мюнхен", "Munich, Bavaria, Germany (Мюнхен)"),  # in another script
        ("geneva", "Genève, Geneva, Switzerland (Geneva)"),  # before Geneva, Illinois: the larger first
        ("Genf", "Genève, Geneva, Switzerland (Genf)"),  # GeoNames' own name is the local one
        ("cologne", "Köln, North Rhine-Westphalia, Germany (Cologne)"),  # before the smaller Colognes
    ],
)
def test_places_are_found_as_people_type_them(query, found):
    assert shared_search().search(query)[0].name == found


def test_a_place_has_its_position_and_nothing_is_found_for_nonsense():
    zurich = shared_search().search("Zürich")[0]
    assert zurich.lat == pytest.approx(47.37, abs=0.01) and zurich.lon == pytest.approx(8.55, abs=0.01)
    assert shared_search().search("qqqxxzzqq") == [] and shared_search().search("  ") == []
    assert fold("Île-de-France") == "ile de france"


def test_the_index_is_built_once_then_read_back_alike_and_a_damaged_one_is_built_again(tmp_path, monkeypatch):
    first = PlaceSearch(tmp_path)
    expected = [first.search(q) for q in QUERIES]
    (kept,) = tmp_path.glob("place-search-*.npz")  # built in another process, kept in the cache folder

    def not_again():
        raise AssertionError("the kept index was built again")

    monkeypatch.setattr(search_index, "build", not_again)
    again = PlaceSearch(tmp_path)
    assert [again.search(q) for q in QUERIES] == expected  # read back: the same places, names, order
    assert again.places_in(45.8, 5.9, 47.8, 10.5, 8) == first.places_in(45.8, 5.9, 47.8, 10.5, 8)

    monkeypatch.undo()
    kept.write_bytes(kept.read_bytes()[: kept.stat().st_size // 2])  # cut short (a full disk, a kill)
    assert [PlaceSearch(tmp_path).search(q) for q in QUERIES] == expected
    assert search_index.load(kept).names  # whole again
    kept.write_bytes(b"")
    assert PlaceSearch(tmp_path).search("Zürich") == expected[0]


def test_without_a_worker_process_the_index_is_built_here(tmp_path, monkeypatch):
    def refused(*args, **kwargs):
        raise OSError("no processes here")

    monkeypatch.setattr(elsewhere.concurrent.futures, "ProcessPoolExecutor", refused)
    assert PlaceSearch(tmp_path).search("Zürich")[0].name == "Zürich, Zurich, Switzerland"
    assert list(tmp_path.glob("place-search-*.npz"))  # and kept for the next start


@pytest.mark.parametrize(
    "text",
    [
        "46.5197, 6.6323",
        "46.5197 6.6323",
        "46.5197 N 6.6323 E",
        "46.5197N, 6.6323E",
        "6.6323 E 46.5197 N",  # longitude first, said so
        "46°31.182'N 6°37.938'E",
        "46°31'10.9\"N 6°37'56.3\"E",
        "46 31 10.9 N 6 37 56.3 E",
    ],
)
def test_coordinates_in_the_common_forms(text):
    lat, lon = parse_coordinates(text)
    assert lat == pytest.approx(46.5197, abs=1e-4) and lon == pytest.approx(6.6323, abs=1e-4)


def test_southern_and_western_coordinates_and_what_is_not_coordinates():
    assert parse_coordinates("33.8688 S, 151.2093 E") == pytest.approx((-33.8688, 151.2093))
    assert parse_coordinates("-33.8688, -70.5") == pytest.approx((-33.8688, -70.5))
    assert parse_coordinates("40°42'46\"N 74°0'22\"W") == pytest.approx((40.7128, -74.0061), abs=1e-4)
    for text in ("Lausanne", "91, 10", "10, 181", "12", "46°61'N 6°E", ""):
        assert parse_coordinates(text) is None, text
