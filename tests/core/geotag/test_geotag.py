"""Geotagging never harms a photo: every corpus file is either written correctly or left as it was.

The checks here are independent of the writer's own: ExifTool (its command line, run over the
whole folder before and after) and Pillow's decoded pixels.
"""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from helpers import copy_photo, geotag
from PIL import Image

from geoguess_app.core.geotag.journal import Journal
from geoguess_app.core.geotag.metadata import GeotagRefused
from geoguess_app.core.geotag.undo import UndoScope, undo
from geoguess_app.core.geotag.writer import PhotoWriter, write_gps

TAG = geotag()
EVERYTHING = UndoScope(everything=True)
IGNORED = ("System:", "Composite:", "ExifTool:ExifToolVersion", "SourceFile", "GPS:", "XMP-geoguess:")
POINTERS = ("Offset", "Offsets", "Start", "ByteCounts", "MediaDataSize")


def exiftool_json(exe, folder: Path) -> dict[str, dict]:
    run = subprocess.run(
        [exe, "-j", "-G1", "-a", "-n", "-struct", "-q", "-q", "-ext", "*", str(folder)],
        capture_output=True,
        encoding="utf-8",
        errors="replace",
    )
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


def tag_identical(before: dict, after: dict, extra: tuple[str, ...] = ()) -> list[str]:
    """How ``after`` differs from ``before`` in any group of tags ExifTool reads (file-system
    values, ExifTool's own diagnostics and pointers aside; ``extra``: keys allowed to be new or
    different). New ExifTool warnings count."""
    skip = ("System:", "ExifTool:", "SourceFile")

    def same(key: str, a, b) -> bool:  # XMP GPS rationals come back to 7 digits (core/geotag/undo.py)
        if key.startswith("XMP-exif:GPS") and isinstance(a, float) and isinstance(b, (int, float)):
            return abs(a - b) <= 1e-7 * max(1.0, abs(a))
        return a == b

    diffs = [
        f"{k}: {v!r} -> {after.get(k)!r}"
        for k, v in before.items()
        if not k.startswith(skip) and not k.endswith(POINTERS) and k not in extra and not same(k, v, after.get(k))
    ]
    diffs += [
        f"{k} added"
        for k in after
        if k not in before and not k.startswith(skip) and not k.endswith(POINTERS) and k not in extra
    ]
    diffs += [
        f"new warning {w}"
        for w in set(as_list(after.get("ExifTool:Warning"))) - set(as_list(before.get("ExifTool:Warning")))
    ]
    return diffs


@pytest.mark.slow
def test_whole_corpus_is_written_correctly_or_left_untouched_and_undo_restores_every_photo(
    corpus_dir, manifest, exiftool_cli, tmp_path
):
    """All 721 files: each is written (replacing an existing position too) or refused and left
    byte-identical; then another program edits every fifth written photo; then undo restores
    every written photo: byte-identical where GeoGuess's write was the only change, otherwise
    tag-identical in every group with the other program's edit kept, pixels identical."""
    work = tmp_path / "corpus"
    work.mkdir()
    names = {}
    for i, row in enumerate(manifest):
        src = corpus_dir / row["path"]
        dst = work / f"{i:03d}{src.suffix}"
        copy_photo(src, dst)
        names[dst.name] = row["path"]
    assert len(names) == 721
    before = exiftool_json(exiftool_cli, work)
    hashes = {p.name: sha1(p) for p in work.iterdir()}
    mtimes = {p.name: p.stat().st_mtime_ns for p in work.iterdir()}
    images = {p.name: pixels(p) for p in work.iterdir()}
    journal = Journal(tmp_path / "journal.jsonl")
    writer = PhotoWriter(journal)
    written, refused = [], {}
    for path in sorted(work.iterdir()):
        try:
            writer.write_gps(path, TAG, overwrite_gps=True)
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
            if (
                key.startswith(IGNORED)
                or key.startswith("XMP-exif:GPS")
                or key == "ExifTool:Warning"
                or key.endswith(POINTERS)
            ):
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

    written_hashes = {n: sha1(work / n) for n in written}
    # Another program adds a keyword to every fifth written photo after GeoGuess wrote it.
    chosen = [work / n for n in written[::5]]
    subprocess.run(
        [exiftool_cli, "-q", "-q", "-overwrite_original", "-XMP-dc:Subject+=edited-later", *map(str, chosen)],
        capture_output=True,
    )
    edited = {p.name for p in chosen if sha1(p) != written_hashes[p.name]}
    assert len(edited) > 30
    later = exiftool_json(exiftool_cli, work)
    # what the other program changed (the keyword, and its own name as the XMP toolkit)
    edit_keys = {
        n: tuple(k for k in set(later[n]) | set(after[n]) if later[n].get(k) != after[n].get(k)) for n in edited
    }

    outcomes = list(undo(journal, UndoScope(paths=[work])))
    assert sorted(Path(o.path).name for o in outcomes) == sorted(written)
    assert [o for o in outcomes if o.status != "restored"] == []
    final = exiftool_json(exiftool_cli, work)
    byte_identical = [n for n in written if sha1(work / n) == hashes[n]]
    tag_same = []
    for name in written:
        where, f = names[name], final[name]
        assert "XMP-geoguess:Predicted" not in f, f"{where}: still marked as GeoGuess's"
        assert f.get("Composite:GPSLatitude") == before[name].get("Composite:GPSLatitude"), where
        if name in edited:
            assert tag_identical(before[name], f, extra=edit_keys[name]) == [], where
            assert all(
                f.get(k) == later[name].get(k)
                for k in edit_keys[name]
                if not k.startswith("System:") and not k.endswith(POINTERS)
            ), where
            assert "edited-later" in as_list(f.get("XMP-dc:Subject")), f"{where}: the later edit was lost"
            if images[name] is not None:
                assert np.array_equal(pixels(work / name), images[name]), f"{where}: pixels changed"
            tag_same.append(name)
        else:
            assert name in byte_identical, f"{where}: not byte-identical after undo"
            assert (work / name).stat().st_mtime_ns == mtimes[name], f"{where}: modification time not restored"
    print(
        f"\ncorpus: {len(names)} files, {len(written)} written, {len(refused)} refused; undo: "
        f"{len(byte_identical)} byte-identical, {len(tag_same)} tag-identical (edited since)"
    )
    assert len(byte_identical) + len(tag_same) == len(written)
    assert sorted(p.name for p in work.iterdir()) == sorted(hashes), "no temporary file left behind"


def test_existing_gps_is_never_replaced_unless_asked(corpus_dir, tmp_path):
    photo = tmp_path / "has-gps.jpg"
    copy_photo(corpus_dir / "exiv2/test/data/exiv2-bug2565.jpg", photo)
    original = sha1(photo)
    with pytest.raises(GeotagRefused, match=r"already has a GPS position \(37.78605"):
        write_gps(photo, TAG)
    assert sha1(photo) == original
    write_gps(photo, TAG, overwrite_gps=True)
    from geoguess_app.core.geotag.metadata import read_metadata

    tags = read_metadata(photo)
    assert tags["Composite:GPSLatitude"] == pytest.approx(TAG.lat, abs=1e-6)
    assert "GPS:GPSAltitude" not in tags  # the old position's other GPS tags went with it


def test_undo_restores_the_previous_metadata(corpus_dir, tmp_path, exiftool_cli):
    photo = tmp_path / "d90.jpg"
    copy_photo(corpus_dir / "metadata-extractor-images/jpg/Nikon D90.jpg", photo)
    journal = Journal(tmp_path / "journal.jsonl")
    before = exiftool_json(exiftool_cli, tmp_path)["d90.jpg"]
    write_gps(photo, TAG, journal=journal, backup=True)
    assert (tmp_path / "d90.jpg.geoguess-backup").exists()
    (tmp_path / "d90.jpg.geoguess-backup").rename(tmp_path / "backup.bak")
    outcomes = list(undo(journal, EVERYTHING))
    assert [(o.status, o.message) for o in outcomes] == [("restored", "byte-identical to before GeoGuess's write")]
    restored = exiftool_json(exiftool_cli, tmp_path)["d90.jpg"]
    for key, value in before.items():
        if key.startswith(("System:", "ExifTool:", "SourceFile")) or key.endswith(POINTERS):
            continue
        assert restored.get(key) == value, key
    assert not [k for k in restored if k.startswith(("XMP-geoguess:", "Composite:GPS"))]
    assert list(undo(journal, EVERYTHING)) == []  # done once


CHILD = r"""
import sys
from pathlib import Path
from geoguess_app.core.geotag.writer import GeoTag, write_gps
from geoguess_app.core.geotag.journal import Journal
tag = GeoTag(lat=48.8583701, lon=2.2944813, accuracy_m=500, model="crash test", untrained=True,
             token="47e66fd", probability=0.5, rank=1)
journal = Journal(sys.argv[2])
for path in sorted(Path(sys.argv[1]).glob("*.jpg")):
    write_gps(path, tag, journal=journal)
    print(path.name, flush=True)
"""


@pytest.mark.slow
@pytest.mark.parametrize("kill_after", [0.3, 0.9, 1.7])
def test_sigkill_in_the_middle_of_a_batch_leaves_every_file_whole(corpus_dir, tmp_path, kill_after, exiftool_cli):
    folder = tmp_path / "batch"
    folder.mkdir()
    sources = [
        "metadata-extractor-images/jpg/Nikon D90.jpg",
        "exiv2/test/data/FurnaceCreekInn.jpg",
        "exif-samples/jpg/Kodak_CX7530.jpg",
        "metadata-extractor-images/jpg/FujiFilm FinePixS2Pro.jpg",
    ]
    originals = {}
    for i in range(16):
        target = folder / f"{i:02d}.jpg"
        copy_photo(corpus_dir / sources[i % len(sources)], target)
        originals[target.name] = (sha1(target), pixels(target))
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(folder), str(tmp_path / "j.jsonl")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
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
    from geoguess_app.core.geotag.metadata import read_metadata
    from geoguess_app.core.geotag.writer import write_sidecar

    photo = tmp_path / "d90.jpg"
    copy_photo(corpus_dir / "metadata-extractor-images/jpg/Nikon D90.jpg", photo)
    original = sha1(photo)
    journal = Journal(tmp_path / "journal.jsonl")
    side = write_sidecar(photo, TAG, journal=journal)
    assert side == tmp_path / "d90.xmp" and sha1(photo) == original
    tags = exiftool_json(exiftool_cli, tmp_path)["d90.xmp"]
    assert tags["XMP-exif:GPSLatitude"] == pytest.approx(TAG.lat, abs=1e-6)
    assert tags["XMP-exif:GPSLongitude"] == pytest.approx(TAG.lon, abs=1e-6)
    assert tags["XMP-geoguess:Predicted"] in (True, 1, "True")
    assert [o.message for o in undo(journal, EVERYTHING)] == ["sidecar removed (GeoGuess had created it)"]
    assert not side.exists() and sha1(photo) == original
    # an existing sidecar keeps everything else it holds
    subprocess.run(
        [exiftool_cli, "-q", "-o", str(side), "-XMP-dc:Title=Holiday", "-XMP-dc:Subject=beach", str(photo)], check=True
    )
    write_sidecar(photo, TAG)
    tags = read_metadata(side)
    assert tags["XMP-dc:Title"] == "Holiday" and tags["XMP-dc:Subject"] in ("beach", ["beach"])
    assert tags["XMP-exif:GPSLatitude"] == pytest.approx(TAG.lat, abs=1e-6)


def test_sidecar_respects_a_real_gps_position(corpus_dir, tmp_path):
    from geoguess_app.core.geotag.writer import write_sidecar

    photo = tmp_path / "has-gps.jpg"
    copy_photo(corpus_dir / "exiv2/test/data/exiv2-bug2565.jpg", photo)
    with pytest.raises(GeotagRefused, match="already has a GPS position"):
        write_sidecar(photo, TAG)
    assert not (tmp_path / "has-gps.xmp").exists()


@pytest.mark.parametrize(
    "rel",
    [
        "photoprism/assets/examples/giraffe_green_brown.jpg",  # a GPSStatus and no position: kept by the write
        "metadata-extractor-images/jpg/Olympus FE230-X790.jpg",  # XMP GPS rationals, replaced by the write
    ],
)
def test_undo_after_another_program_edited_the_photo_puts_every_tag_back(rel, corpus_dir, tmp_path, exiftool_cli):
    photo = copy_photo(corpus_dir / rel, tmp_path / Path(rel).name)
    before = exiftool_json(exiftool_cli, tmp_path)[photo.name]
    journal = Journal(tmp_path / "journal.jsonl")
    PhotoWriter(journal).write_gps(photo, TAG, overwrite_gps=True)
    subprocess.run(
        [exiftool_cli, "-q", "-q", "-overwrite_original", "-XMP-dc:Subject+=edited-later", str(photo)], check=True
    )
    outcomes = list(undo(journal, UndoScope(paths=[photo])))
    assert [o.status for o in outcomes] == ["restored"], outcomes
    after = exiftool_json(exiftool_cli, tmp_path)[photo.name]
    gps = {k: v for k, v in before.items() if k.startswith(("GPS:", "XMP-exif:GPS"))}
    assert {k: v for k, v in after.items() if k.startswith(("GPS:", "XMP-exif:GPS"))}.keys() == gps.keys()
    for key, value in gps.items():
        assert after[key] == pytest.approx(value, rel=1e-7) if isinstance(value, float) else after[key] == value, key
    assert "edited-later" in as_list(after.get("XMP-dc:Subject"))  # the other program's edit is kept
