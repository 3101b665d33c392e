"""What the undo journal's damage and crash tests share: the photo they write, ``geoguess`` with
a long timeout, a photo's real tags, and the journal's lines."""

from __future__ import annotations

from pathlib import Path

from helpers import copy_photo, run

from geoguess_app.core.geotag.journal import Journal
from geoguess_app.core.geotag.metadata import read_metadata, real_tag

D90 = "metadata-extractor-images/jpg/Nikon D90.jpg"


def copies_of_d90(corpus_dir: Path, tmp_path: Path, names: str) -> tuple[list[Path], dict[Path, tuple[bytes, dict]]]:
    """Copies of the D90 photo in ``tmp_path``/photos, one a letter of ``names`` (a.jpg, ...), and
    each one's bytes and tags as they were."""
    folder = tmp_path / "photos"
    folder.mkdir()
    photos = [copy_photo(corpus_dir / D90, folder / f"{n}.jpg") for n in names]
    return photos, {p: (p.read_bytes(), tags(p)) for p in photos}


def run_cli(*args):
    return run(*args, timeout=600)


def tags(path: Path) -> dict:
    return {k: v for k, v in read_metadata(path).items() if real_tag(k) and not k.startswith("File:")}


def lines_of(journal: Journal) -> list[bytes]:
    return journal.path.read_bytes().split(b"\n")


def index(lines: list[bytes], kind: bytes, name: bytes) -> int:
    return next(i for i, ln in enumerate(lines) if b'"type": "' + kind + b'"' in ln and b"/" + name in ln)
