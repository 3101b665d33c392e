"""What the file system holds is kept, and what it refuses is refused plainly, with nothing lost.

Owner, group, mode, extended attributes and times survive a write and its undo; hard links are
refused unless asked (then written in place or split); a symbolic link stays a link; read-only,
immutable, read-only-file-system and full-disk cases are refused with their real cause and leave
the photo byte-identical; temporary files of a killed run are removed by the next one; ExifTool
never outlives GeoGuess.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import copy_photo, geotag, unavailable

from geoguess_app.core.geotag.journal import Journal
from geoguess_app.core.geotag.metadata import GeotagRefused, read_metadata
from geoguess_app.core.geotag.undo import UndoScope, undo
from geoguess_app.core.geotag.writer import PhotoWriter, write_gps

GEOGUESS = Path(sys.executable).parent / "geoguess"
TAG = geotag(model="safety test")
D90 = "metadata-extractor-images/jpg/Nikon D90.jpg"  # 3.2 MB, no GPS position


def is_tagged(path: Path) -> bool:
    return read_metadata(path).get("XMP-geoguess:Predicted") in (True, "True")


def leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if ".geoguess-" in p.name]


@pytest.fixture
def photo(corpus_dir, tmp_path, exiftool_cli) -> Path:
    return copy_photo(corpus_dir / D90, tmp_path / "photo.jpg")


def test_owner_group_mode_extended_attributes_and_times_are_kept(photo, tmp_path):
    if os.geteuid() != 0:
        unavailable("giving a file to another owner needs root")
    os.chown(photo, 1234, 5678)
    os.chmod(photo, 0o640)
    os.setxattr(photo, "user.rating", b"5 stars")
    os.setxattr(photo, "user.album", "Côte d'Azur".encode())
    os.utime(photo, ns=(1_600_000_000_123_456_789, 1_500_000_000_987_654_321))
    original, st = photo.read_bytes(), os.stat(photo)
    xattrs = {n: os.getxattr(photo, n) for n in os.listxattr(photo)}
    journal = Journal(tmp_path / "j.jsonl")
    write_gps(photo, TAG, journal=journal)

    def same_as_before():
        now = os.stat(photo)
        assert (now.st_uid, now.st_gid, now.st_mode, now.st_mtime_ns) == (
            st.st_uid,
            st.st_gid,
            st.st_mode,
            st.st_mtime_ns,
        )
        assert {n: os.getxattr(photo, n) for n in os.listxattr(photo)} == xattrs

    assert is_tagged(photo) and photo.read_bytes() != original
    same_as_before()
    assert [o.status for o in undo(journal, UndoScope(paths=[photo]))] == ["restored"]
    assert photo.read_bytes() == original
    same_as_before()


def test_a_hard_link_is_refused_unless_asked_then_written_in_place_or_split(photo, tmp_path):
    other = tmp_path / "same-photo-in-another-album.jpg"
    os.link(photo, other)
    original = photo.read_bytes()
    with pytest.raises(GeotagRefused, match=r"2 hard links.*--hardlinks in-place.*--hardlinks split"):
        write_gps(photo, TAG)
    assert photo.read_bytes() == original

    journal = Journal(tmp_path / "j.jsonl")
    write_gps(photo, TAG, journal=journal, hardlinks="in-place")
    assert os.stat(photo).st_ino == os.stat(other).st_ino and os.stat(photo).st_nlink == 2
    assert is_tagged(other)  # every name sees the position
    assert leftovers(tmp_path) == []
    assert [o.status for o in undo(journal, UndoScope(paths=[other]))] == ["restored"]  # by its other name
    assert photo.read_bytes() == original and os.stat(photo).st_ino == os.stat(other).st_ino

    write_gps(photo, TAG, journal=journal, hardlinks="split")
    assert os.stat(photo).st_ino != os.stat(other).st_ino  # only this name got a new file
    assert is_tagged(photo) and other.read_bytes() == original
    outcomes = list(undo(journal, UndoScope(paths=[photo])))
    assert [o.status for o in outcomes] == ["restored"] and "one file with its other names again" in outcomes[0].message
    assert photo.read_bytes() == original
    assert os.stat(photo).st_ino == os.stat(other).st_ino and os.stat(photo).st_nlink == 2  # re-linked


KILLED_AFTER_THE_COPY = r"""
import os, sys
from pathlib import Path
from geoguess_app.core.geotag.journal import Journal
from geoguess_app.core.geotag.undo import UndoScope, undo
from geoguess_app.core.geotag.writer import GeoTag, write_gps
tag = GeoTag(lat=1.0, lon=2.0, accuracy_m=1.0, model="m", untrained=True, token="1", probability=0.5, rank=1)
journal, photo, what = Journal(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
if what == "undo":
    write_gps(photo, tag, journal=journal, hardlinks="in-place")
from geoguess_app.core.geotag import staged_write
# killed right after the in-place copy is complete, before its times are set and its copy removed
staged_write.os.utime = lambda *a, **k: os._exit(9)
if what == "write":
    write_gps(photo, tag, journal=journal, hardlinks="in-place")
else:
    list(undo(journal, UndoScope(paths=[photo])))
"""


@pytest.mark.parametrize("what", ["write", "undo"])
def test_a_kill_during_an_in_place_write_or_undo_is_finished_with_the_times_it_promised(photo, tmp_path, what):
    from geoguess_app.core.geotag import recovery

    other = tmp_path / "other-name.jpg"
    os.link(photo, other)
    os.utime(photo, ns=(1_600_000_000_123_456_789, 1_500_000_000_987_654_321))  # a year-old photo
    original, times = photo.read_bytes(), (os.stat(photo).st_atime_ns, os.stat(photo).st_mtime_ns)
    journal = Journal(tmp_path / "j.jsonl")
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_AFTER_THE_COPY, str(journal.path), str(photo), what], capture_output=True
    )
    assert killed.returncode == 9, killed.stderr
    assert os.stat(photo).st_mtime_ns != times[1]  # the kill left the copy's own time
    notes = recovery.finish_interrupted(journal)  # the next run
    assert any("its times put back as promised" in n for n in notes), notes
    st = os.stat(photo)
    assert (st.st_atime_ns, st.st_mtime_ns) == times and st.st_ino == os.stat(other).st_ino
    assert leftovers(tmp_path) == []
    assert (photo.read_bytes() == original) == (what == "undo") and is_tagged(other) == (what == "write")


def as_if_killed(journal: Journal, kept: Path) -> Path:
    """Rename the verified copy of an in-place write as a process that is gone would have named it,
    and its journal record with it."""
    from geoguess_app.core.geotag.journal import frame, unframe

    dead = kept.with_name(kept.name.replace(f"-{os.getpid()}-", "-999999999-"))
    kept.rename(dead)
    lines = []
    for line in journal.path.read_bytes().splitlines():
        record = unframe(line)
        if record is not None and record.get("tmp") == str(kept):
            line = frame({**record, "tmp": str(dead)})[:-1]
        lines.append(line + b"\n")
    journal.path.write_bytes(b"".join(lines))
    return dead


def test_an_interrupted_in_place_write_is_finished_by_the_next_run(photo, tmp_path, monkeypatch):
    from geoguess_app.core.geotag import recovery, staged_write

    other = tmp_path / "other-name.jpg"
    os.link(photo, other)
    original = photo.read_bytes()
    journal = Journal(tmp_path / "j.jsonl")
    real = staged_write.copy_over
    calls = []

    def fail_twice(target, data):  # the copy and the attempt to put the original back both fail
        calls.append(1)
        if len(calls) <= 2:
            with open(target, "r+b") as f:
                f.write(data[: len(data) // 2])  # half written: torn
            raise OSError(28, "No space left on device")
        return real(target, data)

    monkeypatch.setattr(staged_write, "copy_over", fail_twice)
    with pytest.raises(GeotagRefused, match="next GeoGuess run with this journal finishes it"):
        write_gps(photo, TAG, journal=journal, hardlinks="in-place")
    monkeypatch.undo()
    kept = [p for p in tmp_path.iterdir() if p.name.startswith(".geoguess-inplace-")]
    assert len(kept) == 1  # the verified new version
    assert recovery.finish_interrupted(journal) == []  # its writer (this process) still runs: left to it
    as_if_killed(journal, kept[0])
    torn = photo.read_bytes()
    notes = recovery.finish_interrupted(journal)
    assert any("that an interrupted run left: finished" in n for n in notes)
    assert is_tagged(other) and leftovers(tmp_path) == []
    assert torn != photo.read_bytes()
    assert [o.status for o in undo(journal, UndoScope(paths=[photo]))] == ["restored"]
    assert other.read_bytes() == original


def test_an_interrupted_in_place_write_never_overwrites_a_photo_changed_since(photo, tmp_path, monkeypatch):
    from geoguess_app.core.geotag import recovery, staged_write

    os.link(photo, tmp_path / "other-name.jpg")
    journal = Journal(tmp_path / "j.jsonl")

    def fail(target, data):
        with open(target, "r+b") as f:
            f.write(data[: len(data) // 3])
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(staged_write, "copy_over", fail)
    with pytest.raises(GeotagRefused):
        write_gps(photo, TAG, journal=journal, hardlinks="in-place")
    monkeypatch.undo()
    [kept] = [p for p in tmp_path.iterdir() if p.name.startswith(".geoguess-inplace-")]
    dead = as_if_killed(journal, kept)
    photo.write_bytes(b"the person's own new version")  # edited before the next run
    notes = recovery.finish_interrupted(journal)
    assert any("the photo changed since; left as it is" in n for n in notes)
    assert photo.read_bytes() == b"the person's own new version" and dead.exists()


def test_a_symbolic_link_stays_a_link_and_its_target_is_tagged(photo, tmp_path):
    album = tmp_path / "album"
    album.mkdir()
    link = album / "link.jpg"
    link.symlink_to(photo)
    original = photo.read_bytes()
    journal = Journal(tmp_path / "j.jsonl")
    assert write_gps(link, TAG, journal=journal) == photo
    assert link.is_symlink() and os.readlink(link) == str(photo) and is_tagged(photo)
    record = journal.read().writes[0]
    assert (record.path, record.given) == (str(photo), str(link))  # both recorded
    assert [o.status for o in undo(journal, UndoScope(paths=[link]))] == ["restored"]  # undo by the link's name
    assert link.is_symlink() and photo.read_bytes() == original


def chattr(flag: str, path: Path) -> None:
    if shutil.which("chattr") is None or subprocess.run(["chattr", flag, str(path)], capture_output=True).returncode:
        unavailable(f"chattr {flag} is not possible here (needs root and e2fsprogs)")


def test_read_only_and_immutable_photos_are_refused_with_the_reason(photo, tmp_path):
    original = photo.read_bytes()
    photo.chmod(0o444)
    with pytest.raises(GeotagRefused, match="read-only .*chmod u\\+w"):
        write_gps(photo, TAG)
    photo.chmod(0o644)
    chattr("+i", photo)
    try:
        with pytest.raises(GeotagRefused, match=r"immutable \(chattr \+i\)"):
            write_gps(photo, TAG)
    finally:
        chattr("-i", photo)
    assert photo.read_bytes() == original and leftovers(tmp_path) == []


@contextlib.contextmanager
def tmpfs(folder: Path, size: str):
    folder.mkdir()
    if subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True
    ).returncode:
        unavailable("cannot mount a tmpfs here (needs root)")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def test_read_only_file_system(corpus_dir, tmp_path, exiftool_cli):
    with tmpfs(tmp_path / "ro", "20M") as folder:
        photo = copy_photo(corpus_dir / D90, folder / "photo.jpg")
        original = photo.read_bytes()
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
        with pytest.raises(GeotagRefused, match="read-only file system"):
            write_gps(photo, TAG)
        assert photo.read_bytes() == original


def test_a_full_disk_is_named_and_loses_nothing(corpus_dir, tmp_path, exiftool_cli, monkeypatch):
    from geoguess_app.core.geotag import fileattrs, staged_write

    with tmpfs(tmp_path / "small", "4M") as folder:  # room for the photo (3.2 MB), not for its new copy
        photo = copy_photo(corpus_dir / D90, folder / "photo.jpg")
        original = photo.read_bytes()
        journal = Journal(tmp_path / "j.jsonl")
        with pytest.raises(GeotagRefused, match=r"the disk is full \(\d[\d,]* bytes free\)"):
            write_gps(photo, TAG, journal=journal)  # seen before ExifTool starts
        # As if the space went while ExifTool was writing: its "Error writing output file" is not
        # the reason given, the full disk is.
        optimistic = type(fileattrs)("optimistic")
        optimistic.__dict__.update(vars(fileattrs), disk_full=lambda folder, needed: False)
        monkeypatch.setattr(staged_write, "fileattrs", optimistic)
        with pytest.raises(GeotagRefused, match="the disk is full"):
            write_gps(photo, TAG, journal=journal)
        monkeypatch.undo()
        assert photo.read_bytes() == original and leftovers(folder) == []
        assert journal.read().writes == []

    with tmpfs(tmp_path / "journal-disk", "64k") as jfolder:  # the photo fits; the undo journal does not
        photo = copy_photo(corpus_dir / D90, tmp_path / "photo2.jpg")
        original = photo.read_bytes()
        (jfolder / "filler").write_bytes(b"\0" * (60 << 10))
        with contextlib.suppress(OSError):
            (jfolder / "filler2").write_bytes(b"\0" * (8 << 10))
        with pytest.raises(GeotagRefused, match="undo journal .* cannot be written: the disk is full"):
            write_gps(photo, TAG, journal=Journal(jfolder / "j.jsonl"))
        assert photo.read_bytes() == original and leftovers(tmp_path) == []


def test_a_file_system_without_an_inode_count_is_not_full(corpus_dir, tmp_path, exiftool_cli):
    # btrfs, FAT and SMB report no inodes at all (0 of 0), which is not "no free inodes"
    folder = tmp_path / "btrfs-like"
    folder.mkdir()
    if subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=20M,nr_inodes=0", "tmpfs", str(folder)], capture_output=True
    ).returncode:
        unavailable("cannot mount a tmpfs here (needs root)")
    try:
        assert os.statvfs(folder).f_files == 0
        photo = copy_photo(corpus_dir / D90, folder / "photo.jpg")
        write_gps(photo, TAG)
        assert is_tagged(photo)
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def test_temporary_files_of_a_killed_run_are_removed_and_reported(photo, tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".geoguess-tmp-{dead.pid}-0123456789ab.jpg"
    old_style = tmp_path / ".photo.1a2b3c4d.geoguess-tmp.jpg"  # GeoGuess 0.1's naming
    live = tmp_path / f".geoguess-tmp-{os.getppid()}-0123456789ab.jpg"  # a running GeoGuess's
    for p in (stale, old_style, live):
        p.write_bytes(b"partial")
    os.utime(old_style, (time.time() - 7200,) * 2)
    writer = PhotoWriter(Journal(tmp_path / "j.jsonl"))
    writer.write_gps(photo, TAG)
    assert not stale.exists() and not old_style.exists() and live.exists()
    said = "\n".join(writer.notices)
    assert str(stale) in said and str(old_style) in said and "interrupted" in said


CHILD = r"""
import sys, time
from pathlib import Path
from geoguess_app.core.photos.exiftool import shared_exiftool
tool = shared_exiftool()
tool.read(Path(sys.argv[1]))
print(tool.pid, flush=True)
time.sleep(60)
"""


def test_exiftool_never_outlives_geoguess(photo):
    with subprocess.Popen([sys.executable, "-c", CHILD, str(photo)], stdout=subprocess.PIPE, text=True) as child:
        pid = int(child.stdout.readline())
        os.kill(pid, 0)  # running
        child.send_signal(signal.SIGKILL)
        child.wait()
    deadline = time.time() + 10
    while time.time() < deadline and _alive(pid):
        time.sleep(0.05)
    assert not _alive(pid), "ExifTool was left running after GeoGuess was killed"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"  # a zombie is gone, waiting to be reaped
    except FileNotFoundError:
        return False


def test_undo_refuses_a_photo_whose_position_was_edited_since(photo, tmp_path, exiftool_cli):
    journal = Journal(tmp_path / "j.jsonl")
    write_gps(photo, TAG, journal=journal)
    subprocess.run(
        [exiftool_cli, "-q", "-overwrite_original", "-GPSLatitude=10.5", "-GPSLatitudeRef=N", str(photo)], check=True
    )
    edited = photo.read_bytes()
    outcomes = list(undo(journal, UndoScope(paths=[photo])))
    assert [o.status for o in outcomes] == ["refused"]
    assert "its GPS position changed since GeoGuess wrote it (now 10.5" in outcomes[0].message
    assert photo.read_bytes() == edited  # the person's own position stays


def test_a_name_too_long_for_the_backup_is_refused_with_that_reason(corpus_dir, tmp_path, exiftool_cli):
    photo = copy_photo(corpus_dir / D90, tmp_path / ("n" * 246 + ".jpg"))  # 250 bytes: fine to write
    original = photo.read_bytes()
    with pytest.raises(GeotagRefused, match="its backup cannot be made: the file name is too long"):
        write_gps(photo, TAG, backup=True)  # NAME.geoguess-backup would be 266 bytes
    assert photo.read_bytes() == original and leftovers(tmp_path) == []
    write_gps(photo, TAG)
    assert is_tagged(photo)


WRITE_AS_ANOTHER_USER = r"""
import sys
from geoguess_app.core.geotag.writer import GeoTag, rehearse_gps, write_gps
from geoguess_app.core.geotag.metadata import GeotagRefused
tag = GeoTag(lat=1.0, lon=2.0, accuracy_m=1.0, model="m", untrained=True, token="1", probability=0.5, rank=1)
try:
    rehearse_gps(sys.argv[1], tag)  # the dry run: the same checks
    print("dry run: would write")
except GeotagRefused as e:
    print("dry run:", e)
try:
    write_gps(sys.argv[1], tag)
except GeotagRefused as e:
    print(e)
"""


def test_no_permission_and_other_causes_are_named_for_a_user_who_is_not_root(corpus_dir, exiftool_cli):
    import tempfile

    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        unavailable("running as another user needs root and setpriv")
    as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable]
    probe = subprocess.run([*as_nobody, "-c", "import geoguess_app"], capture_output=True, text=True, cwd="/")
    if probe.returncode != 0:  # an interpreter installed where only root may read (pyenv's under /root)
        pytest.skip(f"this Python cannot be run by another user: {probe.stderr.strip()[-200:]}")
    folder = Path(tempfile.mkdtemp(prefix="geoguess-perm-"))
    try:
        folder.chmod(0o755)  # others may read it, not create files in it
        roots = copy_photo(corpus_dir / D90, folder / "root's.jpg")
        theirs = copy_photo(corpus_dir / D90, folder / "nobody's.jpg")
        os.chown(theirs, 65534, 65534)
        own = folder / "own"
        own.mkdir()
        os.chown(own, 65534, 65534)
        fixed = copy_photo(corpus_dir / D90, own / "immutable.jpg")
        os.chown(fixed, 65534, 65534)
        chattr("+i", fixed)
        grouped = copy_photo(corpus_dir / D90, own / "root-group.jpg")
        os.chown(grouped, 65534, 0)  # theirs, in a group they are not in: a new version could not keep it
        originals = {p: p.read_bytes() for p in (roots, theirs, fixed, grouped)}
        said = {}
        for p in originals:
            out = subprocess.run(
                [*as_nobody, "-c", WRITE_AS_ANOTHER_USER, str(p)],
                capture_output=True,
                text=True,
                timeout=120,
                env={**os.environ, "HOME": str(folder), "XDG_CACHE_HOME": str(folder)},
            )
            said[p.name] = out.stdout + out.stderr
        assert "belongs to user 0" in said["root's.jpg"], said
        assert "no permission to create files in its folder" in said["nobody's.jpg"], said
        assert "immutable (chattr +i)" in said["immutable.jpg"], said
        group = "belongs to group 0, which you are not a member of"
        assert f"dry run: it {group}" in said["root-group.jpg"] and said["root-group.jpg"].count(group) == 2, said
        assert "dry run: would write" not in "".join(said.values())
        assert all(p.read_bytes() == data for p, data in originals.items())
    finally:
        subprocess.run(["chattr", "-i", str(folder / "own" / "immutable.jpg")], capture_output=True)
        shutil.rmtree(folder)
