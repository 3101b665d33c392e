"""ExifTool, the reference for safe metadata writing, kept running for speed (-stay_open).

One exiftool process serves every read and write; commands are sent on its standard input (an
argument file, one argument per line) and a numbered "{ready}" line ends each answer. Calls are
serialized by a lock.

- **Any file name.** Files are always passed as absolute paths, so no name can become an option
  (``-x.jpg``), a comment (``#x.jpg``), standard input (``-``) or lose its leading spaces. A name
  the argument file cannot carry (a line break in it, or bytes that are not UTF-8) is read through a
  symbolic link with a plain name in a private folder; GeoGuess never asks ExifTool to write to
  such a name (it writes to new files of its own naming and renames them itself).
- **Never outlives GeoGuess.** In its stay-open mode ExifTool keeps polling its input after the end
  of file, so it would run on, adopted by init, when GeoGuess is killed. On Linux it is started
  with a parent-death signal (``setpriv --pdeathsig KILL``, else ``prctl`` in the child) from a
  thread that lives as long as the process: the kernel kills ExifTool when GeoGuess dies, even by
  SIGKILL.
"""

from __future__ import annotations

import atexit
import ctypes
import json
import os
import queue
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

from ... import environment
from ...resources import resources_dir
from ..errors import GeoGuessError

INSTALL_HINT = (
    "GeoGuess writes metadata with ExifTool, which is not installed: install it "
    "(Debian/Ubuntu: apt install libimage-exiftool-perl; macOS: brew install exiftool), "
    "or set GEOGUESS_EXIFTOOL to the exiftool program"
)
ENV_EXIFTOOL = environment.EXIFTOOL
T = TypeVar("T")


class ExifToolError(GeoGuessError):
    pass


def find_exiftool() -> str:
    given = environment.exiftool()
    if given:
        if not (Path(given).is_file() and os.access(given, os.X_OK)):
            raise ExifToolError(f"{ENV_EXIFTOOL} is set to {given}, which is not a program that can be run")
        return given
    found = shutil.which("exiftool")
    if not found:
        raise ExifToolError(INSTALL_HINT)
    return found


def _pdeathsig_child() -> None:  # pragma: no cover - runs in the forked child
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class _Launcher:
    """Starts child processes from one thread that lives as long as GeoGuess: a parent-death
    signal fires when the thread that started the child ends, not only the process."""

    def __init__(self) -> None:
        self._jobs: queue.Queue[tuple[Callable[[], subprocess.Popen[bytes]], Future[subprocess.Popen[bytes]]]] = (
            queue.Queue()
        )
        threading.Thread(target=self._loop, name="geoguess-launcher", daemon=True).start()

    def _loop(self) -> None:
        while True:
            fn, future = self._jobs.get()
            try:
                future.set_result(fn())
            except BaseException as e:  # noqa: BLE001 - handed to the caller
                future.set_exception(e)

    def popen(self, argv: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        if sys.platform.startswith("linux"):
            setpriv = shutil.which("setpriv")
            if setpriv:
                argv = [setpriv, "--pdeathsig", "KILL", "--", *argv]
            else:
                kwargs["preexec_fn"] = _pdeathsig_child
        future: Future[subprocess.Popen[bytes]] = Future()
        self._jobs.put((lambda: subprocess.Popen(argv, **kwargs), future))
        return future.result()


def _once(make: Callable[[], T]) -> Callable[[], T]:
    """A function returning the one object ``make`` makes, made on first use (thread-safe)."""
    lock = threading.Lock()
    made: list[T] = []

    def get() -> T:
        with lock:
            if not made:
                made.append(make())
            return made[0]

    return get


launcher = _once(_Launcher)


ALIAS_PREFIX = "geoguess-exiftool-"


def _remove_old_alias_dirs() -> None:
    """Empty alias folders that a killed GeoGuess left (an hour old: none of a running one)."""
    import time

    for folder in Path(tempfile.gettempdir()).glob(ALIAS_PREFIX + "*"):
        try:
            if time.time() - folder.stat().st_mtime > 3600:
                folder.rmdir()  # only when empty
        except OSError:
            pass


def _needs_alias(name: str) -> bool:
    if "\n" in name or "\r" in name:
        return True
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # bytes that are not UTF-8, kept by Python as lone surrogates
        return True
    return False


def _value_line(arg: str) -> str:
    """One argument as an argument-file line. Values with line breaks or leading spaces go as
    ExifTool's C strings, which cannot carry '$' or '@' (ExifTool 12 escapes them)."""
    key, eq, value = arg.partition("=")
    if not eq or not (("\n" in value or "\r" in value) or value[:1].isspace()):
        return arg
    if "$" in arg or "@" in arg:
        raise ExifToolError(f"the value of {key.lstrip('-')} cannot be passed to ExifTool (a line break with $ or @)")
    escaped = arg.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
    return "#[CSTR]" + escaped


class ExifTool:
    def __init__(self, program: str | None = None):
        self.program = program or find_exiftool()
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._counter = 0
        self._alias_dir: Path | None = None

    def _start(self) -> subprocess.Popen[bytes]:
        if self._proc is not None and self._proc.poll() is not None:
            self._close_pipes()  # it stopped: start another
        if self._proc is None:
            config = resources_dir() / "exiftool" / "geoguess.config"
            self._proc = launcher().popen(
                [self.program, "-config", str(config), "-stay_open", "True", "-@", "-"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                bufsize=0,
            )
        return self._proc

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    def run(self, *args: str | Path) -> tuple[str, str]:
        """One exiftool command; returns (stdout, stderr) as text. ``Path`` arguments are files."""
        out, err = self.run_binary(*args)
        return out.decode("utf-8", "replace"), err

    def run_binary(self, *args: str | Path) -> tuple[bytes, str]:
        """One exiftool command; returns stdout as bytes (for ``-b``) and stderr as text."""
        with self._lock:
            aliases: list[Path] = []
            try:
                lines = [self._file_arg(a, aliases) if isinstance(a, Path) else _value_line(a) for a in args]
                if any("\n" in line or "\r" in line for line in lines):
                    raise ExifToolError("an argument with a line break cannot be passed to ExifTool")
                proc = self._start()
                self._counter += 1
                marker = f"{{ready{self._counter}}}"
                lines += ["-echo4", marker, f"-execute{self._counter}"]
                try:
                    assert proc.stdin is not None  # started with stdin=PIPE
                    proc.stdin.write(("\n".join(lines) + "\n").encode("utf-8"))
                    proc.stdin.flush()
                    out, err = self._answer(proc, marker)
                except BaseException:
                    # Interrupted (Ctrl+C) or broken mid-command: what is left in the pipes would be
                    # read as the next command's answer. Start afresh next time.
                    self._kill()
                    raise
                return out, err.decode("utf-8", "replace")
            except (BrokenPipeError, ConnectionResetError):
                raise ExifToolError("exiftool stopped unexpectedly") from None
            finally:
                for alias in aliases:
                    alias.unlink(missing_ok=True)

    def _file_arg(self, path: Path, aliases: list[Path]) -> str:
        name = os.path.abspath(path)
        if not _needs_alias(name):
            return name
        if self._alias_dir is None or not self._alias_dir.is_dir():
            _remove_old_alias_dirs()
            self._alias_dir = Path(tempfile.mkdtemp(prefix=ALIAS_PREFIX))
            atexit.register(shutil.rmtree, self._alias_dir, True)
        suffix = Path(name).suffix
        if _needs_alias(suffix) or len(suffix) > 16:
            suffix = ""
        alias = self._alias_dir / f"{len(aliases)}{suffix}"
        alias.unlink(missing_ok=True)
        alias.symlink_to(name)
        aliases.append(alias)
        return str(alias)

    @staticmethod
    def _answer(proc: subprocess.Popen[bytes], marker: str) -> tuple[bytes, bytes]:
        """Standard output and error up to the end-of-answer marker on each, read together (a
        command that fills one pipe while the other is read would otherwise never end)."""
        end = marker.encode()
        assert proc.stdout is not None and proc.stderr is not None  # started with stdout=PIPE, stderr=PIPE
        data = {proc.stdout.fileno(): b"", proc.stderr.fileno(): b""}
        pending = set(data)
        with selectors.DefaultSelector() as selector:
            for fd in pending:
                selector.register(fd, selectors.EVENT_READ)
            while pending:
                for key, _ in selector.select():
                    fd = key.fd
                    chunk = os.read(fd, 65536)
                    if not chunk:
                        raise ExifToolError("exiftool stopped unexpectedly")
                    data[fd] += chunk
                    if data[fd].rstrip().endswith(end):
                        pending.discard(fd)
                        selector.unregister(fd)
        return (data[proc.stdout.fileno()].rstrip()[: -len(end)], data[proc.stderr.fileno()].rstrip()[: -len(end)])

    def _kill(self) -> None:
        if self._proc is not None:
            try:
                self._proc.kill()
                self._proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                pass
            self._close_pipes()

    def _close_pipes(self) -> None:
        assert self._proc is not None  # only called with a process
        for stream in (self._proc.stdin, self._proc.stdout, self._proc.stderr):
            assert stream is not None  # all three are pipes
            try:
                stream.close()
            except OSError:
                pass
        self._proc = None

    def read(self, path: Path) -> dict[str, Any]:
        """All tags, numeric values, 'Group1:Name' keys (one file)."""
        out, _ = self.run("-j", "-n", "-G1", "-a", "-struct", "-charset", "filename=utf8", Path(path))
        try:
            data = json.loads(out or "[]")
        except ValueError:
            return {}
        return data[0] if data else {}

    def close(self) -> None:
        with self._lock:
            if self._proc is not None and self._proc.poll() is None:
                try:
                    assert self._proc.stdin is not None  # started with stdin=PIPE
                    self._proc.stdin.write(b"-stay_open\nFalse\n")
                    self._proc.stdin.flush()
                    self._proc.wait(timeout=5)
                except (OSError, subprocess.TimeoutExpired):
                    self._proc.kill()
            if self._proc is not None:
                self._close_pipes()


def _start_shared() -> ExifTool:
    tool = ExifTool()
    atexit.register(tool.close)
    return tool


#: The ExifTool process every read and write of GeoGuess goes through.
shared_exiftool = _once(_start_shared)
