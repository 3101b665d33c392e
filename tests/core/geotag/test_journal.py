"""The undo journal never loses a record silently.

A record torn or damaged at any byte is detected and reported with the photo it concerns, never
swallows the next record, and never makes undo crash; undo then says which photos it could not
restore and exits non-zero.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import copy_photo, geotag

from geoguess_app.core.geotag import staged_write
from geoguess_app.core.geotag.journal import Journal, WriteRecord, frame
from geoguess_app.core.geotag.metadata import GeotagRefused, read_metadata
from geoguess_app.core.geotag.undo import UndoScope, undo
from geoguess_app.core.geotag.writer import PhotoWriter

GEOGUESS = Path(sys.executable).parent / "geoguess"
TAG = geotag(lat=48.8583701, lon=2.2944813, accuracy_m=500, model="journal test", token="47e66fd", probability=0.5)
D90 = "metadata-extractor-images/jpg/Nikon D90.jpg"


def record(name: str, n: int) -> dict:
    return WriteRecord(
        id=f"run.{n}",
        run="run",
        time="2026-11-29T10:00:00+00:00",
        kind="photo",
        path=f"/photos/{name}",
        given=None,
        before={"sha256": "a" * 64, "size": 10, "mode": 0o644, "uid": 0, "gid": 0, "mtime_ns": 1},
        after={"sha256": "b" * 64, "size": 12},
        tags={"set": {"GPS:GPSLatitude": "48.85837010"}, "before": {"GPS:GPSLatitude": None}, "added": []},
        delta="eJwLcnQ=",
    ).as_dict()


def lines() -> tuple[bytes, bytes, bytes]:
    return frame(record("a.jpg", 1)), frame(record("b.jpg", 2)), frame(record("c.jpg", 3))


def read(path: Path, data: bytes):
    path.write_bytes(data)
    return Journal(path).read()


def test_records_read_back_exactly_whatever_the_file_name(tmp_path):
    journal = Journal(tmp_path / "j.jsonl")
    odd = ["/photos/a\nb.jpg", "/photos/\udcff\udcfe.jpg", '/photos/"quoted" \\ back.jpg', "/photos/Zürich 東京.jpg"]
    for i, name in enumerate(odd):
        r = record("x.jpg", i)
        r["path"] = name
        journal.append(r)
    data = (tmp_path / "j.jsonl").read_bytes()
    data.decode("utf-8")  # valid UTF-8, one record a line
    assert data.count(b"\n") == len(odd)
    contents = journal.read()
    assert [w.path for w in contents.writes] == odd and contents.damaged == []


def test_a_torn_record_at_every_byte_never_swallows_the_next(tmp_path):
    a, b, c = lines()
    path = tmp_path / "j.jsonl"
    for cut in range(1, len(b)):
        path.write_bytes(a + b[:cut])  # a crash or a full disk while appending b
        Journal(path).append(record("c.jpg", 3))  # the next run appends
        contents = Journal(path).read()
        ids = [w.id for w in contents.writes if not w.origin]  # whole records (a damaged one is salvaged apart)
        if cut == len(b) - 1:  # all but the newline: b is whole
            assert ids == ["run.1", "run.2", "run.3"], cut
            continue
        assert ids == ["run.1", "run.3"], cut
        assert len(contents.damaged) == 1, cut
        damage = contents.damaged[0]
        if b'/photos/b.jpg"' in b[:cut]:
            assert damage.paths == ["/photos/b.jpg"], cut  # the warning names the photo
        assert "damaged" in damage.describe()


@pytest.mark.parametrize("change", ["flip", "invalid-utf8", "newline", "nul"])
def test_a_record_damaged_at_every_byte_is_detected_and_named(tmp_path, change):
    a, b, c = lines()
    path = tmp_path / "j.jsonl"
    for i in range(len(b)):
        bad = bytearray(b)
        bad[i] = {"flip": b[i] ^ 0x04, "invalid-utf8": 0xFF, "newline": 0x0A, "nul": 0x00}[change]
        if bytes(bad) == b:
            continue
        contents = read(path, a + bytes(bad) + c)
        ids = [w.id for w in contents.writes if not w.origin]  # whole records (a damaged one is salvaged apart)
        if i == len(b) - 1:  # only the newline after b: b is whole, and still read
            assert ids == ["run.1", "run.2", "run.3"] and contents.damaged == [], (change, i)
            continue
        assert ids == ["run.1", "run.3"], (change, i, bytes(bad))
        assert contents.damaged, (change, i)
        named = {p for d in contents.damaged for p in d.paths}
        if not (b.index(b'"/photos/b.jpg"') <= i < b.index(b'"/photos/b.jpg"') + len(b'"/photos/b.jpg"')):
            assert "/photos/b.jpg" in named, (change, i)


def test_every_append_starts_on_a_fresh_line(tmp_path):
    path = tmp_path / "j.jsonl"
    path.write_bytes(b'{"type": "write", "id": "torn')  # no newline at the end
    Journal(path).append(record("c.jpg", 3))
    assert path.read_bytes().split(b"\n")[1].startswith(b'{"type": "write"')


@pytest.fixture
def three_written(corpus_dir, tmp_path, exiftool_cli):
    folder = tmp_path / "photos"
    folder.mkdir()
    photos = [copy_photo(corpus_dir / D90, folder / f"{n}.jpg") for n in "abc"]
    originals = {p: p.read_bytes() for p in photos}
    journal = Journal(tmp_path / "journal.jsonl")
    writer = PhotoWriter(journal, command="test")
    for p in photos:
        writer.write_gps(p, TAG)
    return folder, photos, originals, journal


def run_cli(*args):
    return subprocess.run([str(GEOGUESS), *map(str, args)], capture_output=True, text=True, timeout=300)


def test_a_bad_byte_in_a_record_is_reported_and_the_photo_still_undone(three_written):
    folder, (a, b, c), originals, journal = three_written
    data = journal.path.read_bytes()
    lines_ = data.split(b"\n")
    k = next(i for i, ln in enumerate(lines_) if b'"type": "write"' in ln and b"/b.jpg" in ln)
    damaged = bytearray(lines_[k])
    damaged[damaged.index(b'"after"') + 30] = 0xFF  # one bad byte (not UTF-8) inside b's record
    lines_[k] = bytes(damaged)
    journal.path.write_bytes(b"\n".join(lines_))
    listed = run_cli("undo", "--journal", journal.path, "--list")
    assert listed.returncode == 0 and "note: journal line" in listed.stdout and "damaged" in listed.stdout
    out = run_cli("undo", "--journal", journal.path, "--all")
    assert out.returncode == 0 and "Traceback" not in out.stderr
    assert out.stdout.count("restored") == 3 and all(p.read_bytes() == originals[p] for p in (a, b, c))
    assert "journal line" in out.stderr and "what still checks out" in out.stderr  # said, not hidden


def test_a_failed_rename_is_marked_aborted_and_never_blocks_undo(three_written, corpus_dir, monkeypatch):
    folder, photos, originals, journal = three_written
    d = copy_photo(corpus_dir / D90, folder / "d.jpg")
    before = d.read_bytes()

    def refuse(src, dst):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(staged_write.os, "replace", refuse)
    with pytest.raises(GeotagRefused, match="no permission"):
        PhotoWriter(journal).write_gps(d, TAG)
    monkeypatch.undo()
    assert d.read_bytes() == before
    assert not list(folder.glob(".geoguess-tmp-*"))
    states = {w.path: w.state for w in journal.read().writes}
    assert states[str(d)] == "aborted"
    outcomes = list(undo(journal, UndoScope(paths=[folder])))
    assert [o.status for o in outcomes] == ["restored"] * 3
    assert all(p.read_bytes() == originals[p] for p in photos)


def test_a_record_of_geoguess_0_1_is_still_undone(corpus_dir, tmp_path, exiftool_cli):
    photo = copy_photo(corpus_dir / D90, tmp_path / "old.jpg")
    original = read_metadata(photo)
    PhotoWriter(None).write_gps(photo, TAG)  # as 0.1 wrote it, with its journal line below
    tags = read_metadata(photo)
    written = {k: tags[k] for k in tags if k.startswith(("GPS:", "XMP-geoguess:"))}
    old = {
        "id": "18a2b-77",
        "time": 1.0,
        "path": str(photo),
        "before": {k: original.get(k) for k in written},
        "after": {k: str(v) for k, v in written.items()},
    }
    path = tmp_path / "old-journal.jsonl"
    path.write_text(json.dumps(old) + "\n", encoding="utf-8")
    outcomes = list(undo(Journal(path), UndoScope(paths=[photo])))
    assert [o.status for o in outcomes] == ["restored"] and "0.1" in outcomes[0].message, outcomes
    restored = read_metadata(photo)
    assert "XMP-geoguess:Predicted" not in restored and "GPS:GPSLatitude" not in restored
    assert restored["GPS:GPSVersionID"] == original["GPS:GPSVersionID"]


def test_the_journal_file_is_private(tmp_path):
    journal = Journal(tmp_path / "sub" / "j.jsonl")
    journal.append(record("a.jpg", 1))
    assert (os.stat(journal.path).st_mode & 0o777) == 0o600  # it lists the user's photos
