"""When a photo was taken (local time, offset from UTC) and the stored distribution, as
`geoguess predict --json --distribution` gives them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from geoguess_app.core.photos.decode import open_photo
from geoguess_app.core.predict.results import STORED_MASS, Distribution

GEOGUESS = Path(sys.executable).parent / "geoguess"
EXIF_IFD = 0x8769


def _photo(path: Path, ifd0: dict | None = None, exif_ifd: dict | None = None) -> Path:
    exif = Image.Exif()
    for tag, value in (ifd0 or {}).items():
        exif[tag] = value
    if exif_ifd:
        exif.get_ifd(EXIF_IFD).update(exif_ifd)
    Image.new("RGB", (64, 48), (120, 140, 160)).save(path, exif=exif)
    return path


def _meta(path: Path):
    photo = open_photo(path)
    photo.image.close()
    return photo.meta


def _taken(path: Path) -> tuple[str | None, str | None]:
    meta = _meta(path)
    return meta.time, meta.utc_offset


def test_time_with_sub_seconds_and_offset(tmp_path):
    photo = _photo(tmp_path / "a.jpg", exif_ifd={0x9003: "2019:07:14 18:03:22", 0x9291: "045", 0x9011: "+09:00"})
    assert _taken(photo) == ("2019-07-14T18:03:22.045", "+09:00")


def test_each_falls_back_in_order(tmp_path):
    digitized = _photo(
        tmp_path / "b.jpg",
        ifd0={0x0132: "2020:01:01 00:00:00"},
        exif_ifd={0x9004: "2019:12:31 23:59:59", 0x9292: "5", 0x9012: "-05:00", 0x9010: "+01:00"},
    )
    assert _taken(digitized) == ("2019-12-31T23:59:59.5", "-05:00")
    changed = _photo(tmp_path / "c.jpg", ifd0={0x0132: "2020:01:01 00:00:00"}, exif_ifd={0x9010: "+01:00"})
    assert _taken(changed) == ("2020-01-01T00:00:00", "+01:00")
    nothing = _photo(tmp_path / "d.jpg")
    assert _taken(nothing) == (None, None)


@pytest.mark.parametrize(
    "written, offset",
    [
        ("2017:08:21 15:08:70", "+25:00"),
        ("0000:00:00 00:00:00", "9:00"),
        ("    :  :     :  :  ", "+05:60"),
        ("junk", ""),
    ],
)
def test_impossible_times_and_offsets_are_no_time(tmp_path, written, offset):
    photo = _photo(tmp_path / "e.jpg", exif_ifd={0x9003: written, 0x9011: offset})
    assert _taken(photo) == (None, None)


def test_an_offset_no_clock_has_is_no_offset(tmp_path):
    """The same bound as `geoguess fuse` (-14:00 to +14:00), so that a line predict writes is one
    fuse reads."""
    photo = _photo(tmp_path / "f.jpg", exif_ifd={0x9003: "2019:07:14 18:03:22", 0x9011: "+14:30"})
    assert _taken(photo) == ("2019-07-14T18:03:22", None)
    photo = _photo(tmp_path / "g.jpg", exif_ifd={0x9003: "2019:07:14 18:03:22", 0x9011: "-14:00"})
    assert _taken(photo) == ("2019-07-14T18:03:22", "-14:00")


def test_offsets_in_the_corpus_read_as_exiftool_reads_them(corpus_dir, manifest, exiftool_cli):
    checked = 0
    for row in manifest:
        path = corpus_dir / row["path"]
        if row["pil_load"] != "ok" or row["format"] not in ("JPEG", "TIFF"):
            continue
        try:
            meta = _meta(path)
        except Exception:  # noqa: BLE001 - a file GeoGuess refuses has no time to compare
            continue
        if not meta.offset:
            continue
        run = subprocess.run(
            [
                exiftool_cli,
                "-j",
                "-EXIF:OffsetTimeOriginal",
                "-EXIF:OffsetTimeDigitized",
                "-EXIF:OffsetTime",
                str(path),
            ],
            capture_output=True,
            text=True,
        )
        tags = json.loads(run.stdout)[0]
        expected = tags.get("OffsetTimeOriginal") or tags.get("OffsetTimeDigitized") or tags.get("OffsetTime")
        assert meta.utc_offset == expected, row["path"]
        checked += 1
    assert checked >= 5


def test_the_stored_distribution_holds_the_mass_or_512_cells():
    rng = np.random.default_rng(3)
    peaked = rng.dirichlet(np.full(15527, 0.01)).astype(np.float32)
    flat = np.full(15527, 1 / 15527, dtype=np.float32)
    for vector in (peaked, flat):
        stored = Distribution.full(vector).stored()
        mass = float(stored.probabilities.sum())
        assert len(stored.classes) == 512 or mass >= STORED_MASS
        assert len(stored.classes) <= 512 and list(stored.probabilities) == sorted(stored.probabilities, reverse=True)
        if len(stored.classes) > 1:  # no more cells than needed
            assert float(stored.probabilities[:-1].sum()) < STORED_MASS
        pairs = json.loads(json.dumps(stored.pairs()))
        back = Distribution.from_pairs(pairs, 15527)
        assert np.array_equal(back.probabilities, stored.probabilities)  # exact float32 round trip
    assert len(Distribution.full(flat).stored().classes) == 512


def test_predict_json_says_when_and_gives_the_distribution(tiny_model_dir, corpus_dir, tmp_path):
    photo = _photo(tmp_path / "dated.jpg", exif_ifd={0x9003: "2021:03:04 05:06:07", 0x9011: "+05:30"})
    (tmp_path / "broken.jpg").write_bytes(b"not a photo")
    out = subprocess.run(
        [
            GEOGUESS,
            "predict",
            "--json",
            "--distribution",
            "--model-dir",
            tiny_model_dir,
            photo,
            tmp_path / "broken.jpg",
        ],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 1  # one photo could not be read
    dated, broken = [json.loads(line) for line in out.stdout.splitlines()]
    assert dated["taken"] == {"time": "2021-03-04T05:06:07", "offset": "+05:30"}
    probabilities = [p for _, p in dated["distribution"]]
    assert probabilities == sorted(probabilities, reverse=True) and sum(probabilities) >= STORED_MASS - 1e-6
    assert dated["distribution"][0][0] == dated["predictions"][0]["class"]
    assert broken["taken"] == {"time": None, "offset": None} and broken["distribution"] == [] and broken["error"]
    plain = subprocess.run(
        [GEOGUESS, "predict", "--json", "--model-dir", tiny_model_dir, photo], capture_output=True, text=True
    )
    assert "distribution" not in json.loads(plain.stdout) and "taken" in json.loads(plain.stdout)
