"""SIGKILL at many moments of ``geoguess tag --write`` and of ``geoguess undo``.

After each kill every photo is either as it was or completely written (never half); no ExifTool
process is left; the next run finishes the work, removes the killed run's temporary files, and
undo then restores every photo byte for byte.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from helpers import copy_photo
from PIL import Image

from geoguess_app.core.geotag.metadata import NAMESPACE_BYTES as NAMESPACE

GEOGUESS = Path(sys.executable).parent / "geoguess"
SOURCES = [
    "metadata-extractor-images/jpg/Nikon D90.jpg",
    "exiv2/test/data/FurnaceCreekInn.jpg",
    "exif-samples/jpg/Kodak_CX7530.jpg",
    "Pillow/Tests/images/hopper.jpg",
    "exiv2/test/data/exiv2-bug2565.jpg",
]
# (records of the kind seen in the journal, then milliseconds more) before the kill
MOMENTS = [(0, 0), (1, 0), (1, 9), (2, 25), (4, 3), (6, 40), (9, 1)]
N = 10


def exiftools() -> set[int]:
    """Running ExifTool processes in stay-open mode (GeoGuess's)."""
    found = set()
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
                state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
            except OSError:
                continue
            if b"-stay_open" in cmd and b"exiftool" in cmd and state != "Z":
                found.add(int(pid))
    return found


def pixels(path: Path):
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB")).copy()


def kill_when(cmd: list[str], journal: Path, kind: bytes, count: int, extra_ms: int) -> None:
    """Start ``cmd`` and SIGKILL it once the journal holds ``count`` records of ``kind`` (and
    ``extra_ms`` later)."""
    before = exiftools()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    start = journal.read_bytes().count(kind) if journal.exists() else 0
    deadline = time.time() + 120
    while proc.poll() is None and time.time() < deadline:
        if (journal.read_bytes().count(kind) if journal.exists() else 0) - start >= count:
            break
        time.sleep(0.002)
    time.sleep(extra_ms / 1000)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.time() + 10
    while exiftools() - before and time.time() < deadline:
        time.sleep(0.05)
    assert not exiftools() - before, "an ExifTool process outlived the killed GeoGuess"


@pytest.fixture
def batch(corpus_dir, tmp_path, exiftool_cli):
    folder = tmp_path / "batch"
    folder.mkdir()
    originals = {}
    for i in range(N):
        p = copy_photo(corpus_dir / SOURCES[i % len(SOURCES)], folder / f"{i:02d}.jpg")
        originals[p.name] = (p.read_bytes(), pixels(p))
    return folder, originals


def check_whole(folder: Path, originals: dict) -> int:
    """Every photo is the original or a complete GeoGuess write; returns how many are written."""
    written = 0
    for name, (data, image) in originals.items():
        now = (folder / name).read_bytes()
        if now == data:
            continue
        assert NAMESPACE in now, f"{name} changed but is not GeoGuess's complete write"
        assert np.array_equal(pixels(folder / name), image), name
        written += 1
    return written


def temps(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if ".geoguess-" in p.name]


@pytest.mark.slow
@pytest.mark.parametrize("count,extra_ms", MOMENTS)
def test_sigkill_during_tag_and_undo(batch, tiny_model_dir, tmp_path, count, extra_ms):
    folder, originals = batch
    journal = tmp_path / "journal.jsonl"
    tag = [
        str(GEOGUESS),
        "tag",
        "--write",
        "--allow-untrained",
        "--min-probability",
        "0",
        "--overwrite-gps",
        "--no-progress",
        "--journal",
        str(journal),
        "--model-dir",
        str(tiny_model_dir),
        str(folder),
    ]
    kill_when(tag, journal, b'"type": "write"', count, extra_ms)
    check_whole(folder, originals)
    again = subprocess.run(tag, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stdout + again.stderr
    assert check_whole(folder, originals) == N and temps(folder) == []

    undo = [str(GEOGUESS), "undo", "--journal", str(journal), "--all"]
    kill_when(undo, journal, b'"type": "undone"', count, extra_ms)
    check_whole(folder, originals)
    again = subprocess.run(undo, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stdout + again.stderr
    assert all((folder / n).read_bytes() == data for n, (data, _) in originals.items())
    assert temps(folder) == []
