"""``geoguess evaluate``: a person's own GPS photos as ground truth, positions hidden."""

from __future__ import annotations

import json

from helpers import copy_photo, run


def test_evaluate_on_a_walk_with_gps(corpus_dir, tiny_model_dir, tmp_path):
    folder = tmp_path / "walk"
    folder.mkdir()
    for photo in sorted((corpus_dir / "exif-samples" / "jpg" / "gps").glob("DSCN00*.jpg")):
        copy_photo(photo, folder / photo.name)
    copy_photo(corpus_dir / "metadata-extractor-images/jpg/Nikon D90.jpg", folder / "no-gps.jpg")
    out = run("evaluate", "--json", "--no-progress", "--model-dir", tiny_model_dir, folder)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["with_gps"] == report["photos"] - 1 >= 8 and report["untrained"] is True
    rows = {row["name"]: row for row in report["rows"]}
    assert list(rows) == ["single photo", "fused, no GPS", "fused, GPS of the other half"]
    assert all(row["photos"] == report["with_gps"] for row in rows.values())
    # the photos of one walk, minutes apart: the other half's GPS places each within a kilometre,
    # whatever the (untrained) model says
    assert rows["fused, GPS of the other half"]["within"]["1"] >= 0.8 > rows["single photo"]["within"]["1"]
    blind = run("evaluate", "--json", "--no-progress", "--no-anchors", "--model-dir", tiny_model_dir, folder)
    assert [row["name"] for row in json.loads(blind.stdout)["rows"]] == ["single photo", "fused, no GPS"]
    readable = run("evaluate", "--no-progress", "--model-dir", tiny_model_dir, folder)
    assert "photos have their own GPS position; each was placed with it hidden" in readable.stdout
    assert "UNTRAINED stand-in" in readable.stderr and "say nothing about LocationNet" in readable.stderr


def test_evaluate_without_gps_photos_says_so(corpus_dir, tiny_model_dir, tmp_path):
    copy_photo(corpus_dir / "metadata-extractor-images/jpg/Nikon D90.jpg", tmp_path / "a.jpg")
    out = run("evaluate", "--no-progress", "--model-dir", tiny_model_dir, tmp_path)
    assert out.returncode == 2 and "none of these photos has its own GPS position" in out.stderr
