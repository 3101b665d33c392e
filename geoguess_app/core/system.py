"""What differs between Linux, macOS and Windows, in one place: whether a process still runs, and
the lock that keeps two GeoGuess processes (two command lines, or the window and a command line)
from writing the same photo at once.

The photo lock is a file lock (``filelock``: ``flock`` on Linux and macOS, ``msvcrt.locking`` on
Windows; the operating system releases it when a process dies, so a killed run never leaves a
photo locked). Lock files lie in the user's cache folder (or, where that cannot be written, a
private folder of the user's in the temporary folder), so a lock keeps apart the runs of one user
on one machine; one of 256 buckets chosen by the photo's real path, so that their number stays bounded whatever the number of photos; two photos sharing a
bucket only wait for each other briefly. Reentrant within a thread (an undo that rewrites a photo
holds its lock while the staged write takes it again).
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import filelock

from . import folders
from .errors import WriteRefused

LOCK_BUCKETS = 256
#: How long a write waits for another GeoGuess process writing the same photo before refusing it.
LOCK_WAIT_S = 120.0

_held = threading.local()  # bucket -> (lock, depth), per thread


def lock_folder() -> Path:
    return folders.locks()


def _usable_lock_folder() -> Path:
    """The user's lock folder; where it cannot be made (a read-only home), one of this user's in
    the system's temporary folder."""
    import tempfile

    folder = lock_folder()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if os.access(folder, os.W_OK):
            return folder
    except OSError:
        pass
    user = os.getuid() if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
    folder = Path(tempfile.gettempdir()) / f"geoguess-locks-{user}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
    except OSError:
        pass
    if _own_private_folder(folder):
        return folder
    # a shared temporary folder where someone else made that name (or a link): never lock there.
    # A folder of this process's own still keeps two threads apart; other processes are not.
    global _private_fallback
    if _private_fallback is None:
        _private_fallback = Path(tempfile.mkdtemp(prefix="geoguess-locks-"))
    return _private_fallback


_private_fallback: Path | None = None


def _own_private_folder(folder: Path) -> bool:
    """A real folder (not a link) that this user owns and only this user can enter (POSIX)."""
    import stat

    try:
        st = folder.lstat()
    except OSError:
        return False
    if not stat.S_ISDIR(st.st_mode):
        return False
    if not hasattr(os, "getuid"):  # Windows: the user's own temporary folder is private already
        return True
    return st.st_uid == os.getuid() and not st.st_mode & 0o077


def _bucket(path: str | Path) -> str:
    name = os.path.normcase(os.path.realpath(path))
    digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).digest()
    return f"{digest[0] % LOCK_BUCKETS:02x}"


@contextmanager
def photo_lock(path: str | Path, wait_s: float = LOCK_WAIT_S) -> Iterator[None]:
    """Hold the cross-process lock of the photo at ``path`` (its real path) for the block. When
    another GeoGuess process holds it for longer than ``wait_s``, WriteRefused says so."""
    bucket = _bucket(path)
    held: dict[str, list] = getattr(_held, "locks", None) or {}
    _held.locks = held
    if bucket in held:  # this thread holds it already
        held[bucket][1] += 1
        try:
            yield
        finally:
            held[bucket][1] -= 1
        return
    try:
        folder = _usable_lock_folder()
        lock = filelock.FileLock(str(folder / f"photo-{bucket}.lock"))
        lock.acquire(timeout=wait_s)
    except filelock.Timeout:
        raise WriteRefused(
            f"another GeoGuess run has been writing it for over {wait_s:g} s (the window or another "
            "geoguess command); left as it is: try again once that run is done"
        ) from None
    except OSError as e:
        raise WriteRefused(f"its write lock cannot be taken: {e.strerror or e} ({e.filename})") from None
    held[bucket] = [lock, 1]
    try:
        yield
    finally:
        held[bucket][1] -= 1
        if held[bucket][1] == 0:
            del held[bucket]
            lock.release()


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine (this process included)."""
    if pid == os.getpid():
        return True
    if pid <= 0:
        return False
    if sys.platform == "win32":  # os.kill(pid, 0) would send Ctrl+C there
        import ctypes

        kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined,unused-ignore]
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        try:
            code = ctypes.c_ulong()
            ok = kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
            return bool(ok) and code.value == 259  # STILL_ACTIVE
        finally:
            kernel32.CloseHandle(handle)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def host_name() -> str:
    """This machine's name, to tell whether a process id recorded in the journal is one of ours."""
    import platform

    return platform.node()


def physical_memory() -> int | None:
    """Bytes of memory this machine has (None where it cannot be told)."""
    if sys.platform == "win32":
        import ctypes

        class MemoryStatus(ctypes.Structure):
            _fields_ = [("length", ctypes.c_ulong), ("load", ctypes.c_ulong), ("total", ctypes.c_ulonglong)]
            _fields_ += [(name, ctypes.c_ulonglong) for name in ("avail", "pf", "apf", "vt", "av", "ave")]

        status = MemoryStatus()
        status.length = ctypes.sizeof(MemoryStatus)
        if ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status)):  # type: ignore[attr-defined,unused-ignore]
            return int(status.total)
        return None
    try:  # Linux, macOS and the other POSIX systems
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return None


def usable_cpus() -> int:
    """The CPU cores this process may run on."""
    if hasattr(os, "process_cpu_count"):  # Python 3.13
        return int(os.process_cpu_count() or 1)
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
