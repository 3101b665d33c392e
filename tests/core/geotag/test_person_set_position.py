"""A position a person set (typed coordinates, a searched place, the pin placed on the map) is
written as set by a person, never as a prediction: its own processing method, no probability, rank,
cell or error radius, and GeoGuess still knows it as its own write (refusal to replace it, undo)."""

from __future__ import annotations

import subprocess

import pytest
from helpers import copy_photo, geotag

from geoguess_app.core.geotag.journal import Journal
from geoguess_app.core.geotag.metadata import GeotagRefused, is_geoguess_tagged, read_metadata
from geoguess_app.core.geotag.position import GeoTag, exif_values, xmp_values
from geoguess_app.core.geotag.undo import UndoScope, undo
from geoguess_app.core.geotag.writer import PhotoWriter

D90 = "metadata-extractor-images/jpg/Nikon D90.jpg"
PREDICTION_TAGS = ("Probability", "Rank", "CellToken", "Model", "Untrained", "Verified", "Adjusted", "Precision")


def test_a_person_set_position_says_who_set_it_and_nothing_of_a_prediction():
    searched = GeoTag.set_by_person(46.5197, 6.6323, "searched", place="Lausanne, Vaud, Switzerland")
    exif, xmp = exif_values(searched), xmp_values(searched)
    assert exif["GPS:GPSProcessingMethod"] == "GeoGuess, set by a person (a searched place): not a prediction"
    assert exif["GPS:GPSHPositioningError"] is None  # no radius: none was given
    assert xmp["XMP-geoguess:Predicted"] == "False" and xmp["XMP-geoguess:Source"] == "searched"
    assert xmp["XMP-geoguess:Place"] == "Lausanne, Vaud, Switzerland"
    for name in PREDICTION_TAGS:  # not written, and removed should an earlier prediction have left them
        assert xmp[f"XMP-geoguess:{name}"] is None, name
    typed = GeoTag.set_by_person(46.5, 6.6, "typed", accuracy_m=30.0)  # a radius the person gave
    assert exif_values(typed)["GPS:GPSHPositioningError"] == "30.0"
    assert "typed coordinates" in typed.processing_method and "prediction" not in GeoTag.set_by_person(
        1, 2, "pin"
    ).processing_method.replace("not a prediction", "")
    with pytest.raises(ValueError):
        GeoTag.set_by_person(1, 2, "model")
    # a prediction stays a prediction, and leaves no place name of an earlier typed position
    predicted = xmp_values(geotag())
    assert predicted["XMP-geoguess:Predicted"] == "True" and predicted["XMP-geoguess:Rank"] == "1"
    assert predicted["XMP-geoguess:Place"] is None


@pytest.mark.parametrize("how", ["typed", "searched", "pin"])
def test_a_person_set_position_is_written_known_as_geoguess_own_and_undone_byte_for_byte(
    how, corpus_dir, tmp_path, exiftool_cli
):
    photo = copy_photo(corpus_dir / D90, tmp_path / "d90.jpg")
    original = photo.read_bytes()
    journal = Journal(tmp_path / "journal.jsonl")
    tag = GeoTag.set_by_person(-33.8568, 151.2153, how, place="Sydney, New South Wales, Australia")
    PhotoWriter(journal).write_gps(photo, tag)
    tags = read_metadata(photo)
    assert tags["Composite:GPSLatitude"] == pytest.approx(-33.8568, abs=1e-6)
    assert tags["GPS:GPSProcessingMethod"].startswith("GeoGuess, set by a person (")
    assert "GPS:GPSHPositioningError" not in tags
    assert tags["XMP-geoguess:Source"] == how
    assert not any(f"XMP-geoguess:{name}" in tags for name in PREDICTION_TAGS)
    assert is_geoguess_tagged(tags)  # GeoGuess's own write: not replaced unasked, and undone
    with pytest.raises(GeotagRefused, match="GeoGuess already wrote a position into it"):
        PhotoWriter(journal).write_gps(photo, tag)
    outcomes = list(undo(journal, UndoScope(paths=[photo])))
    assert [o.status for o in outcomes] == ["restored"] and photo.read_bytes() == original


def test_a_typed_position_over_a_prediction_keeps_none_of_the_prediction(corpus_dir, tmp_path, exiftool_cli):
    photo = copy_photo(corpus_dir / D90, tmp_path / "d90.jpg")
    original = photo.read_bytes()
    journal = Journal(tmp_path / "journal.jsonl")
    PhotoWriter(journal).write_gps(photo, geotag())
    PhotoWriter(journal).write_gps(photo, GeoTag.set_by_person(48.1372, 11.5756, "typed"), overwrite_gps=True)
    tags = read_metadata(photo)
    assert tags["XMP-geoguess:Source"] == "typed" and tags["XMP-geoguess:Predicted"] in (False, 0, "False")
    assert not any(f"XMP-geoguess:{name}" in tags for name in PREDICTION_TAGS)
    assert "GPS:GPSHPositioningError" not in tags
    # another program edits the photo since: undo goes by the tags, and knows the write as GeoGuess's
    subprocess.run(
        [exiftool_cli, "-q", "-q", "-overwrite_original", "-XMP-dc:Subject+=edited-later", str(photo)], check=True
    )
    outcomes = list(undo(journal, UndoScope(paths=[photo])))
    assert [o.status for o in outcomes] == ["restored", "restored"], outcomes
    after = read_metadata(photo)
    assert not any(k.startswith(("XMP-geoguess:", "GPS:GPSLatitude")) for k in after)
    assert "edited-later" in str(after.get("XMP-dc:Subject"))  # the other program's edit stays
    assert photo.read_bytes() != original
