"""``geoguess tag`` fuses the set: GPS photos place the others, and the provenance says how."""

from __future__ import annotations

import csv
import json
import subprocess

from helpers import STANDIN, copy_photo, run, walk_with_gps

from geoguess_app.core.geo.cells import great_circle_km


def exif(exiftool_cli, photo, *tags):
    out = subprocess.run([exiftool_cli, "-j", "-n", *tags, str(photo)], capture_output=True, text=True)
    return json.loads(out.stdout)[0]


def test_photos_between_gps_photos_are_placed_between_them_with_provenance(
    corpus_dir, tiny_model_dir, tmp_path, exiftool_cli
):
    folder = tmp_path / "walk"
    walk_with_gps(corpus_dir, folder, exiftool_cli, ["DSCN0010.jpg", "DSCN0012.jpg", "DSCN0021.jpg"], ["DSCN0012.jpg"])
    original = (folder / "DSCN0012.jpg").read_bytes()
    journal = tmp_path / "journal.jsonl"
    out = run(
        "tag",
        "--write",
        *STANDIN,
        "--report",
        tmp_path / "r.csv",
        "--journal",
        journal,
        "--model-dir",
        tiny_model_dir,
        folder,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("it has its own GPS position (used to place the others)") == 2
    assert "anchor DSCN0010.jpg 1 min earlier; anchor DSCN0021.jpg 9 min later" in out.stdout

    tags = exif(exiftool_cli, folder / "DSCN0012.jpg", "-GPS:all", "-XMP-geoguess:all")
    a = exif(exiftool_cli, folder / "DSCN0010.jpg", "-GPSLatitude", "-GPSLongitude")
    b = exif(exiftool_cli, folder / "DSCN0021.jpg", "-GPSLatitude", "-GPSLongitude")
    here = (tags["GPSLatitude"], tags["GPSLongitude"])
    ab = great_circle_km(a["GPSLatitude"], a["GPSLongitude"], b["GPSLatitude"], b["GPSLongitude"])
    assert great_circle_km(*here, a["GPSLatitude"], a["GPSLongitude"]) <= ab + 1e-3
    assert tags["GPSProcessingMethod"] == "GeoGuess, between GPS positions of other photos: not a prediction"
    assert tags["Source"] == "interpolated" and tags["Evidence"].startswith("anchor DSCN0010.jpg")
    assert 30 < tags["GPSHPositioningError"] < 1000  # metres: a minute from a GPS photo
    assert {"SingleLatitude", "SingleLongitude", "SingleProbability"} <= set(tags)  # the photo's own guess
    assert "Probability" not in tags  # a position from GPS data is not a probability of the model

    with open(tmp_path / "r.csv", newline="") as f:
        rows = {r["path"].rsplit("/", 1)[-1]: r for r in csv.DictReader(f)}
    assert rows["DSCN0012.jpg"]["source"] == "interpolated" and rows["DSCN0012.jpg"]["untrained"] == "False"

    # GeoGuess's own position is a prediction to the next run, never an anchor
    again = run("predict", "--json", "--model-dir", tiny_model_dir, folder / "DSCN0012.jpg")
    assert json.loads(again.stdout)["exif_gps"]["predicted"] is True
    undone = run("undo", "--journal", journal, "--last")
    assert undone.returncode == 0 and (folder / "DSCN0012.jpg").read_bytes() == original


def test_tag_without_fusion_and_with_a_bad_region(corpus_dir, tiny_model_dir, tmp_path):
    folder = tmp_path / "one"
    folder.mkdir()
    copy_photo(corpus_dir / "metadata-extractor-images/jpg/Nikon D90.jpg", folder / "d90.jpg")
    bad = run("tag", "--model-dir", tiny_model_dir, "--region", "Narnia", folder)
    assert bad.returncode == 2 and "'Narnia' is not a country name" in bad.stderr and bad.stdout == ""
    standin = ["--allow-untrained", "--min-probability", "0"]
    fused = run("tag", *standin, "--model-dir", tiny_model_dir, folder)
    alone = run("tag", "--no-fuse", *standin, "--model-dir", tiny_model_dir, folder)
    assert "would write" in fused.stdout and "would write" in alone.stdout
    assert "fusing 1 photo(s)" in fused.stderr and "fusing" not in alone.stderr
