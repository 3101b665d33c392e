"""A damaged undo journal as a person meets it: a record deleted or wiped, one flipped bit, a file
cut off. Undo uses what still checks out, names every photo it cannot put back, and exits
non-zero only then."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers import copy_photo, geotag
from journal_helpers import D90, copies_of_d90, index, lines_of, run_cli, tags

from geoguess_app.core.geotag.journal import Journal
from geoguess_app.core.geotag.metadata import read_metadata
from geoguess_app.core.geotag.undo import UndoScope, undo
from geoguess_app.core.geotag.writer import PhotoWriter

TAG = geotag(lat=48.8583701, lon=2.2944813, accuracy_m=500, model="journal test", token="47e66fd", probability=0.5)


@pytest.fixture
def three(corpus_dir, tmp_path, exiftool_cli):
    """Three photos written by one run, which ended; their originals and tags."""
    photos, originals = copies_of_d90(corpus_dir, tmp_path, "abc")
    journal = Journal(tmp_path / "journal.jsonl")
    writer = PhotoWriter(journal, command="test")
    writer.prepare_folders(photos)
    for p in photos:
        writer.write_gps(p, TAG)
    writer.finish()
    return photos, originals, journal


@pytest.mark.parametrize("how", ["deleted", "zeroed"])
def test_a_write_record_lost_while_its_mark_survives_is_named_and_restored_by_tags(three, how):
    (a, b, c), originals, journal = three
    lines = lines_of(journal)
    k = index(lines, b"write", b"b.jpg")
    if how == "deleted":
        del lines[k]
    else:  # a page of zeros over the record, as a file system may leave it
        lines[k] = b"\0" * len(lines[k])
    journal.path.write_bytes(b"\n".join(lines))
    listed = run_cli("undo", "--journal", journal.path, "--list")
    assert "3 of 3 photo(s) can be undone" in listed.stdout, listed.stdout
    assert f"{b}" in listed.stdout and "record of write" in listed.stdout and "missing" in listed.stdout
    out = run_cli("undo", "--journal", journal.path, "--all")
    assert out.returncode == 0, out.stdout + out.stderr
    said = {Path(line.split(": ")[0].split()[-1]).name: line for line in out.stdout.splitlines() if ": " in line}
    assert said["b.jpg"].split()[0] == "restored" and "undone from the write's completion mark" in said["b.jpg"]
    assert a.read_bytes() == originals[a][0] and c.read_bytes() == originals[c][0]
    assert tags(b) == originals[b][1]  # every tag as before; b's bytes may differ (rewritten by tags)


def test_a_write_and_its_marks_lost_leave_a_gap_that_names_the_photo(three):
    (a, b, c), originals, journal = three
    lines = [ln for ln in lines_of(journal) if b"/b.jpg" not in ln]  # its record and its done mark
    journal.path.write_bytes(b"\n".join(lines))
    listed = run_cli("undo", "--journal", journal.path, "--list")
    assert listed.returncode == 1, listed.stdout
    assert "write 2 of run" in listed.stdout and "is missing from the journal" in listed.stdout
    assert f"{b}: it carries GeoGuess's position from run" in listed.stdout
    out = run_cli("undo", "--journal", journal.path, "--all")
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert a.read_bytes() == originals[a][0] and c.read_bytes() == originals[c][0]
    assert "NOT restored" in out.stderr and str(b) in out.stderr and "exiftool -XMP-geoguess:all=" in out.stderr
    assert read_metadata(b)["XMP-geoguess:Predicted"] in (True, "True")  # named, never silently left


def positions(record: bytes) -> list[int]:
    """Bytes to damage: spread over the whole record, and a few in each part undo needs."""
    spread = list(range(0, len(record), max(1, len(record) // 60)))
    keys = [b'"path"', b'"sha256"', b'"mtime_ns"', b'"after"', b'"tags"', b'"delta"', b'"sums"', b'"id"']
    near = [record.index(k) + d for k in keys if k in record for d in (1, len(k) + 4, len(k) + 12)]
    return sorted({p for p in spread + near if p < len(record)})


@pytest.mark.parametrize("mark", ["with its mark", "without its mark"])
def test_one_flipped_bit_anywhere_in_a_write_record_loses_nothing(three, mark):
    """Wherever one bit of b's record flips, b is put back: byte for byte, or tag for tag when the
    damage hit the delta or the hash that proves it."""
    (a, b, c), originals, journal = three
    lines = lines_of(journal)
    if mark == "without its mark":  # as after a crash right after the write
        del lines[index(lines, b"done", b"b.jpg")]
    k = index(lines, b"write", b"b.jpg")
    record, written, stat = lines[k], b.read_bytes(), b.stat()
    refused = []
    for i, at in enumerate(positions(record)):
        damaged = bytearray(record)
        damaged[at] ^= 1 << (i % 8)
        journal.path.write_bytes(b"\n".join([*lines[:k], bytes(damaged), *lines[k + 1 :]]))
        b.write_bytes(written)
        os.utime(b, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        outcomes = [o for o in undo(journal, UndoScope(paths=[b]))]
        restored = [o for o in outcomes if o.status == "restored"]
        if [o.status for o in outcomes] != ["restored"]:
            refused.append((at, bytes(damaged[max(0, at - 20) : at + 20]), [o.message for o in outcomes]))
            continue
        assert b.read_bytes() == originals[b][0] or tags(b) == originals[b][1], (at, restored[0].message)
        if b.read_bytes() == originals[b][0]:
            assert b.stat().st_mtime_ns == stat.st_mtime_ns or "modification time was lost" in restored[0].message
    assert refused == []


def test_a_journal_cut_off_mid_file_says_what_is_unaccounted_for(corpus_dir, tiny_model_dir, tmp_path, exiftool_cli):
    folder = tmp_path / "trip"
    folder.mkdir()
    for n in range(31):
        copy_photo(corpus_dir / D90, folder / f"{n:02d}.jpg")
    journal = tmp_path / "journal.jsonl"
    tag = run_cli("tag", "--write", "--no-fuse", "--no-progress", "--allow-untrained", "--min-probability", "0",
                  "--no-cache", "--journal", journal, "--model-dir", tiny_model_dir, folder)  # fmt: skip
    assert tag.stdout.count("written") == 31, tag.stdout + tag.stderr
    data = journal.read_bytes()
    seventh = [i for i in range(len(data)) if data.startswith(b'{"type": "write"', i)][6]
    journal.write_bytes(data[: seventh + 300])  # cut inside the 7th write's record
    listed = run_cli("undo", "--journal", journal, "--list")
    assert listed.returncode == 1, listed.stdout
    # the 7th record is cut: too little of it is left to undo its photo; the 24 after it are gone
    assert "6 of 7 photo(s) can be undone" in listed.stdout
    assert "has no end record" in listed.stdout and "records past the damage" in listed.stdout
    assert "7 write(s) are recorded (1 damaged beyond undo)" in listed.stdout
    assert "24 photo(s) of the 31 photo(s) it was given carry its position without a record" in listed.stdout
    assert "25 photo(s) of this run are unaccounted for" in listed.stdout
    out = run_cli("undo", "--journal", journal, "--all")
    assert out.returncode == 1
    assert sum(line.split()[0] == "restored" for line in out.stdout.splitlines()) == 6
    unaccounted = [line for line in out.stdout.splitlines() if "carries GeoGuess's position from run" in line]
    assert len(unaccounted) == 24 and len({line.split(": ")[0] for line in unaccounted}) == 24
    refused = [line for line in out.stdout.splitlines() if line.split()[0] == "refused"]
    assert len(refused) == 1 and "06.jpg" in refused[0] and "damaged" in refused[0]
