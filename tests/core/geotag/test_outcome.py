"""What each photo's outcome says, and the facts the writer and ExifTool's config must share."""

from __future__ import annotations

import json

from geoguess_app.core.geotag.metadata import NAMESPACE_BYTES, NAMESPACE_URI
from geoguess_app.core.geotag.outcome import REFUSED, WRITTEN, Status, TagOutcome, write_one
from geoguess_app.core.geotag.writer import GeoTag, PhotoWriter
from geoguess_app.resources import resources_dir


def test_statuses_print_and_serialise_as_their_words():
    assert f"{Status.WOULD_WRITE:>11}|" == "would write|" and f"{Status.WRITTEN:>11}|" == "    written|"
    assert json.dumps({"status": Status.REFUSED}) == '{"status": "refused"}'
    assert TagOutcome("a.jpg", WRITTEN).summary == "written"
    assert (
        TagOutcome("a.jpg", REFUSED, "it already has a GPS position").summary
        == "refused: it already has a GPS position"
    )


def test_the_namespace_is_the_one_exiftool_is_configured_with():
    config = (resources_dir() / "exiftool" / "geoguess.config").read_text()
    assert f"'geoguess' => '{NAMESPACE_URI}'" in config
    assert NAMESPACE_BYTES in NAMESPACE_URI.encode()


def test_one_write_says_written_or_refused_with_the_reason(tmp_path, corpus_dir, tiny_model, exiftool_cli):
    from helpers import copy_photo

    from geoguess_app.core.predict.pipeline import Predictor

    photo = copy_photo(corpus_dir / "Pillow/Tests/images/hopper.jpg", tmp_path / "hopper.jpg")
    result = Predictor(tiny_model, top_k=1).predict(photo)
    tag = GeoTag.from_guess(result.predictions[0], result.model)
    first = write_one(PhotoWriter(None), photo, tag, where="here")
    assert first.status == WRITTEN and first.message == "here" and not first.failed
    has_gps = copy_photo(corpus_dir / "exiv2/test/data/exiv2-bug2565.jpg", tmp_path / "has-gps.jpg")
    before = has_gps.read_bytes()
    refused = write_one(PhotoWriter(None), has_gps, tag)
    assert refused.status == REFUSED and refused.failed and "GPS" in refused.message
    assert has_gps.read_bytes() == before
    missing = write_one(PhotoWriter(None), tmp_path / "gone.jpg", tag)
    assert missing.failed and missing.message


def test_a_missing_exiftool_stops_the_run_instead_of_refusing_each_photo(tmp_path, corpus_dir, tiny_model_dir):
    import os
    import subprocess
    import sys
    from pathlib import Path

    from helpers import copy_photo

    photo = copy_photo(corpus_dir / "Pillow/Tests/images/hopper.jpg", tmp_path / "hopper.jpg")
    before = photo.read_bytes()
    env = {**os.environ, "GEOGUESS_EXIFTOOL": str(tmp_path / "no-such-program")}
    run = subprocess.run(
        [
            Path(sys.executable).parent / "geoguess",
            "tag",
            "--write",
            "--allow-untrained",
            "--min-probability",
            "0",
            "--model-dir",
            tiny_model_dir,
            "--journal",
            tmp_path / "j.jsonl",
            photo,
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert run.returncode == 2 and "GEOGUESS_EXIFTOOL is set to" in run.stderr
    assert "refused" not in run.stdout and photo.read_bytes() == before
