"""Two GeoGuess processes writing the same photos at once: each photo is written by one of them,
the other refuses it with the reason, and both runs undo exactly."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from helpers import copy_photo, geotag

from geoguess_app.core import system
from geoguess_app.core.errors import WriteRefused
from geoguess_app.core.geotag.journal import Journal
from geoguess_app.core.geotag.writer import PhotoWriter

GEOGUESS = Path(sys.executable).parent / "geoguess"
D90 = "metadata-extractor-images/jpg/Nikon D90.jpg"


def tag_command(model: Path, journal: Path, folder: Path) -> list[str]:
    return [
        str(GEOGUESS),
        "tag",
        "--write",
        "--no-fuse",
        "--no-progress",
        "--allow-untrained",
        "--min-probability",
        "0",
        "--model-dir",
        str(model),
        "--journal",
        str(journal),
        str(folder),
    ]


def statuses(out: str) -> dict[str, str]:
    found = {}
    for line in out.splitlines():
        status, _, rest = line.strip().partition("  ")
        if rest:
            found[Path(rest.split(":")[0]).name] = status.strip()
    return found


def test_two_command_lines_on_one_folder_never_both_write_a_photo(corpus_dir, tiny_model_dir, tmp_path, exiftool_cli):
    folder = tmp_path / "photos"
    folder.mkdir()
    photos = [copy_photo(corpus_dir / D90, folder / f"{n:02d}.jpg") for n in range(24)]
    originals = {p: p.read_bytes() for p in photos}
    journals = [tmp_path / "a.jsonl", tmp_path / "b.jsonl"]
    runs = [
        subprocess.Popen(tag_command(tiny_model_dir, j, folder), stdout=subprocess.PIPE, text=True) for j in journals
    ]
    outs = [r.communicate(timeout=600)[0] for r in runs]
    a, b = (statuses(out) for out in outs)
    for p in photos:
        both = (a.get(p.name), b.get(p.name))
        assert both.count("written") == 1, (p.name, both, outs)
        other = both[1 - both.index("written")]
        assert other in ("refused", "skipped"), (p.name, both)
    # each journal undoes what its own run wrote, and every photo is its original again
    for j in journals:
        undo = subprocess.run([str(GEOGUESS), "undo", "--journal", str(j), "--all"], capture_output=True, text=True)
        assert undo.returncode == 0, undo.stdout + undo.stderr
    assert all(p.read_bytes() == originals[p] for p in photos)


def test_a_write_waits_for_the_photo_lock_of_another_process(corpus_dir, tmp_path, exiftool_cli):
    """The window and a command line (here: this process and another) never stage the same photo
    at once: the second waits, then finds the first one's position and refuses."""
    photo = copy_photo(corpus_dir / D90, tmp_path / "p.jpg")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from geoguess_app.core.system import photo_lock\n"
            "with photo_lock(sys.argv[1]):\n print('held', flush=True); time.sleep(3)",
            str(photo),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    with pytest.raises(WriteRefused, match="another GeoGuess run"):
        with system.photo_lock(photo, wait_s=0.5):
            pass
    done = threading.Event()
    written: list[Path] = []

    def write() -> None:
        written.append(PhotoWriter(Journal(tmp_path / "j.jsonl")).write_gps(photo, geotag()))
        done.set()

    thread = threading.Thread(target=write)
    thread.start()
    assert not done.wait(1.0)  # waits for the other process
    holder.communicate(timeout=30)
    thread.join(timeout=60)
    assert written == [photo]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX ownership and modes")
def test_locks_never_go_into_a_temporary_folder_someone_else_prepared(tmp_path, monkeypatch):
    """Where the user's cache cannot hold the lock files, they go to a private folder in the
    temporary folder: a name there that is a link (another user's trap) is not used."""
    import os
    import tempfile

    blocked = tmp_path / "cache-is-a-file"
    blocked.write_text("")
    monkeypatch.setattr(system, "lock_folder", lambda: blocked / "locks")  # cannot be made
    monkeypatch.setattr(tempfile, "gettempdir", lambda: str(tmp_path))
    monkeypatch.setattr(system, "_private_fallback", None)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o777)
    (tmp_path / f"geoguess-locks-{os.getuid()}").symlink_to(elsewhere)
    photo = tmp_path / "a.jpg"
    photo.write_bytes(b"")
    with system.photo_lock(photo):
        pass
    assert list(elsewhere.iterdir()) == []
    used = system._private_fallback
    assert used is not None and used.parent == tmp_path and oct(used.stat().st_mode & 0o777) == "0o700"
