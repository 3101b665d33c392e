"""What the file system holds about a photo, kept when GeoGuess replaces it, and the plain reason
when a file system refuses.

A write makes a new file and renames it over the photo. The new file gets the photo's owner, group,
mode, extended attributes (access control lists and SELinux labels included) and access and
modification times before it takes the photo's place; each is checked. What cannot be kept is a
refusal, before anything is changed: a photo owned by someone else when GeoGuess runs without the
right to give files away, an attribute the file system will not copy. Photos that must not be
written are refused up front: not a regular file, read-only (no write permission in its mode),
immutable or append-only (``chattr +i`` / ``+a``), on a read-only file system.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import struct
from dataclasses import dataclass
from pathlib import Path

_FS_IOC_GETFLAGS = 0x80086601  # _IOR('f', 1, long) on 64-bit Linux
_IMMUTABLE, _APPEND_ONLY = 0x10, 0x20


class KeepError(OSError):
    """Something the file system held cannot be kept: the write must not happen."""


@dataclass(frozen=True)
class FileAttrs:
    mode: int
    uid: int
    gid: int
    atime_ns: int
    mtime_ns: int
    nlink: int
    xattrs: tuple[tuple[str, bytes], ...]
    dev: int = 0
    ino: int = 0

    @classmethod
    def of(cls, path: Path) -> FileAttrs:
        st = os.stat(path)
        return cls(
            stat.S_IMODE(st.st_mode),
            st.st_uid,
            st.st_gid,
            st.st_atime_ns,
            st.st_mtime_ns,
            st.st_nlink,
            read_xattrs(path),
            st.st_dev,
            st.st_ino,
        )

    def as_dict(self) -> dict:
        return {
            "mode": self.mode,
            "uid": self.uid,
            "gid": self.gid,
            "mtime_ns": self.mtime_ns,
            "atime_ns": self.atime_ns,
            "nlink": self.nlink,
            **({"dev": self.dev, "ino": self.ino} if self.nlink > 1 else {}),  # to find its other names again
            "xattrs": sorted(name for name, _ in self.xattrs),
        }


def read_xattrs(path: Path) -> tuple[tuple[str, bytes], ...]:
    try:
        names = os.listxattr(path)
    except OSError as e:
        if e.errno in (errno.ENOTSUP, errno.EOPNOTSUPP):
            return ()
        raise
    return tuple(sorted((name, os.getxattr(path, name)) for name in names))


def flags(path: Path) -> int:
    """The file's inode flags (chattr), 0 where the file system has none."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return 0
    try:
        return struct.unpack("l", fcntl.ioctl(fd, _FS_IOC_GETFLAGS, b"\0" * 8))[0]
    except OSError:
        return 0
    finally:
        os.close(fd)


def writable_reason(path: Path, attrs: FileAttrs, what: str = "it") -> str | None:
    """Why the file at ``path`` must not be replaced, or None. The most specific cause first:
    a read-only file system or an immutable file also fail the permission check."""
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        return f"{what} is not a regular file"
    folder = path.parent
    if os.statvfs(path).f_flag & os.ST_RDONLY:
        return f"{what} is on a read-only file system"
    f = flags(path)
    if f & _IMMUTABLE:
        return f"{what} is immutable (chattr +i): it cannot be changed"
    if f & _APPEND_ONLY:
        return f"{what} is append-only (chattr +a): it cannot be rewritten"
    if not attrs.mode & stat.S_IWUSR:
        return f"{what} is read-only (its permissions allow no writing; chmod u+w allows it)"
    if os.geteuid() != 0 and attrs.uid != os.geteuid():
        return (
            f"{what} belongs to user {attrs.uid}: a new version would belong to you instead, so it is "
            "left as it is (run GeoGuess as its owner)"
        )
    group = _foreign_group(attrs.gid, what)
    if group:
        return group
    if os.geteuid() != 0 and not os.access(path, os.W_OK):
        return f"{what} cannot be written: no permission"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"no permission to create files in its folder {folder}"
    return None


def _foreign_group(gid: int, what: str) -> str | None:
    """Why a new version could not keep the group ``gid``: a user who is not root may give a file
    only a group they belong to (POSIX). None where it can be kept, or where there are no groups."""
    if not hasattr(os, "getgroups") or os.geteuid() == 0:
        return None
    if gid == os.getegid() or gid in os.getgroups():
        return None
    return (
        f"{what} belongs to group {gid}, which you are not a member of: a new version would belong to your "
        "own group instead, so it is left as it is (run GeoGuess as a member of that group)"
    )


def keep(attrs: FileAttrs, new: Path, keep_times: bool = True) -> None:
    """Give ``new`` the owner, group, mode, extended attributes and (with ``keep_times``) times of
    ``attrs``, then check them; KeepError when one cannot be kept."""
    st = os.stat(new)
    if (st.st_uid, st.st_gid) != (attrs.uid, attrs.gid):
        try:
            os.chown(new, attrs.uid, attrs.gid)
        except OSError as e:
            raise KeepError(
                e.errno, f"its owner and group ({attrs.uid}:{attrs.gid}) cannot be kept: {e.strerror}"
            ) from None
    os.chmod(new, attrs.mode)  # after chown, which clears set-user-ID bits
    for name, value in attrs.xattrs:
        try:
            os.setxattr(new, name, value)
        except OSError as e:
            raise KeepError(e.errno, f"its extended attribute {name} cannot be kept: {e.strerror}") from None
    extra = [name for name, _ in read_xattrs(new) if name not in dict(attrs.xattrs)]
    for name in extra:  # attributes the folder gave the new file by default (inherited ACLs)
        try:
            os.removexattr(new, name)
        except OSError:
            pass
    if keep_times:
        os.utime(new, ns=(attrs.atime_ns, attrs.mtime_ns))
    got = FileAttrs.of(new)
    lost = [
        what
        for what, same in (
            ("mode", got.mode == attrs.mode),
            ("owner", got.uid == attrs.uid),
            ("group", got.gid == attrs.gid),
            ("extended attributes", got.xattrs == attrs.xattrs),
            ("modification time", not keep_times or got.mtime_ns == attrs.mtime_ns),
        )
        if not same
    ]
    if lost:
        raise KeepError(errno.EPERM, f"its {', '.join(lost)} could not be kept on the new version")


def fsync_dir(folder: Path) -> None:
    """Sync a folder, so that a rename or a new file in it survives a crash (best effort)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def explain(e: OSError, path: Path, needed: int = 0) -> str:
    """The plain cause of an OSError met while writing near ``path``."""
    folder = path.parent
    code = e.errno
    if code in (errno.ENOSPC, errno.EDQUOT) or (code is None and disk_full(folder, needed)):
        return disk_full_text(folder, code == errno.EDQUOT)
    if code == errno.EROFS:
        return "the file system is read-only"
    if code == errno.ENAMETOOLONG:
        return "the file name is too long for this file system"
    if code in (errno.EPERM, errno.EACCES):
        f = flags(path)
        if f & _IMMUTABLE:
            return "it is immutable (chattr +i): it cannot be changed"
        if f & _APPEND_ONLY:
            return "it is append-only (chattr +a): it cannot be rewritten"
        return f"no permission ({e.strerror})"
    if code == errno.EIO:
        return "the disk reported an input/output error"
    return e.strerror or str(e)


def disk_full(folder: Path, needed: int) -> bool:
    try:
        fs = os.statvfs(folder)
    except OSError:
        return False
    # f_files 0: the file system has no inode count (btrfs, FAT, SMB), not "no inodes left"
    return fs.f_bavail * fs.f_frsize < needed or (fs.f_files > 0 and fs.f_favail == 0)


def disk_full_text(folder: Path, quota: bool = False) -> str:
    if quota:
        return "the disk quota is used up"
    try:
        fs = os.statvfs(folder)
        free = (
            " (no free inodes)"
            if fs.f_files > 0 and fs.f_favail == 0
            else f" ({fs.f_bavail * fs.f_frsize:,} bytes free)"
        )
    except OSError:
        free = ""
    return f"the disk is full{free}"
