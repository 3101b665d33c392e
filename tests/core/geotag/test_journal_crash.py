"""The undo journal after what happens in real use rather than to a damaged disk: a write refused
half-way, a crash while a record was being appended, a stretch of zeros across two records. None
of them may raise a false alarm, and none may put one photo's tags into another."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from helpers import geotag
from journal_helpers import copies_of_d90, index, lines_of, run_cli, tags

from geoguess_app.core.errors import WriteRefused
from geoguess_app.core.geotag.journal import Journal, frame, unframe
from geoguess_app.core.geotag.staged_write import StagedWrite
from geoguess_app.core.geotag.undo_listing import list_runs
from geoguess_app.core.geotag.writer import PhotoWriter

PARIS = geotag(lat=48.8583701, lon=2.2944813, accuracy_m=500, model="crash test", token="47e66fd", probability=0.5)
TOKYO = geotag(lat=35.6585805, lon=139.7454329, accuracy_m=500, model="crash test", token="6018b", probability=0.5)


@pytest.fixture
def photos(corpus_dir, tmp_path, exiftool_cli):
    made, originals = copies_of_d90(corpus_dir, tmp_path, "abcd")
    return made, originals, Journal(tmp_path / "journal.jsonl")


def test_a_write_refused_after_its_number_was_taken_raises_no_false_alarm(photos, monkeypatch):
    """A photo changed while GeoGuess was writing it is refused after the write had its number:
    the run's numbering stays whole, so nothing later calls a record lost."""
    (a, b, c, _), originals, journal = photos
    check = StagedWrite._unchanged_since_staged

    def changed_meanwhile(stage):
        if stage.target.name == "b.jpg":
            raise WriteRefused("it changed while GeoGuess was writing it")
        return check(stage)

    monkeypatch.setattr(StagedWrite, "_unchanged_since_staged", changed_meanwhile)
    writer = PhotoWriter(journal, command="test")
    writer.prepare_folders([a, b, c])
    writer.write_gps(a, PARIS)
    with pytest.raises(WriteRefused):
        writer.write_gps(b, PARIS)
    writer.write_gps(c, PARIS)
    writer.finish()
    monkeypatch.undo()
    summaries, notes = list_runs(journal)
    assert [n.text for n in notes if n.serious] == []
    assert [(s.undoable, s.written) for s in summaries] == [(2, 2)]
    out = run_cli("undo", "--journal", journal.path, "--all")
    assert out.returncode == 0, out.stdout + out.stderr
    assert all(p.read_bytes() == originals[p][0] for p in (a, b, c))


def test_a_crash_while_appending_a_record_is_harmless_once_the_next_run_writes(photos):
    """A record torn by a crash (the photo was not yet replaced: records go first), then a later run
    appends after it: the listing is not alarming, and undo restores everything and exits 0."""
    (a, b, c, d), originals, journal = photos
    first = PhotoWriter(journal, command="test")
    first.prepare_folders([a, b])
    first.write_gps(a, PARIS)
    first.write_gps(b, PARIS)
    first.write_gps(c, PARIS)
    # the process died while appending c's record: a part of it reached the disk, c was not written
    data = journal.path.read_bytes()
    journal.path.write_bytes(data[: data.rindex(b'{"type": "write"') + 400])
    c.write_bytes(originals[c][0])
    second = PhotoWriter(journal, command="test")
    second.prepare_folders([d])
    second.write_gps(d, TOKYO)
    second.finish()
    summaries, notes = list_runs(journal)
    assert [n.text for n in notes if n.serious] == [], [n.text for n in notes]
    assert sorted(s.undoable for s in summaries) == [1, 2]
    out = run_cli("undo", "--journal", journal.path, "--all")
    assert out.returncode == 0, out.stdout + out.stderr
    assert all(p.read_bytes() == originals[p][0] for p in (a, b, c, d))
    again = run_cli("undo", "--journal", journal.path, "--list")
    assert again.returncode == 0, again.stdout + again.stderr


def test_zeros_across_two_records_never_put_one_photos_tags_into_another(photos):
    """A stretch of zeros from inside a's record into b's joins what is left of both on one line:
    b's delta and tags must not be taken as a's. Each photo is put back exactly, or named."""
    (a, b, _, _), originals, journal = photos
    writer = PhotoWriter(journal, command="test")
    writer.prepare_folders([a, b])
    writer.write_gps(a, PARIS)
    writer.write_gps(b, TOKYO)
    writer.finish()
    lines = lines_of(journal)
    ka, kb = index(lines, b"write", b"a.jpg"), index(lines, b"write", b"b.jpg")
    assert kb == ka + 1 or b"done" in lines[ka + 1]
    data = journal.path.read_bytes()
    start = data.index(b'"tags": ', data.index(lines[ka]))  # from a's tags ...
    end = data.index(b'"path": ', data.index(lines[kb])) + 12  # ... into b's name
    journal.path.write_bytes(data[:start] + b"\0" * (end - start) + data[end:])
    written = {"a.jpg": "48.8583", "b.jpg": "35.6585"}
    for w in journal.read().writes:  # what the journal takes as proven of each photo's write is its own
        if "tags" not in w.unproven:
            assert str(w.tags["set"]["GPS:GPSLatitude"]).startswith(written[Path(w.path).name]), w.id
    out = run_cli("undo", "--journal", journal.path, "--all")
    for photo in (a, b):
        exact = photo.read_bytes() == originals[photo][0]
        same_tags = tags(photo) == originals[photo][1]
        named = str(photo) in out.stdout + out.stderr and out.returncode == 1
        assert exact or same_tags or named, (photo.name, out.stdout, out.stderr)
        now = tags(photo)
        assert now.get("GPS:GPSLatitude") in (None, originals[photo][1].get("GPS:GPSLatitude")) or named
    assert "Traceback" not in out.stderr


def test_run_lists_are_read_only(photos):
    """Listing what can be undone changes nothing in the journal."""
    (a, _, _, _), _, journal = photos
    writer = PhotoWriter(journal, command="test")
    writer.prepare_folders([a])
    writer.write_gps(a, PARIS)  # the run never records its end: it was killed, as its process is gone
    lines = [frame({**r, "pid": dead_pid()}) if (r := unframe(ln + b"\n")) and r["type"] == "run" else ln + b"\n"
             for ln in journal.path.read_bytes().splitlines()]  # fmt: skip
    journal.path.write_bytes(b"".join(lines))
    before = journal.path.read_bytes()
    listed = run_cli("undo", "--journal", journal.path, "--list")
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert journal.path.read_bytes() == before
    assert "has no end record" not in listed.stdout  # nothing of it is missing


def dead_pid() -> int:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(gone.stdout)
