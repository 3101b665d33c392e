"""Geotagging never harms a photo: every corpus file is either written correctly or left as it was.

The checks here are independent of the writer's own: ExifTool (its command line, run over the
whole folder before and after) and Pillow's decoded pixels.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from geoguess_app.core.geotag import GeoTag, GeotagRefused, write_gps
from geoguess_app.core.journal import Journal
from geoguess_app.core.tagging import undo

TAG = GeoTag(lat=-33.8567844, lon=151.2131083, accuracy_m=1234.5, model="test model", untrained=True,
             token="6b12ae3", probability=0.25, rank=1)
IGNORED = ("System:", "Composite:", "ExifTool:ExifToolVersion", "SourceFile", "GPS:", "XMP-geoguess:")
POINTERS = ("Offset", "Offsets", "Start", "ByteCounts", "MediaDataSize")


def exiftool_json(exe, folder: Path) -> dict[str, dict]:
    run = subprocess.run([exe, "-j", "-G1", "-a", "-n", "-struct", "-q", "-q", "-ext", "*", str(folder)],
                         capture_output=True, encoding="utf-8", errors="replace")
    return {Path(d["SourceFile"]).name: d for d in json.loads(run.stdout or "[]")}


def pixels(path: Path):
    try:
        with Image.open(path) as im:
            im.load()
            return np.asarray(im).copy()
    except Exception:  # noqa: BLE001 - not decodable by Pillow: nothing to compare
        return None


def sha1(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()


def as_list(v):
    return [] if v is None else v if isinstance(v, list) else [v]


def test_every_corpus_file_is_written_correctly_or_left_untouched(corpus_dir, manifest, exiftool_cli, tmp_path):
    work = tmp_path / "corpus"
    work.mkdir()
    names = {}
    for i, row in enumerate(manifest):
        src = corpus_dir / row["path"]
        dst = work / f"{i:03d}{src.suffix}"
        shutil.copy2(src, dst)
        names[dst.name] = row["path"]
    before = exiftool_json(exiftool_cli, work)
    hashes = {p.name: sha1(p) for p in work.iterdir()}
    mtimes = {p.name: p.stat().st_mtime_ns for p in work.iterdir()}
    images = {p.name: pixels(p) for p in work.iterdir()}
    written, refused = [], {}
    for path in sorted(work.iterdir()):
        try:
            write_gps(path, TAG)
            written.append(path.name)
        except GeotagRefused as e:
            refused[path.name] = str(e)
    after = exiftool_json(exiftool_cli, work)
    assert len(written) > 300, "most of the corpus should be writable"
    assert sorted(p.name for p in work.iterdir()) == sorted(hashes), "no temporary file left behind"
    for name in written:
        b, a = before[name], after[name]
        where = names[name]
        assert a["Composite:GPSLatitude"] == pytest.approx(TAG.lat, abs=1e-6), where
        assert a["Composite:GPSLongitude"] == pytest.approx(TAG.lon, abs=1e-6), where
        assert a["XMP-geoguess:Predicted"] in (True, 1, "True"), where
        for key, value in b.items():
            if key.startswith(IGNORED) or key == "ExifTool:Warning" or key.endswith(POINTERS):
                continue
            assert key in a, f"{where}: {key} lost"
            assert a[key] == value, f"{where}: {key} changed from {value!r} to {a[key]!r}"
        assert set(as_list(a.get("ExifTool:Warning"))) <= set(as_list(b.get("ExifTool:Warning"))), where
        assert (work / name).stat().st_mtime_ns == mtimes[name], f"{where}: modification time changed"
        if images[name] is not None:
            assert np.array_equal(pixels(work / name), images[name]), f"{where}: pixels changed"
    for name, reason in refused.items():
        assert sha1(work / name) == hashes[name], f"{names[name]} was changed although refused"
        assert len(reason) > 10 and "None" not in reason, (names[name], reason)


def test_existing_gps_is_never_replaced_unless_asked(corpus_dir, tmp_path):
    photo = tmp_path / "has-gps.jpg"
    shutil.copy(corpus_dir / "exiv2/test/data/exiv2-bug2565.jpg", photo)
    original = sha1(photo)
    with pytest.raises(GeotagRefused, match=r"already has a GPS position \(37.78605"):
        write_gps(photo, TAG)
    assert sha1(photo) == original
    write_gps(photo, TAG, overwrite_gps=True)
    from geoguess_app.core.geotag import read_metadata

    tags = read_metadata(photo)
    assert tags["Composite:GPSLatitude"] == pytest.approx(TAG.lat, abs=1e-6)
    assert "GPS:GPSAltitude" not in tags  # the old position's other GPS tags went with it


def test_undo_restores_the_previous_metadata(corpus_dir, tmp_path, exiftool_cli):
    photo = tmp_path / "d90.jpg"
    shutil.copy(corpus_dir / "metadata-extractor-images/jpg/Nikon D90.jpg", photo)
    journal = Journal(tmp_path / "journal.jsonl")
    before = exiftool_json(exiftool_cli, tmp_path)["d90.jpg"]
    write_gps(photo, TAG, journal=journal, backup=True)
    assert (tmp_path / "d90.jpg.geoguess-backup").exists()
    (tmp_path / "d90.jpg.geoguess-backup").rename(tmp_path / "backup.bak")
    outcomes = list(undo(journal))
    assert [(o.status, o.message) for o in outcomes] == [("written", "previous metadata restored")]
    restored = exiftool_json(exiftool_cli, tmp_path)["d90.jpg"]
    for key, value in before.items():
        if key.startswith(("System:", "ExifTool:", "SourceFile")) or key.endswith(POINTERS):
            continue
        assert restored.get(key) == value, key
    assert not [k for k in restored if k.startswith(("XMP-geoguess:", "Composite:GPS"))]
    assert list(undo(journal)) == []  # done once


CHILD = r"""
import sys
from pathlib import Path
from geoguess_app.core.geotag import GeoTag, write_gps
from geoguess_app.core.journal import Journal
tag = GeoTag(lat=48.8583701, lon=2.2944813, accuracy_m=500, model="crash test", untrained=True,
             token="47e66fd", probability=0.5, rank=1)
journal = Journal(sys.argv[2])
for path in sorted(Path(sys.argv[1]).glob("*.jpg")):
    write_gps(path, tag, journal=journal)
    print(path.name, flush=True)
"""


@pytest.mark.parametrize("kill_after", [0.3, 0.9, 1.7])
def test_sigkill_in_the_middle_of_a_batch_leaves_every_file_whole(corpus_dir, tmp_path, kill_after, exiftool_cli):
    folder = tmp_path / "batch"
    folder.mkdir()
    sources = ["metadata-extractor-images/jpg/Nikon D90.jpg", "exiv2/test/data/FurnaceCreekInn.jpg",
               "exif-samples/jpg/Kodak_CX7530.jpg", "metadata-extractor-images/jpg/FujiFilm FinePixS2Pro.jpg"]
    originals = {}
    for i in range(16):
        target = folder / f"{i:02d}.jpg"
        shutil.copy(corpus_dir / sources[i % len(sources)], target)
        originals[target.name] = (sha1(target), pixels(target))
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(folder), str(tmp_path / "j.jsonl")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(kill_after)
    child.send_signal(signal.SIGKILL)
    child.wait()
    tags = exiftool_json(exiftool_cli, folder)
    complete = untouched = 0
    for name, (digest, image) in originals.items():
        path = folder / name
        if sha1(path) == digest:
            untouched += 1
            continue
        t = tags[name]  # not the original: then it must be the whole new file
        assert t.get("Composite:GPSLatitude") == pytest.approx(48.8583701, abs=1e-6), name
        assert t.get("XMP-geoguess:Predicted") in (True, 1, "True"), name
        assert "ExifTool:Error" not in t, name
        assert np.array_equal(pixels(path), image), name
        complete += 1
    assert complete + untouched == 16
    leftovers = [p.name for p in folder.iterdir() if p.name not in originals]
    assert all(".geoguess-tmp" in n for n in leftovers)  # at most the copy being written, never in place


def test_sidecar_leaves_the_photo_alone_and_undo_removes_it(corpus_dir, tmp_path, exiftool_cli):
    from geoguess_app.core.geotag import read_metadata, write_sidecar

    photo = tmp_path / "d90.jpg"
    shutil.copy(corpus_dir / "metadata-extractor-images/jpg/Nikon D90.jpg", photo)
    original = sha1(photo)
    journal = Journal(tmp_path / "journal.jsonl")
    side = write_sidecar(photo, TAG, journal=journal)
    assert side == tmp_path / "d90.xmp" and sha1(photo) == original
    tags = exiftool_json(exiftool_cli, tmp_path)["d90.xmp"]
    assert tags["XMP-exif:GPSLatitude"] == pytest.approx(TAG.lat, abs=1e-6)
    assert tags["XMP-exif:GPSLongitude"] == pytest.approx(TAG.lon, abs=1e-6)
    assert tags["XMP-geoguess:Predicted"] in (True, 1, "True")
    assert [o.message for o in undo(journal)] == ["sidecar removed"]
    assert not side.exists() and sha1(photo) == original
    # an existing sidecar keeps everything else it holds
    subprocess.run([exiftool_cli, "-q", "-o", str(side), "-XMP-dc:Title=Holiday", "-XMP-dc:Subject=beach",
                    str(photo)], check=True)
    write_sidecar(photo, TAG)
    tags = read_metadata(side)
    assert tags["XMP-dc:Title"] == "Holiday" and tags["XMP-dc:Subject"] in ("beach", ["beach"])
    assert tags["XMP-exif:GPSLatitude"] == pytest.approx(TAG.lat, abs=1e-6)


def test_sidecar_respects_a_real_gps_position(corpus_dir, tmp_path):
    from geoguess_app.core.geotag import write_sidecar

    photo = tmp_path / "has-gps.jpg"
    shutil.copy(corpus_dir / "exiv2/test/data/exiv2-bug2565.jpg", photo)
    with pytest.raises(GeotagRefused, match="already has a GPS position"):
        write_sidecar(photo, TAG)
    assert not (tmp_path / "has-gps.xmp").exists()
