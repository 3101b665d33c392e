"""Bad input on the command line: each file or line gets a clear reason of its own, never a hang
or a traceback, and the others are still done.

A FIFO named like a photo and a link to /dev/zero once made ``predict`` and ``tag`` wait forever
(the prediction cache hashed them); a photo taken in year 1 at +14:00 stopped ``tag`` with an
OverflowError; a JPEG declaring 14000 x 14000 pixels with 100 x 100 of data was predicted. Each
program runs under a timeout, so that a hang fails the test instead of stopping the run.
"""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import copy_photo
from PIL import Image

GEOGUESS = Path(sys.executable).parent / "geoguess"
HANG = 120  # seconds: far more than these runs take; past it the test fails instead of waiting
EXIF_IFD = 0x8769


def run(*args, env=None):
    return subprocess.run(
        [str(GEOGUESS), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=HANG,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )


def lines_by_name(stdout: str) -> dict[str, str]:
    """`tag` lines ("status  path: message") by file name."""
    found = {}
    for line in stdout.splitlines():
        head, sep, _ = line.partition(": ")
        if sep and head.split():
            found[Path(head.split()[-1]).name] = line
    return found


@pytest.fixture
def folder_with_a_fifo_and_dev_zero(corpus_dir, tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("this system has no FIFOs (os.mkfifo)")
    folder = tmp_path / "photos"
    folder.mkdir()
    copy_photo(corpus_dir / "Pillow/Tests/images/hopper.jpg", folder / "a.jpg")
    os.mkfifo(folder / "b.jpg")
    if os.path.exists("/dev/zero"):
        (folder / "c.jpg").symlink_to("/dev/zero")
    return folder


@pytest.mark.parametrize("cache", [True, False], ids=["with the cache", "--no-cache"])
def test_predict_says_a_fifo_or_a_device_is_not_a_photo_and_goes_on(
    folder_with_a_fifo_and_dev_zero, tiny_model_dir, tmp_path, cache
):
    folder = folder_with_a_fifo_and_dev_zero
    options = () if cache else ("--no-cache",)
    out = run("predict", "--json", *options, "--model-dir", tiny_model_dir, folder, env={"XDG_CACHE_HOME": tmp_path})
    assert out.returncode == 1, out.stderr
    records = {Path(r["path"]).name: r for r in map(json.loads, out.stdout.splitlines())}
    assert records["a.jpg"]["error"] is None and records["a.jpg"]["predictions"]
    assert records["b.jpg"]["error"] == "not a regular file: a FIFO (named pipe)"
    if (folder / "c.jpg").is_symlink():
        assert records["c.jpg"]["error"] == "not a regular file: a character device"
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize("fuse", [True, False], ids=["fused", "--no-fuse"])
def test_tag_says_a_fifo_or_a_device_is_not_a_photo_and_goes_on(
    folder_with_a_fifo_and_dev_zero, tiny_model_dir, tmp_path, fuse
):
    """ExifTool is never asked to read them either: it would wait on the FIFO (and the timeout fail)."""
    folder = folder_with_a_fifo_and_dev_zero
    options = () if fuse else ("--no-fuse",)
    out = run("tag", *options, "--model-dir", tiny_model_dir, folder, env={"XDG_CACHE_HOME": tmp_path})
    assert out.returncode == 1, out.stderr
    said = lines_by_name(out.stdout)
    assert said["b.jpg"].split()[0] == "error" and "not a regular file: a FIFO (named pipe)" in said["b.jpg"]
    if (folder / "c.jpg").is_symlink():
        assert said["c.jpg"].split()[0] == "error" and "not a regular file: a character device" in said["c.jpg"]
    assert said["a.jpg"].split()[0] != "error"
    assert "Traceback" not in out.stderr


def _photo_taken(path: Path, when: str, offset: str) -> Path:
    exif = Image.Exif()
    exif.get_ifd(EXIF_IFD).update({0x9003: when, 0x9011: offset})
    Image.new("RGB", (64, 48), (120, 140, 160)).save(path, exif=exif)
    return path


def test_tag_with_photos_taken_at_the_ends_of_the_calendar(tiny_model_dir, tmp_path):
    folder = tmp_path / "clock"
    folder.mkdir()
    _photo_taken(folder / "year1.jpg", "0001:01:01 00:00:00", "+14:00")
    _photo_taken(folder / "year9999.jpg", "9999:12:31 23:59:59", "-12:00")
    _photo_taken(folder / "today.jpg", "2024:05:01 10:00:00", "+02:00")
    out = run("tag", "--model-dir", tiny_model_dir, folder, env={"XDG_CACHE_HOME": tmp_path})
    assert "Traceback" not in out.stderr and out.returncode == 1, out.stderr
    said = lines_by_name(out.stdout)
    assert said["year1.jpg"].split()[0] == "error"
    assert "its time 0001-01-01T00:00:00 at +14:00 cannot be put in UTC" in said["year1.jpg"]
    assert said["year9999.jpg"].split()[0] == "error"
    assert "its time 9999-12-31T23:59:59 at -12:00 cannot be put in UTC" in said["year9999.jpg"]
    assert said["today.jpg"].split()[0] != "error"


def test_predict_refuses_a_jpeg_declaring_more_pixels_than_it_holds(tiny_model_dir, tmp_path):
    buffer = io.BytesIO()
    Image.new("RGB", (100, 100), (10, 200, 30)).save(buffer, "JPEG")
    data = bytearray(buffer.getvalue())
    sof = data.find(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", 14000, 14000)
    (tmp_path / "big.jpg").write_bytes(bytes(data))
    out = run(
        "predict", "--json", "--model-dir", tiny_model_dir, tmp_path / "big.jpg", env={"XDG_CACHE_HOME": tmp_path}
    )
    assert out.returncode == 1, out.stderr
    error = json.loads(out.stdout)["error"]
    assert error.startswith("file is truncated") and "14000 x 14000" in error
