"""Any file name is written, or refused for its own reason, and never becomes something else.

Each name below once made ExifTool read another file, read its standard input, take the name as
an option or a comment, or made the whole run stop. They are run as ``geoguess tag --write DIR``
and as ``geoguess tag --write .`` from inside the folder, then undone.
"""

from __future__ import annotations

import os
import subprocess
import sys
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
    "metadata-extractor-images/jpg/FujiFilm FinePixS2Pro.jpg",
    "Pillow/Tests/images/hopper.jpg",
    "exif-samples/jpg/Canon_PowerShot_S40.jpg",
]
NAMES = [
    b"a\nb.jpg",  # ExifTool's argument file once read it as "a b.jpg" ...
    b"a b.jpg",  # ... the decoy beside it
    b"-overwrite_original.jpg",  # an option
    b"#x.jpg",  # a comment
    b" lead.jpg",  # leading space
    b"trail.jpg ",  # trailing space (no photo extension: named on the command line)
    b"\xff\xfe not utf-8.jpg",  # not UTF-8
    b'quote"dollar$at@back\\slash.jpg',
    b"n" * 246 + b".jpg",  # 250 bytes
    b"-",  # standard input (named on the command line)
]


def pixels(path: bytes) -> np.ndarray:
    with Image.open(os.fsdecode(path)) as im:
        return np.asarray(im.convert("RGB")).copy()


@pytest.fixture
def folder(corpus_dir, tmp_path, exiftool_cli):
    root = tmp_path / "names"
    root.mkdir()
    for i, name in enumerate(NAMES):
        copy_photo(corpus_dir / SOURCES[i % len(SOURCES)], Path(os.fsdecode(os.fsencode(root) + b"/" + name)))
    return root


def files(root: Path) -> dict[bytes, bytes]:
    return {
        name: Path(os.fsdecode(os.path.join(os.fsencode(root), name))).read_bytes()
        for name in os.listdir(os.fsencode(root))
    }


@pytest.mark.parametrize("how", ["folder", "dot"])
def test_every_hostile_name_is_written_as_itself_and_undone(folder, tiny_model_dir, tmp_path, how):
    before = files(folder)
    images = {name: pixels(os.path.join(os.fsencode(folder), name)) for name in before}
    journal = tmp_path / "journal.jsonl"
    common = ["--journal", str(journal), "--model-dir", str(tiny_model_dir), "--no-progress", "--overwrite-gps"]
    common += ["--allow-untrained", "--min-probability", "0"]  # the stand-in's guesses
    # names without a photo extension are only taken when named, as a person would name them
    if how == "folder":
        args, cwd = [str(folder), str(folder / "trail.jpg "), str(folder / "-")], None
    else:
        args, cwd = [".", "trail.jpg ", "-"], folder
    out = subprocess.run(
        [str(GEOGUESS), "tag", "--write", *common, *args],
        capture_output=True,
        cwd=cwd,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    stdout, stderr = out.stdout.decode("utf-8"), out.stderr.decode("utf-8")
    assert out.returncode == 0, stdout + stderr
    assert "Traceback" not in stderr
    after = files(folder)
    assert sorted(after) == sorted(before), "no file added, lost or renamed"
    for name in before:
        where = os.path.join(os.fsencode(folder), name)
        assert after[name] != before[name] and NAMESPACE in after[name], name
        assert np.array_equal(pixels(where), images[name]), f"{name!r} now holds another photo's pixels"
    assert stdout.count("written") == len(NAMES)
    assert "a\\nb.jpg" in stdout and "\\xff\\xfe not utf-8.jpg" in stdout  # one line each, escaped

    undone = subprocess.run(
        [str(GEOGUESS), "undo", "--journal", str(journal), str(folder)], capture_output=True, timeout=300
    )
    assert undone.returncode == 0, undone.stdout.decode() + undone.stderr.decode()
    assert files(folder) == before  # byte-identical, every one


def test_a_symbolic_link_loop_named_like_a_photo_is_an_error_of_its_own(corpus_dir, tiny_model_dir, tmp_path):
    """A link to itself, and two links to each other, among photos: each gets its reason, the
    photo beside them is written, and nothing ends in a traceback."""
    folder = tmp_path / "loops"
    folder.mkdir()
    photo = copy_photo(corpus_dir / SOURCES[0], folder / "photo.jpg")
    (folder / "self.jpg").symlink_to("self.jpg")
    (folder / "ping.jpg").symlink_to("pong.jpg")
    (folder / "pong.jpg").symlink_to("ping.jpg")
    before = photo.read_bytes()
    out = subprocess.run(
        [str(GEOGUESS), "tag", "--write", "--no-progress", "--allow-untrained", "--min-probability", "0",
         "--journal", str(tmp_path / "j.jsonl"), "--model-dir", str(tiny_model_dir), str(folder)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert "Traceback" not in out.stderr, out.stderr
    said = {Path(line.split(": ")[0].split()[-1]).name: line for line in out.stdout.splitlines()}
    assert said["photo.jpg"].split()[0] == "written" and photo.read_bytes() != before
    for name in ("self.jpg", "ping.jpg", "pong.jpg"):
        assert said[name].split()[0] == "error" and "symbolic link" in said[name], said[name]
    assert out.returncode == 1  # some photos could not be done
    assert all((folder / n).is_symlink() for n in ("self.jpg", "ping.jpg", "pong.jpg"))
