"""``geoguess batch`` on a local Ray cluster of 2 CPUs, run as a person runs it (the command line),
on a few hundred corpus photos: the same answers as ``geoguess predict``, ``fuse`` and ``tag``,
every broken file an error row, a killed job restarted without redoing its work, and undo."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import STANDIN, copy_photo, corpus_rows

pytest.importorskip("ray", reason="geoguess batch needs the cluster extra (Ray)")
pq = pytest.importorskip("pyarrow.parquet")

GOOD = 240  # photos that open, spread over folders (fusion works per folder)
BROKEN = 20  # files Pillow cannot read
FOLDERS = 6


def geoguess(*args: str, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "RAY_AUTH_MODE": "disabled"}  # a throwaway local cluster
    done = subprocess.run(
        [sys.executable, "-m", "geoguess_app.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        **kwargs,
    )
    if check:
        assert done.returncode in (0, 1), done.stderr[-3000:]  # 1: some photos have an error
    return done


def total(archive: Path) -> int:
    """The photos of the archive, as GeoGuess lists a folder (some corpus files have extensions it skips)."""
    from geoguess_app.core.photos.decode import list_photos

    return len(list_photos([archive]))


def rows(folder: Path) -> list[dict]:
    parts = sorted(folder.glob("part-*.parquet"))
    return [r for p in parts for r in pq.read_table(p).to_pylist()]


@pytest.fixture(scope="module")
def archive(tmp_path_factory, corpus_dir, manifest) -> Path:
    """A few hundred corpus photos (writable copies) in folders, with the broken files among them."""
    root = tmp_path_factory.mktemp("archive")
    good = [r for r in corpus_rows(manifest, pil_load="ok")][:GOOD]
    broken = [r for r in manifest if r["pil_load"] != "ok"][:BROKEN]
    for i, r in enumerate(good + broken):
        folder = root / f"roll-{i % FOLDERS}"
        folder.mkdir(exist_ok=True)
        name = f"{i:04d}-{Path(r['path']).name}"
        copy_photo(corpus_dir / r["path"], folder / name)
    return root


@pytest.fixture(scope="module")
def predicted(archive, tmp_path_factory, full_model_dir) -> tuple[Path, subprocess.CompletedProcess]:
    """batch predict, killed half-way, then run again to the end (the full-size stand-in: slow
    enough on any machine to be killed half-way)."""
    out = tmp_path_factory.mktemp("batch") / "predictions"
    command = [sys.executable, "-m", "geoguess_app.cli", "batch", "predict", str(archive)]
    command += ["--out", str(out), "--model-dir", str(full_model_dir), "--num-cpus", "2", "--part-rows", "16"]
    log = out.parent / "killed-job.log"
    with open(log, "w") as stderr:
        job = subprocess.Popen(
            command, start_new_session=True, stdout=subprocess.DEVNULL, stderr=stderr,
            env={**os.environ, "RAY_AUTH_MODE": "disabled"},
        )  # fmt: skip
    deadline = time.monotonic() + 600
    while len(list(out.glob("part-*.parquet"))) < 3 and time.monotonic() < deadline and job.poll() is None:
        time.sleep(0.2)
    assert job.poll() is None, log.read_text()[-3000:]  # still running: killed half-way
    os.killpg(job.pid, signal.SIGKILL)  # the driver and its local Ray, at once
    job.wait()
    before = rows(out)
    assert 0 < len(before) < total(archive), "the job was to be killed half-way"
    # fusing an unfinished prediction is refused (before Ray starts), with what to do
    early = geoguess(
        "batch", "fuse", str(out), "--out", str(out.parent / "early"), "--model-dir", str(full_model_dir), check=False
    )
    assert early.returncode == 2 and "is not complete" in early.stderr and "--partial" in early.stderr
    # the rest with two model actors on the two CPUs (each then asks for half a CPU: one stays for decoding)
    again = geoguess(
        "batch", "predict", str(archive), "--out", str(out), "--model-dir", str(full_model_dir), "--num-cpus", "2",
        "--workers", "2",
    )  # fmt: skip
    again.killed_at = len(before)  # type: ignore[attr-defined]
    return out, again


def test_a_killed_job_restarts_without_redoing_finished_photos(predicted, archive):
    out, again = predicted
    done_before, n = again.killed_at, total(archive)  # type: ignore[attr-defined]
    assert f"{n} photo(s): {done_before} already in" in again.stderr
    assert f"{n - done_before} predicted" in again.stderr  # only the rest
    paths = [r["path"] for r in rows(out)]
    assert len(paths) == len(set(paths)) == n  # every photo once
    assert not list(out.glob(".part-*"))  # no half-written part left behind
    assert json.loads((out / "_COMPLETE.json").read_text())["photos"] == n  # and the folder says it is whole


def test_batch_predict_gives_the_answers_of_geoguess_predict(predicted, archive, full_model_dir):
    out, _ = predicted
    batch = {r["path"]: r for r in rows(out)}
    cli = geoguess("predict", str(archive), "-r", "--json", "--distribution", "--no-progress",
                   "--model-dir", str(full_model_dir))  # fmt: skip
    lines = [json.loads(line) for line in cli.stdout.splitlines()]
    assert len(lines) == len(batch) == total(archive)
    for line in lines:
        row = batch[line["path"]]
        assert (row["error"] is None) == (line["error"] is None), line["path"]
        if line["error"]:
            continue
        assert row["top_classes"] == [g["class"] for g in line["predictions"]]  # the same top 5
        stored = dict(line["distribution"])  # every probability within 1e-6
        assert row["distribution_classes"] == [int(c) for c, _ in line["distribution"]]
        for c, p in zip(row["distribution_classes"], row["distribution_probabilities"]):
            assert abs(p - stored[c]) <= 1e-6
        assert row["untrained"] is True and len(row["sha256"]) == 64
        gps = line["exif_gps"]
        assert (row["gps_lat"], row["gps_lon"]) == ((gps["lat"], gps["lon"]) if gps else (None, None))
        assert row["taken"] == line["taken"]["time"]


def test_every_broken_file_is_an_error_row(predicted, archive):
    out, _ = predicted
    errors = {Path(r["path"]).name: r["error"] for r in rows(out) if r["error"]}
    from geoguess_app.core.photos.decode import list_photos

    broken = sorted(p.name for p in list_photos([archive]) if int(p.name[:4]) >= GOOD)
    assert set(broken) <= set(errors) and all(errors.values())  # (and GeoGuess reads some Pillow cannot)


@pytest.fixture(scope="module")
def fused(predicted, tmp_path_factory, full_model_dir) -> Path:
    out = tmp_path_factory.mktemp("batch") / "fused"
    done = geoguess("batch", "fuse", str(predicted[0]), "--out", str(out), "--model-dir", str(full_model_dir),
                    "--num-cpus", "2")  # fmt: skip
    assert f"{FOLDERS} group(s) by folder" in done.stderr
    return out


def test_batch_fuse_gives_the_answers_of_geoguess_fuse_per_folder(fused, archive, full_model_dir, tmp_path):
    batch = {r["path"]: r for r in rows(fused)}
    assert len(batch) == len(rows(fused)) == total(archive)  # one answer per photo
    for folder in sorted(archive.iterdir()):
        lines = tmp_path / f"{folder.name}.jsonl"
        lines.write_text(geoguess("predict", str(folder), "--json", "--distribution", "--no-progress",
                                  "--model-dir", str(full_model_dir)).stdout)  # fmt: skip
        answers = geoguess("fuse", str(lines), "--json", "--model-dir", str(full_model_dir)).stdout.splitlines()
        for answer in map(json.loads, answers):
            row = batch[answer["path"]]
            assert row["group"] == str(folder) and row["source"] == answer["source"]
            assert row["error"] == answer["error"]
            mine = json.loads(row["answer"])
            assert mine["evidence"] == answer["evidence"]
            if answer["position"]:
                assert mine["position"][0] == pytest.approx(answer["position"]["lat"], abs=1e-6)
                assert mine["position"][1] == pytest.approx(answer["position"]["lon"], abs=1e-6)


def test_batch_fuse_by_camera_fuses_each_cameras_photos_of_a_folder_apart(predicted, full_model_dir, tmp_path):
    out = tmp_path / "by-camera"
    geoguess("batch", "fuse", str(predicted[0]), "--out", str(out), "--by", "camera", "--model-dir", str(full_model_dir),
             "--num-cpus", "2")  # fmt: skip
    by_camera = {r["path"]: r for r in rows(out)}
    predictions = {r["path"]: r for r in rows(predicted[0])}
    groups: dict[str, list[str]] = {}
    for path, row in by_camera.items():
        camera = predictions[path]["camera"] or "unknown camera"
        assert row["group"] == f"{os.path.dirname(path)} | {camera}"
        groups.setdefault(row["group"], []).append(path)
    several = [sorted(paths) for paths in groups.values() if len(paths) >= 2][:3]
    assert several, "some camera took several photos of a folder"
    for paths in several:  # as geoguess fuse fuses those photos' lines alone
        lines = tmp_path / "group.jsonl"
        with open(lines, "w", encoding="utf-8") as f:
            for path in paths:
                f.write(geoguess("predict", path, "--json", "--distribution", "--no-progress", "--model-dir",
                                 str(full_model_dir)).stdout)  # fmt: skip
        for answer in map(
            json.loads, geoguess("fuse", str(lines), "--json", "--model-dir", str(full_model_dir)).stdout.splitlines()
        ):
            row = by_camera[answer["path"]]
            mine = json.loads(row["answer"])
            assert row["source"] == answer["source"] and row["error"] == answer["error"]
            assert mine["evidence"] == answer["evidence"]
            if answer["position"]:
                assert mine["position"][0] == pytest.approx(answer["position"]["lat"], abs=1e-6)


def test_batch_write_writes_what_tag_writes_restarts_and_undoes(fused, archive, full_model_dir, tmp_path, exiftool_cli):
    from geoguess_app.core.geotag.metadata import read_metadata

    photos = sorted(p for p in archive.rglob("*") if p.is_file())  # (RAW files get a new sidecar)
    before = {p: p.read_bytes() for p in photos}
    journal = tmp_path / "journal.jsonl"
    first = geoguess("batch", "write", str(fused), *STANDIN, "--journal", str(journal))
    assert "written" in first.stderr and "undo this run with 'geoguess undo --run " in first.stderr
    written = [p for p in photos if p.read_bytes() != before[p]]
    assert written, first.stderr
    # run again: what is done is skipped, nothing is written twice
    again = geoguess("batch", "write", str(fused), *STANDIN, "--journal", str(journal))
    statuses = [line.strip().split("  ")[0] for line in again.stdout.splitlines()]
    assert statuses and "written" not in statuses and "skipped" in statuses, again.stdout[-2000:]
    assert "WARNING: " in first.stderr and "UNTRAINED" in first.stderr.upper()  # the stand-in says so
    # geoguess tag on copies of one folder writes the same positions
    folder = written[0].parent
    copies = tmp_path / "copies"
    copies.mkdir()
    for p in sorted(p for p in before if p.parent == folder):
        copy_photo(p, copies / p.name)
        (copies / p.name).write_bytes(before[p])  # as they were before batch write
    geoguess("tag", str(copies), "--write", *STANDIN, "--no-progress", "--journal", str(tmp_path / "tag.jsonl"),
             "--model-dir", str(full_model_dir))  # fmt: skip
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in copies.iterdir())  # the same sidecars
    for p in sorted(folder.iterdir()):
        mine, theirs = read_metadata(p), read_metadata(copies / p.name)
        assert mine.get("Composite:GPSLatitude") == pytest.approx(theirs.get("Composite:GPSLatitude"), abs=1e-6)
        assert mine.get("Composite:GPSLongitude") == pytest.approx(theirs.get("Composite:GPSLongitude"), abs=1e-6)
    # undo puts every photo of the batch back, byte for byte
    run = first.stderr.split("geoguess undo --run ")[1].split("'")[0]
    geoguess("undo", "--run", run, "--journal", str(journal))
    assert all(p.read_bytes() == before[p] for p in photos)
    assert sorted(p for p in archive.rglob("*") if p.is_file()) == photos  # the sidecars it made are gone


def test_sources_are_named_the_same_however_they_are_given(archive, tmp_path, monkeypatch):
    from geoguess_app.core.batch.sources import list_sources
    from geoguess_app.core.errors import GeoGuessError

    folder = sorted(archive.iterdir())[0]
    photos = list_sources([str(folder)])
    assert photos and all(os.path.isabs(p) for p in photos)
    monkeypatch.chdir(archive)
    assert list_sources([folder.name]) == photos  # relative: the same names, so a restart resumes
    listed = tmp_path / "photos.txt"
    listed.write_text("# a list of photos\n" + "\n".join(f"file://{p}" for p in photos[:2]) + "\n\n" + photos[2] + "\n")
    assert list_sources([str(listed)]) == photos[:3]
    assert list_sources([f"file://{photos[0]}"]) == photos[:1]
    with pytest.raises(GeoGuessError, match="does not exist"):
        list_sources([str(tmp_path / "missing")])


def test_a_trip_of_a_raw_jpeg_pair_and_videos_is_predicted_fused_and_written_as_tag_does(
    corpus_dir, tiny_model_dir, tmp_path, exiftool_cli
):
    """geoguess batch takes a photographer's folder as geoguess tag does: a video predicted from
    its frames, a RAW+JPEG pair fused once and written to both (the RAW into its sidecar), undone."""
    from PIL import Image

    samples = corpus_dir.parent / "raw-video-samples"
    if not samples.is_dir():
        pytest.skip(f"{samples} is missing")
    trip = tmp_path / "trip"
    trip.mkdir()
    copy_photo(samples / "raw" / "RAW_KODAK_DC50.KDC", trip / "IMG_0001.KDC")
    Image.new("RGB", (640, 480), (100, 120, 140)).save(trip / "IMG_0001.JPG")
    copy_photo(samples / "video" / "sample_640x360.mov", trip / "clip.mov")
    copy_photo(corpus_dir / "metadata-extractor-images/jpg/Nikon D90.jpg", trip / "D90.jpg")
    before = {p: p.read_bytes() for p in trip.iterdir()}
    model = ("--model-dir", str(tiny_model_dir))
    predictions, fused = tmp_path / "predictions", tmp_path / "fused"
    geoguess("batch", "predict", str(trip), "--out", str(predictions), *model, "--num-cpus", "2")
    rows_by_name = {Path(r["path"]).name: r for r in rows(predictions)}
    assert set(rows_by_name) == {p.name for p in before} and not any(r["error"] for r in rows_by_name.values())
    clip = json.loads(rows_by_name["clip.mov"]["result"])
    assert clip["kind"] == "video" and clip["source_image"].startswith("5 frames of a 640x360 h264 video")
    one = json.loads(geoguess("predict", str(trip / "clip.mov"), "--json", "--no-cache", *model).stdout)
    assert rows_by_name["clip.mov"]["top_classes"] == [g["class"] for g in one["predictions"]]  # as predict does
    geoguess("batch", "fuse", str(predictions), "--out", str(fused), *model, "--num-cpus", "2")
    answers = {Path(r["path"]).name: r for r in rows(fused)}
    assert answers["IMG_0001.KDC"]["twin"] == str(trip / "IMG_0001.JPG")  # fused once, as its JPEG
    assert (answers["IMG_0001.KDC"]["lat"], answers["IMG_0001.KDC"]["lon"]) == (
        answers["IMG_0001.JPG"]["lat"],
        answers["IMG_0001.JPG"]["lon"],
    )
    journal = tmp_path / "journal.jsonl"
    written = geoguess("batch", "write", str(fused), *STANDIN, "--journal", str(journal))
    said = {Path(line.split("  ")[-1]).name: line for line in written.stdout.splitlines()}
    assert "as its twin IMG_0001.JPG into IMG_0001.xmp" in written.stdout, written.stdout
    assert said and all(line.split()[0] == "written" for line in said.values()), written.stdout
    assert (trip / "IMG_0001.KDC").read_bytes() == before[trip / "IMG_0001.KDC"]  # the RAW itself untouched
    run = written.stderr.split("geoguess undo --run ")[1].split("'")[0]
    geoguess("undo", "--run", run, "--journal", str(journal))
    assert {p: p.read_bytes() for p in trip.iterdir()} == before  # the sidecar gone, every file as it was
