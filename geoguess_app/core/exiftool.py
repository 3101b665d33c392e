"""ExifTool, the reference for safe metadata writing, kept running for speed (-stay_open).

One exiftool process serves every read and write; commands are sent on its standard input and a
numbered "{ready}" line ends each answer. Calls are serialized by a lock.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import threading
from pathlib import Path

from ..resources import resources_dir
from .errors import GeoGuessError

INSTALL_HINT = ("GeoGuess writes metadata with ExifTool, which is not installed: install it "
                "(Debian/Ubuntu: apt install libimage-exiftool-perl; macOS: brew install exiftool), "
                "or set GEOGUESS_EXIFTOOL to the exiftool program")


class ExifToolError(GeoGuessError):
    pass


def find_exiftool() -> str:
    given = os.environ.get("GEOGUESS_EXIFTOOL")
    found = given if given and Path(given).exists() else shutil.which("exiftool")
    if not found:
        raise ExifToolError(INSTALL_HINT)
    return found


class ExifTool:
    def __init__(self, program: str | None = None):
        self.program = program or find_exiftool()
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._counter = 0

    def _start(self) -> subprocess.Popen:
        if self._proc is None or self._proc.poll() is not None:
            config = resources_dir() / "exiftool" / "geoguess.config"
            self._proc = subprocess.Popen(
                [self.program, "-config", str(config), "-stay_open", "True", "-@", "-"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0)
        return self._proc

    def run(self, *args: str) -> tuple[str, str]:
        """One exiftool command; returns (stdout, stderr) as text."""
        with self._lock:
            proc = self._start()
            self._counter += 1
            marker = f"{{ready{self._counter}}}"
            lines = [*args, "-echo4", marker, f"-execute{self._counter}"]
            proc.stdin.write(("\n".join(a.replace("\n", " ") for a in lines) + "\n").encode("utf-8"))
            proc.stdin.flush()
            out = self._read_until(proc.stdout, marker)
            err = self._read_until(proc.stderr, marker)
            return out, err

    @staticmethod
    def _read_until(stream, marker: str) -> str:
        data = b""
        end = marker.encode()
        while not data.rstrip().endswith(end):
            chunk = os.read(stream.fileno(), 65536)
            if not chunk:
                raise ExifToolError("exiftool stopped unexpectedly")
            data += chunk
        return data.rstrip()[: -len(end)].decode("utf-8", "replace")

    def read(self, path: Path) -> dict:
        """All tags, numeric values, 'Group1:Name' keys (one file)."""
        out, _ = self.run("-j", "-n", "-G1", "-a", "-struct", "-charset", "filename=utf8", str(path))
        try:
            data = json.loads(out or "[]")
        except ValueError:
            return {}
        return data[0] if data else {}

    def close(self) -> None:
        with self._lock:
            if self._proc is not None and self._proc.poll() is None:
                try:
                    self._proc.stdin.write(b"-stay_open\nFalse\n")
                    self._proc.stdin.flush()
                    self._proc.wait(timeout=5)
                except (OSError, subprocess.TimeoutExpired):
                    self._proc.kill()
            self._proc = None


_shared: ExifTool | None = None
_shared_lock = threading.Lock()


def shared_exiftool() -> ExifTool:
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = ExifTool()
            atexit.register(_shared.close)
        return _shared
