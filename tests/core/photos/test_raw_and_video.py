"""Camera RAW files, RAW+JPEG pairs and videos, as a photographer's trip folder holds them:
predicted (from the embedded preview, a demosaic, or frames spread through a clip), their own
time and GPS read, written (a RAW file never touched: its sidecar; a video in-file), read back by
ExifTool, and undone byte for byte. Broken and stripped files get a reason, never a traceback."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from helpers import geotag, make_dng
from PIL import Image

HANG = 300


def cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "geoguess_app.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=HANG,
        stdin=subprocess.DEVNULL,
    )


def lines_by_name(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        head, sep, _ = line.partition(": ")
        if sep and "/" in head:
            out[Path(head.split()[-1]).name] = line
    return out


@pytest.fixture(scope="session")
def samples(corpus_dir) -> Path:
    folder = corpus_dir.parent / "raw-video-samples"
    if not folder.is_dir():
        pytest.skip(f"{folder} is missing")
    return folder


def copy(source: Path, target: Path) -> Path:
    shutil.copyfile(source, target)
    target.chmod(0o644)
    return target


def make_video(photo: Path, out: Path, seconds: int = 3, fps: int = 10, size: tuple[int, int] = (320, 240)) -> Path:
    """A clip encoded with PyAV from a photo (the camera panning across it)."""
    import av
    import numpy as np

    base = Image.open(photo).convert("RGB").resize((size[0] + seconds * fps * 2, size[1]))
    with av.open(str(out), "w") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        for i in range(seconds * fps):
            pixels = np.asarray(base.crop((2 * i, 0, 2 * i + size[0], size[1])))
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out


def taken_at(path: Path, when: str, offset: str = "+02:00") -> Path:
    exif = Image.Exif()
    exif.get_ifd(0x8769).update({0x9003: when, 0x9011: offset})
    Image.new("RGB", (640, 480), (110, 130, 150)).save(path, exif=exif)
    return path


def predicted(model: Path, *paths: Path) -> dict[str, dict]:
    out = cli("predict", "--json", "--no-cache", "--top-k", "1", "--model-dir", model, *paths)
    assert "Traceback" not in out.stderr, out.stderr
    return {Path(d["path"]).name: d for d in map(json.loads, out.stdout.splitlines())}


def test_raw_files_are_predicted_from_their_preview_or_a_demosaic_or_say_why_not(samples, corpus_dir, tiny_model_dir):
    nef = next(corpus_dir.rglob("Issue 247-2.nef"))
    dng = next(corpus_dir.rglob("IMG_1361.dng"))
    stripped = next(corpus_dir.rglob("exiftool/t/images/DNG.dng"))  # 14 KB that claim 8 megapixels
    raw = samples / "raw"
    files = [raw / "RAW_KODAK_DC50.KDC", nef, dng, stripped, raw / "CanonRaw.crw", raw / "SigmaDP2.x3f"]
    got = predicted(tiny_model_dir, *files)
    assert got["RAW_KODAK_DC50.KDC"]["source_image"] == "half-size demosaic 384x256"
    assert "kind" not in got["Issue 247-2.nef"] and got["Issue 247-2.nef"]["error"] is None  # a JPEG named .nef
    assert got["RAW_KODAK_DC50.KDC"]["kind"] == "raw" and got["RAW_KODAK_DC50.KDC"]["predictions"]
    assert got["RAW_KODAK_DC50.KDC"]["taken"]["time"] == "1997-04-23T08:00:47"
    # files stripped of their picture: no preview and no sensor data, and never a picture made of
    # whatever memory LibRaw would read past the end of the file (a different one on each read)
    assert (
        "no embedded preview, and its sensor data is missing (64 KB cannot hold 12.2 megapixels"
        in got["IMG_1361.dng"]["error"]
    )
    assert (
        "no embedded preview, and its sensor data is missing (14 KB cannot hold 8.2 megapixels"
        in got["DNG.dng"]["error"]
    )
    assert "no embedded preview, and its sensor data is missing" in got["CanonRaw.crw"]["error"]
    assert "only a tiny embedded preview (8x8)" in got["SigmaDP2.x3f"]["error"]  # 8x8 pixels is no image
    # and in threads, as the window and the batch read them, the same answers
    from geoguess_app.core.predict.pipeline import decode

    with ThreadPoolExecutor(2) as pool:
        again = list(pool.map(lambda p: decode(p)[0], files * 2))
    assert [r.error for r in again] == [got[p.name]["error"] for p in files * 2]


def test_a_raw_named_file_that_is_a_jpeg_is_read_as_the_jpeg_it_is(tmp_path, tiny_model_dir):
    Image.new("RGB", (640, 480), (90, 140, 200)).save(tmp_path / "IMG_0001.CR2", "JPEG")
    got = predicted(tiny_model_dir, tmp_path / "IMG_0001.CR2")["IMG_0001.CR2"]
    assert got["error"] is None and "kind" not in got  # a photo, read by its content


def test_videos_are_predicted_from_frames_and_give_their_own_time_and_gps(samples, tiny_model_dir):
    video = samples / "video"
    got = predicted(tiny_model_dir, video / "quicktime-hvc1.mov", video / "sample_640x360.mov", video / "M2TS.mts")
    ipad = got["quicktime-hvc1.mov"]
    assert ipad["kind"] == "video" and ipad["source_image"] == "5 frames of a 720x1280 hevc video, 1.2 s"
    assert ipad["exif_gps"] == {"lat": 52.4597, "lon": 13.322, "predicted": False}
    assert ipad["taken"] == {"time": "2023-09-22T18:34:05", "offset": "+02:00"}  # Keys:CreationDate, local
    assert got["sample_640x360.mov"]["source_image"].startswith("5 frames of a 640x360 h264 video")
    assert "has no frame that can be decoded" in got["M2TS.mts"]["error"]


def test_hostile_raw_and_video_files_get_a_reason(samples, tiny_model_dir):
    hostile = sorted((samples / "hostile").iterdir())
    got = predicted(tiny_model_dir, *hostile)
    assert len(got) == len(hostile)
    for name, result in got.items():
        assert result["error"] and "Traceback" not in result["error"], name


def test_a_video_is_written_in_file_read_back_and_undone_byte_for_byte(samples, tmp_path, tiny_model_dir, exiftool_cli):
    clip = copy(samples / "video" / "sample_640x360.mov", tmp_path / "clip.mov")
    original = clip.read_bytes()
    journal = tmp_path / "journal.jsonl"
    out = cli("tag", "--write", "--allow-untrained", "--min-probability", "0", "--no-cache", "--no-progress",
              "--journal", journal, "--model-dir", tiny_model_dir, clip)  # fmt: skip
    assert out.returncode == 0 and lines_by_name(out.stdout)["clip.mov"].split()[0] == "written", (
        out.stdout + out.stderr
    )
    tags = json.loads(
        subprocess.run([exiftool_cli, "-j", "-n", "-G1", str(clip)], capture_output=True, text=True).stdout
    )[0]
    lat, lon = (float(x) for x in tags["Keys:GPSCoordinates"].split()[:2])
    assert tags["UserData:GPSCoordinates"].split()[:2] == tags["Keys:GPSCoordinates"].split()[:2]
    assert tags["XMP-geoguess:Predicted"] in (True, "True") and tags["XMP-exif:GPSProcessingMethod"].startswith(
        "GeoGuess"
    )
    assert (tags["Composite:GPSLatitude"], tags["Composite:GPSLongitude"]) == pytest.approx((lat, lon))
    again = predicted(tiny_model_dir, clip)["clip.mov"]
    assert again["exif_gps"]["predicted"] is True  # GeoGuess's own position is a prediction, never an anchor
    undone = cli("undo", "--journal", journal, "--all")
    assert undone.returncode == 0 and "byte-identical" in undone.stdout, undone.stdout + undone.stderr
    assert clip.read_bytes() == original


@pytest.mark.parametrize("name", ["NAME.xmp", "NAME.EXT.xmp"])
def test_a_raw_file_gets_a_sidecar_of_the_chosen_name_and_is_never_touched(
    samples, tmp_path, tiny_model_dir, exiftool_cli, name
):
    raw = copy(samples / "raw" / "RAW_KODAK_DC50.KDC", tmp_path / "DC50.KDC")
    before, mtime = raw.read_bytes(), raw.stat().st_mtime_ns
    journal = tmp_path / "journal.jsonl"
    out = cli("tag", "--write", "--allow-untrained", "--min-probability", "0", "--no-cache", "--no-progress",
              "--sidecar-name", name, "--journal", journal, "--model-dir", tiny_model_dir, raw)  # fmt: skip
    side = tmp_path / ("DC50.xmp" if name == "NAME.xmp" else "DC50.KDC.xmp")
    assert out.returncode == 0 and f"into {side.name}" in out.stdout, out.stdout + out.stderr
    assert raw.read_bytes() == before and raw.stat().st_mtime_ns == mtime
    tags = json.loads(
        subprocess.run([exiftool_cli, "-j", "-n", "-G1", str(side)], capture_output=True, text=True).stdout
    )[0]
    assert isinstance(tags["XMP-exif:GPSLatitude"], float) and tags["XMP-geoguess:Predicted"] in (True, "True")
    undone = cli("undo", "--journal", journal, "--all")
    assert "sidecar removed" in undone.stdout and not side.exists()


def test_an_existing_sidecar_of_the_other_naming_is_updated_in_place_and_restored(
    samples, tmp_path, tiny_model_dir, exiftool_cli
):
    raw = copy(samples / "raw" / "RAW_KODAK_DC50.KDC", tmp_path / "DC50.KDC")
    darktable = tmp_path / "DC50.KDC.xmp"  # darktable's, with a rating and a tag the person set there
    subprocess.run(
        [exiftool_cli, "-q", "-XMP-xmp:Rating=4", "-XMP-dc:Subject=holiday", "-o", str(darktable), str(raw)], check=True
    )
    kept = darktable.read_bytes()
    journal = tmp_path / "journal.jsonl"
    out = cli("tag", "--write", "--allow-untrained", "--min-probability", "0", "--no-cache", "--no-progress",
              "--sidecar-name", "NAME.xmp", "--journal", journal, "--model-dir", tiny_model_dir, raw)  # fmt: skip
    assert "into DC50.KDC.xmp" in out.stdout and not (tmp_path / "DC50.xmp").exists(), out.stdout + out.stderr
    tags = json.loads(
        subprocess.run([exiftool_cli, "-j", "-n", "-G1", str(darktable)], capture_output=True, text=True).stdout
    )[0]
    assert tags["XMP-xmp:Rating"] == 4 and tags["XMP-dc:Subject"] == "holiday" and "XMP-exif:GPSLatitude" in tags
    cli("undo", "--journal", journal, "--all")
    assert darktable.read_bytes() == kept


def test_a_raw_and_jpeg_pair_is_one_photo_written_to_both_and_undone_as_one(samples, tmp_path, tiny_model_dir):
    raw = copy(samples / "raw" / "RAW_KODAK_DC50.KDC", tmp_path / "IMG_0001.KDC")
    Image.new("RGB", (640, 480), (100, 120, 140)).save(tmp_path / "IMG_0001.JPG")
    jpeg = tmp_path / "IMG_0001.JPG"
    originals = {p: p.read_bytes() for p in (raw, jpeg)}
    journal = tmp_path / "journal.jsonl"
    out = cli("tag", "--write", "--allow-untrained", "--min-probability", "0", "--no-cache", "--no-progress",
              "--journal", journal, "--model-dir", tiny_model_dir, tmp_path)  # fmt: skip
    said = lines_by_name(out.stdout)
    assert "fusing 1 photo(s)" in out.stderr  # predicted and fused once
    assert said["IMG_0001.JPG"].split()[0] == "written"
    assert (
        said["IMG_0001.KDC"].split()[0] == "written"
        and "as its twin IMG_0001.JPG into IMG_0001.xmp" in said["IMG_0001.KDC"]
    )
    assert raw.read_bytes() == originals[raw]
    runs = cli("undo", "--journal", journal, "--list")
    assert "2 of 2 photo(s) can be undone" in runs.stdout, runs.stdout
    undone = cli("undo", "--journal", journal, "--last")
    assert undone.returncode == 0 and not (tmp_path / "IMG_0001.xmp").exists()
    assert all(p.read_bytes() == data for p, data in originals.items())


def test_a_video_with_its_own_gps_places_a_photo_taken_near_it_in_time(samples, tmp_path, tiny_model_dir):
    clip = copy(samples / "video" / "quicktime-hvc1.mov", tmp_path / "ipad.mov")
    exif = Image.Exif()
    exif.get_ifd(0x8769).update({0x9003: "2023:09:22 18:40:05", 0x9011: "+02:00"})  # six minutes later
    Image.new("RGB", (640, 480), (120, 130, 90)).save(tmp_path / "later.jpg", exif=exif)
    out = cli("tag", "--allow-untrained", "--min-probability", "0", "--no-cache", "--no-progress",
              "--model-dir", tiny_model_dir, tmp_path)  # fmt: skip
    said = lines_by_name(out.stdout)
    assert "it has its own GPS position (used to place the others)" in said["ipad.mov"]
    assert said["later.jpg"].startswith("would write") and "52.4" in said["later.jpg"] and "13.3" in said["later.jpg"]
    assert os.path.exists(clip)


def test_a_raw_files_own_time_camera_and_gps_are_read(corpus_dir, exiftool_cli):
    from geoguess_app.core.photos.camera_files import capture_meta

    meta = capture_meta(next(corpus_dir.rglob("IMG_1361.dng")))
    assert meta is not None and meta.camera == "Apple iPhone 12 Pro" and meta.utc_offset == "-05:00"
    assert meta.gps is not None and (meta.gps.lat, meta.gps.lon) == pytest.approx((34.0596, -84.6817), abs=1e-3)


def test_a_dng_with_real_sensor_data_is_demosaiced_and_geotagged_beside_its_jpeg(corpus_dir, tmp_path, tiny_model_dir):
    """A camera's pair, made from one corpus photo: the DNG (real pixels, demosaiced by LibRaw) and
    the JPEG. Alone, the DNG is predicted from its demosaic; together they are one photo."""
    d90 = corpus_dir / "metadata-extractor-images/jpg/Nikon D90.jpg"
    alone = make_dng(d90, tmp_path / "alone.dng")
    cut = tmp_path / "cut.dng"
    cut.write_bytes(alone.read_bytes()[: alone.stat().st_size // 2])  # a copy that stopped half-way
    got = predicted(tiny_model_dir, alone, cut)
    assert got["alone.dng"]["error"] is None and got["alone.dng"]["source_image"] == "half-size demosaic 320x240"
    assert got["alone.dng"]["predictions"]
    assert "its sensor data cannot be demosaiced (stripped or damaged: input/output error)" in got["cut.dng"]["error"]
    trip = tmp_path / "trip"
    trip.mkdir()
    dng = make_dng(d90, trip / "DSC_0001.dng")
    Image.open(d90).resize((640, 480)).save(trip / "DSC_0001.jpg", quality=92)
    before = dng.read_bytes()
    journal = tmp_path / "journal.jsonl"
    out = cli("tag", "--write", "--allow-untrained", "--min-probability", "0", "--no-cache", "--no-progress",
              "--sidecar-name", "NAME.EXT.xmp", "--journal", journal, "--model-dir", tiny_model_dir, trip)  # fmt: skip
    said = lines_by_name(out.stdout)
    assert "as its twin DSC_0001.jpg into DSC_0001.dng.xmp" in said["DSC_0001.dng"], out.stdout + out.stderr
    assert dng.read_bytes() == before
    cli("undo", "--journal", journal, "--all")
    assert not (trip / "DSC_0001.dng.xmp").exists() and dng.read_bytes() == before


def test_a_trip_of_pairs_and_phone_videos_is_placed_by_the_videos_gps(
    corpus_dir, tmp_path, tiny_model_dir, exiftool_cli
):
    """A simulated trip: a phone video with its own GPS and time (written by ExifTool, as phones
    write them), a RAW+JPEG pair two minutes later and a photo five minutes later, a video without
    GPS; fused, the photos near the video in time are placed at the video's position, the pair is
    written to both files, the videos are predicted from frames."""
    d90 = corpus_dir / "metadata-extractor-images/jpg/Nikon D90.jpg"
    trip = tmp_path / "trip"
    trip.mkdir()
    clip = make_video(d90, trip / "VID_0001.mp4")
    subprocess.run([exiftool_cli, "-q", "-n", "-overwrite_original", "-Keys:GPSCoordinates=45.4375 12.3358",
                    "-Keys:CreationDate=2024:05:01 10:00:00+02:00", str(clip)], check=True)  # fmt: skip
    taken_at(trip / "IMG_0002.JPG", "2024:05:01 10:02:00")
    make_dng(d90, trip / "IMG_0002.DNG")  # its twin, saying no time: paired by name
    taken_at(trip / "IMG_0003.JPG", "2024:05:01 10:05:00")
    make_video(d90, trip / "VID_0004.mp4")  # no GPS, no time: placed by its frames alone
    out = cli("tag", "--allow-untrained", "--min-probability", "0", "--no-cache", "--no-progress",
              "--model-dir", tiny_model_dir, trip)  # fmt: skip
    said = lines_by_name(out.stdout)
    assert "fusing 4 photo(s)" in out.stderr, out.stderr  # the pair is one photo
    assert "it has its own GPS position (used to place the others)" in said["VID_0001.mp4"]
    for name in ("IMG_0002.JPG", "IMG_0003.JPG"):
        assert said[name].startswith("would write  ") or said[name].startswith("would write"), said[name]
        assert "45.43" in said[name] and "12.33" in said[name] and "near_gps" in said[name], said[name]
    assert "as its twin IMG_0002.JPG into IMG_0002.xmp" in said["IMG_0002.DNG"]
    assert said["VID_0004.mp4"].split()[0:2] == ["would", "write"]


def test_raw_files_are_written_in_file_only_on_request_with_their_sensor_data_proven_kept(
    corpus_dir, samples, tmp_path, tiny_model_dir, exiftool_cli
):
    """--raw-in-file dng writes a DNG itself (its sensor data and preview checked unchanged), and
    undo puts it back byte for byte; a RAW format ExifTool does not write keeps its sidecar."""
    from geoguess_app.core.geotag.metadata import read_metadata

    d90 = corpus_dir / "metadata-extractor-images/jpg/Nikon D90.jpg"
    try:  # (some tifffile versions will not take an encoded strip: the DNG then has no preview)
        dng, source = make_dng(d90, tmp_path / "DSC_0001.dng", preview=True), "embedded preview 640x480"
    except RuntimeError:
        dng, source = make_dng(d90, tmp_path / "DSC_0001.dng"), "half-size demosaic 320x240"
    kdc = copy(samples / "raw" / "RAW_KODAK_DC50.KDC", tmp_path / "IMG_0002.KDC")
    originals = {p: p.read_bytes() for p in (dng, kdc)}
    journal = tmp_path / "journal.jsonl"
    common = ("--allow-untrained", "--min-probability", "0", "--no-cache", "--no-progress", "--journal", journal)
    rehearsed = cli("tag", *common, "--raw-in-file", "dng", "--model-dir", tiny_model_dir, dng, kdc)
    said = lines_by_name(rehearsed.stdout)
    assert said["DSC_0001.dng"].split()[:2] == ["would", "write"] and "into" not in said["DSC_0001.dng"], said
    assert "into IMG_0002.xmp" in said["IMG_0002.KDC"]
    out = cli("tag", "--write", *common, "--raw-in-file", "dng", "--model-dir", tiny_model_dir, dng, kdc)
    said = lines_by_name(out.stdout)
    assert said["DSC_0001.dng"].split()[0] == "written" and "into" not in said["DSC_0001.dng"], out.stdout + out.stderr
    assert "into IMG_0002.xmp" in said["IMG_0002.KDC"] and kdc.read_bytes() == originals[kdc]
    assert not (tmp_path / "DSC_0001.xmp").exists()
    tags = read_metadata(dng)
    assert tags.get("GPS:GPSLatitude") is not None and tags.get("XMP-geoguess:Predicted") is not None
    assert tags["IFD0:Make"] == "GeoGuess" and tags["IFD0:UniqueCameraModel"] == "GeoGuess test camera"  # kept
    fresh = predicted(tiny_model_dir, dng)["DSC_0001.dng"]  # its preview and sensor data as they were
    assert fresh["source_image"] == source
    undone = cli("undo", "--journal", journal, "--last")
    assert undone.returncode == 0, undone.stdout + undone.stderr
    assert all(p.read_bytes() == data for p, data in originals.items()) and not (tmp_path / "IMG_0002.xmp").exists()


def test_a_raw_file_whose_sensor_data_cannot_be_proven_kept_is_not_written_into(corpus_dir, tmp_path, exiftool_cli):
    from geoguess_app.core.errors import WriteRefused
    from geoguess_app.core.geotag.writer import PhotoWriter

    stripped = copy(next(corpus_dir.rglob("exiftool/t/images/DNG.dng")), tmp_path / "stripped.dng")
    before = stripped.read_bytes()
    writer = PhotoWriter(raw_in_file="dng")
    with pytest.raises(WriteRefused, match="image data cannot be read to prove a write keeps it .*too small to hold"):
        writer.write_gps(stripped, geotag())
    assert stripped.read_bytes() == before
    with pytest.raises(WriteRefused, match="RAW files are not written into"):  # without being asked
        PhotoWriter().write_gps(stripped, geotag())
