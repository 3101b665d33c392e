"""`geoguess tag` and `geoguess undo` as a person runs them."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from helpers import GEOGUESS, STANDIN, copy_photo, run

from geoguess_app.core.geotag.journal import Journal
from geoguess_app.core.geotag.metadata import NAMESPACE_BYTES


@pytest.fixture
def photos(corpus_dir, tmp_path, exiftool_cli):
    folder = tmp_path / "photos"
    folder.mkdir()
    copy_photo(corpus_dir / "metadata-extractor-images/jpg/Nikon D90.jpg", folder / "d90.jpg")
    copy_photo(corpus_dir / "exiv2/test/data/exiv2-bug2565.jpg", folder / "has-gps.jpg")
    copy_photo(corpus_dir / "exiv2/test/data/FurnaceCreekInn.jpg", folder / "inn.jpg")  # has GPS too
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff not really")
    return folder


@pytest.fixture(scope="session")
def exiftool_cli():
    exe = shutil.which("exiftool")
    if not exe:
        if os.environ.get("CI"):
            pytest.fail("ExifTool is not installed")
        pytest.skip("ExifTool is not installed")
    return exe


def digests(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_dry_run_changes_nothing_and_says_what_it_would_do(photos, tiny_model_dir, tmp_path):
    before = digests(photos)
    out = run(
        "tag",
        *STANDIN,
        "--model-dir",
        tiny_model_dir,
        "--report",
        tmp_path / "plan.csv",
        "--report",
        tmp_path / "plan.gpx",
        photos,
    )
    assert digests(photos) == before
    assert out.returncode == 1  # broken.jpg is an error
    assert "would write" in out.stdout and "dry run: nothing was changed" in out.stderr
    assert "has-gps.jpg: it has its own GPS position (used to place the others)" in out.stdout
    with open(tmp_path / "plan.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert {r["status"] for r in rows} == {"would write", "skipped", "error"}
    assert all(r["untrained"] == "True" for r in rows if r["lat"])
    assert all(r["untrained"] == r["verified"] == "" for r in rows if not r["lat"])  # no model placed them
    assert "<wpt " in (tmp_path / "plan.gpx").read_text()  # every report asked for, not only the last
    # one photo at a time (--no-fuse): a photo's own GPS is not replaced without --overwrite-gps
    alone = run("tag", "--no-fuse", *STANDIN, "--model-dir", tiny_model_dir, photos)
    assert "already has a GPS position (37.78605" in alone.stdout and digests(photos) == before


def test_write_then_run_again_skips_then_undo(photos, tiny_model_dir, tmp_path, exiftool_cli):
    journal = tmp_path / "journal.jsonl"
    original = (photos / "d90.jpg").read_bytes()
    out = run(
        "tag",
        "--write",
        *STANDIN,
        "--journal",
        journal,
        "--model-dir",
        tiny_model_dir,
        "--report",
        tmp_path / "done.geojson",
        photos,
    )
    assert out.returncode == 1 and out.stdout.count("written") == 1
    geo = json.loads((tmp_path / "done.geojson").read_text())
    assert {f["properties"]["status"] for f in geo["features"]} == {"written"}
    tags = _geotags(exiftool_cli, photos / "d90.jpg")
    assert tags["Predicted"] in (True, "True") and "GPSLatitude" in tags
    again = run("tag", "--write", *STANDIN, "--journal", journal, "--model-dir", tiny_model_dir, photos)
    assert again.stdout.count("already geotagged by GeoGuess") == 1 and "written" not in again.stdout
    unsaid = run("undo", "--journal", journal)  # undo what? It shows what can be undone and asks
    assert unsaid.returncode == 2 and "say what to undo" in unsaid.stderr
    assert "1 of 1 photo(s) can be undone" in unsaid.stdout and str(photos) in unsaid.stdout
    run_id = unsaid.stdout.split()[0]
    assert run_id in out.stderr  # the tag run said how to undo it: geoguess undo --run ID
    undone = run("undo", "--journal", journal, "--last")
    assert undone.returncode == 0 and [ln.split()[0] for ln in undone.stdout.splitlines()] == ["restored"]
    assert "byte-identical" in undone.stdout and (photos / "d90.jpg").read_bytes() == original
    listed = run("undo", "--journal", journal, "--list")
    assert listed.returncode == 0 and "1 photo(s), all undone" in listed.stdout
    again = run("undo", "--journal", journal, "--last")  # the last run again: nothing more, no older run
    assert again.returncode == 0 and again.stdout == "" and "nothing to undo for the last run" in again.stderr
    tags = _geotags(exiftool_cli, photos / "d90.jpg")
    assert "GPSLatitude" not in tags and "Predicted" not in tags


def test_the_stand_in_is_written_only_by_choice_and_the_threshold_is_the_windows(
    photos, tiny_model_dir, tmp_path, corpus_dir
):
    """One policy for the command line and the window: the untrained stand-in's random guesses
    need --allow-untrained (the window asks), and a guess below 50% is left (the window's default)."""
    from geoguess_app.gui.batch_dialog import DEFAULT_THRESHOLD

    before = digests(photos)
    journal = tmp_path / "j.jsonl"
    refused = run("tag", "--write", "--no-fuse", "--journal", journal, "--model-dir", tiny_model_dir, photos)
    said = {Path(line.split(": ")[0].split()[-1]).name: line for line in refused.stdout.splitlines()}
    assert digests(photos) == before and not Journal(journal).read().writes
    assert said["d90.jpg"].split()[0] == "skipped" and "UNTRAINED stand-in: its position is random" in said["d90.jpg"]
    assert "--allow-untrained writes it anyway" in said["d90.jpg"]
    hopper = copy_photo(corpus_dir / "Pillow/Tests/images/hopper.jpg", tmp_path / "hopper.jpg")  # a 14.7% guess
    low = run("tag", "--write", "--no-fuse", "--allow-untrained", "--journal", journal, "--model-dir", tiny_model_dir,
              hopper)  # fmt: skip
    assert low.stdout.split()[0] == "skipped" and f"is below {DEFAULT_THRESHOLD:.1f}%" in low.stdout
    assert not Journal(journal).read().writes and DEFAULT_THRESHOLD == 50.0


def test_min_probability_and_gpx_report(photos, tiny_model_dir, tmp_path):
    out = run(
        "tag",
        "--allow-untrained",
        "--min-probability",
        "0.999",
        "--model-dir",
        tiny_model_dir,
        "--report",
        tmp_path / "r.gpx",
        photos / "d90.jpg",
    )
    assert out.returncode == 0 and "is below 99.9%" in out.stdout
    assert "<wpt " in (tmp_path / "r.gpx").read_text() and "UNTRAINED" in (tmp_path / "r.gpx").read_text()


def test_a_file_with_two_names_in_the_folder_is_written_once(corpus_dir, tiny_model_dir, tmp_path, exiftool_cli):
    folder = tmp_path / "album"
    folder.mkdir()
    copy_photo(corpus_dir / "metadata-extractor-images/jpg/Nikon D90.jpg", folder / "a.jpg")
    os.link(folder / "a.jpg", folder / "b.jpg")
    out = run(
        "tag",
        "--write",
        *STANDIN,
        "--hardlinks",
        "in-place",
        "--journal",
        tmp_path / "j.jsonl",
        "--model-dir",
        tiny_model_dir,
        folder,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.count("written") == 1 and "b.jpg: the same file as" in out.stdout
    assert len(Journal(tmp_path / "j.jsonl").read().writes) == 1


def start_tagging(corpus_dir, tiny_model_dir, tmp_path, marks: str, count: int, fuse: bool = False):
    """``tag --write`` on 40 photos, returned once its journal holds ``count`` lines with ``marks``."""
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(40):
        copy_photo(corpus_dir / "metadata-extractor-images/jpg/Nikon D90.jpg", folder / f"{i:02d}.jpg")
    journal = tmp_path / "j.jsonl"
    proc = subprocess.Popen(
        # without the cache: 40 copies of one photo would otherwise be predicted once, and at once
        [
            str(GEOGUESS),
            "tag",
            "--write",
            *STANDIN,
            "--no-cache",
            # one photo at a time: predicting and writing go on side by side
            *([] if fuse else ["--no-fuse"]),
            "--journal",
            str(journal),
            "--model-dir",
            str(tiny_model_dir),
            str(folder),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 120
    while time.time() < deadline and (not journal.exists() or journal.read_text().count(marks) < count):
        time.sleep(0.02)
    return proc, folder, journal


def test_ctrl_c_stops_cleanly_and_a_rerun_continues(corpus_dir, tiny_model_dir, tmp_path, exiftool_cli):
    proc, folder, journal = start_tagging(corpus_dir, tiny_model_dir, tmp_path, "\n", 3)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "Run the same command again to continue" in err
    first = out.count("written")
    assert 3 <= first < 40
    rest = run("tag", "--write", *STANDIN, "--no-fuse", "--journal", journal, "--model-dir", tiny_model_dir, folder)
    assert rest.stdout.count("already geotagged by GeoGuess") == first
    assert rest.stdout.count("written") == 40 - first


def test_ctrl_c_twice_stops_the_queue_and_reports_every_photo_written(
    corpus_dir, tiny_model_dir, tmp_path, exiftool_cli
):
    proc, folder, journal = start_tagging(corpus_dir, tiny_model_dir, tmp_path, '"type": "done"', 2)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "stopping now" in err
    reported = set(re.findall(r"written  .*/(\d\d\.jpg):", out))
    tagged = {p.name for p in folder.iterdir() if NAMESPACE_BYTES in p.read_bytes()}
    assert reported == tagged and 2 <= len(tagged) < 40, (sorted(reported), sorted(tagged))
    done = Journal(journal).read().writes
    assert {Path(w.path).name for w in done if w.state == "done"} == tagged
    assert [p.name for p in folder.iterdir() if ".geoguess-" in p.name] == []
    summary = re.search(r"(\d+) written", err)
    assert summary and int(summary.group(1)) == len(tagged)


def _geotags(exiftool_cli, photo):
    """GeoGuess's XMP record and the GPS latitude of a photo, as ExifTool reads them."""
    run = subprocess.run(
        [exiftool_cli, "-j", "-n", "-XMP-geoguess:all", "-GPSLatitude", str(photo)], capture_output=True, text=True
    )
    return json.loads(run.stdout)[0]


def test_ctrl_c_while_a_fused_set_is_written_stops_after_the_photo_being_written(
    corpus_dir, tiny_model_dir, tmp_path, exiftool_cli
):
    proc, folder, journal = start_tagging(corpus_dir, tiny_model_dir, tmp_path, '"type": "done"', 2, fuse=True)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "stopping now" in err and "Run the same command again to continue" in err
    first = len(re.findall(r"written  ", out))
    assert 2 <= first < 40 and out.count("not written: stopped before its turn") == 40 - first
    rest = run("tag", "--write", *STANDIN, "--journal", journal, "--model-dir", tiny_model_dir, folder)
    assert rest.stdout.count("already geotagged by GeoGuess") == first
    assert len(re.findall(r"written  ", rest.stdout)) == 40 - first


def test_the_dry_run_refuses_what_the_write_would_refuse(corpus_dir, tiny_model_dir, tmp_path, exiftool_cli):
    """A darktable-edited JPEG whose edit history ExifTool would drop, and a JPEG ExifTool cannot
    write: the dry run said "would write" for both; it now makes and checks the new version too."""
    folder = tmp_path / "edited"
    folder.mkdir()
    for rel in ("photoprism/internal/meta/testdata/ladybug.jpg", "exiv2/test/data/exiv2-bug855.jpg"):
        copy_photo(corpus_dir / rel, folder / Path(rel).name)
    before = digests(folder)
    common = ["--no-fuse", "--overwrite-gps", *STANDIN, "--model-dir", tiny_model_dir]
    dry = run("tag", *common, folder)
    assert digests(folder) == before and not list(folder.glob(".*"))  # nothing left beside the photos
    written = run("tag", *common, "--write", "--journal", tmp_path / "j.jsonl", folder)
    assert digests(folder) == before
    for out in (dry, written):
        assert "ladybug.jpg: writing would harm other metadata: XMP-darktable:Masks_history would be lost" in out.stdout
        assert "exiv2-bug855.jpg: ExifTool could not write it" in out.stdout
        assert "would write" not in out.stdout
