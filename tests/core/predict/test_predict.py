"""Ranked guesses: order, top-k, place names, EXIF GPS distances, generator behaviour."""

from __future__ import annotations

import numpy as np
import pytest

from geoguess_app.core.engine import open_engine, predictor_while_loading
from geoguess_app.core.geo.places import Places
from geoguess_app.core.predict.decoding import decode_plan
from geoguess_app.core.predict.pipeline import Predictor


def test_top_k_is_sorted_and_described(full_model, corpus_dir):
    result = Predictor(full_model, top_k=5).predict(corpus_dir / "exif-samples/heic/IMG_5195.HEIC")
    assert result.ok and len(result.predictions) == 5
    probs = [g.probability for g in result.predictions]
    assert probs == sorted(probs, reverse=True) and [g.rank for g in result.predictions] == [1, 2, 3, 4, 5]
    for g in result.predictions:
        assert g.token == full_model.grid.tokens[g.cls]
        assert (g.lat, g.lon) == (full_model.grid.lats[g.cls], full_model.grid.lons[g.cls])
        assert g.place and len(g.corners) == 4 and g.cell_size_km > 0
    # the photo's own GPS (Kansas City area) and each guess's distance from it
    assert result.exif_gps.lat == pytest.approx(39.0513444, abs=1e-5)
    assert result.exif_gps.lon == pytest.approx(-94.2887722, abs=1e-5)
    assert all(g.distance_km is not None and 0 <= g.distance_km <= 20040 for g in result.predictions)
    assert result.size == (2566, 3313)


def test_photo_without_gps_has_no_distances(tiny_model, corpus_dir):
    result = Predictor(tiny_model).predict(corpus_dir / "Pillow/Tests/images/hopper.jpg")
    assert result.exif_gps is None and all(g.distance_km is None for g in result.predictions)
    assert result.as_dict()["exif_gps"] is None


def test_top_k_larger_than_the_cell_count(tiny_model, corpus_dir):
    result = Predictor(tiny_model, top_k=1000).predict(corpus_dir / "Pillow/Tests/images/hopper.jpg")
    assert len(result.predictions) == 48
    assert sum(g.probability for g in result.predictions) == pytest.approx(1, abs=1e-4)


def test_place_names_are_offline_and_readable():
    places = Places()
    roppongi, london, ocean = places.lookup([(35.6627, 139.7314), (51.5124, -0.1557), (0.0, -30.0)])
    assert roppongi.name == "Roppongi, Tokyo, Japan"
    assert "London" in london.name and london.name.endswith("United Kingdom")
    assert ocean.name.startswith("near ") and ocean.distance_km > 500  # mid-Atlantic: no town near


def test_many_photos_in_order_with_the_model_still_loading(tiny_model_dir, corpus_dir, ground_truth):
    paths = [corpus_dir / r["path"] for r in ground_truth[:12]]
    results = list(predictor_while_loading(open_engine(tiny_model_dir, "cpu")).predict_many(paths))
    assert [r.path for r in results] == [str(p) for p in paths]
    ok = [r for r in results if r.ok]
    assert len(ok) >= 10
    with_gps = [r for r in ok if r.exif_gps]
    assert with_gps and all(r.predictions[0].distance_km is not None for r in with_gps)


def test_closing_the_generator_stops_the_work(tiny_model, corpus_dir):
    photo = corpus_dir / "Pillow/Tests/images/hopper.jpg"
    consumed = []

    def paths():
        for i in range(1000):
            consumed.append(i)
            yield photo

    gen = Predictor(tiny_model, decoding=decode_plan(workers=1)).predict_many(paths(), prefetch=2)
    first = next(gen)
    gen.close()
    assert first.ok
    assert len(consumed) <= 5  # only the photos queued ahead (batch 1 + 2) and the next one were read


def test_json_record_has_the_documented_fields(tiny_model, corpus_dir):
    record = Predictor(tiny_model, top_k=3).predict(corpus_dir / "Pillow/Tests/images/hopper.jpg").as_dict()
    assert set(record) == {"path", "predictions", "exif_gps", "taken", "model", "error"}
    assert record["model"]["untrained"] is True and "UNTRAINED" in record["model"]["name"]
    assert record["error"] is None and len(record["predictions"]) == 3
    assert {"rank", "class", "token", "probability", "lat", "lon", "place"} <= set(record["predictions"][0])
    assert isinstance(record["predictions"][0]["class"], int)
    assert np.isclose(sum(p["probability"] for p in record["predictions"]) <= 1, True)
