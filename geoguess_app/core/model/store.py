"""The model store: where the LocationNet files live, and getting them there safely.

The folder is, in order of precedence: ``--model-dir``, ``$GEOGUESS_MODEL_DIR``, or the per-user
data folder from platformdirs (for example ``~/.local/share/GeoGuess/models/locationnet``).

Downloads and imports go to a staging folder next to the target, are checked against the published
md5 sums, and only then replace the model folder; a broken transfer is resumed from where it
stopped (HTTP Range). The model folder therefore always holds a complete, verified model or none.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from ... import environment
from .. import folders
from ..errors import GeoGuessError, StoreError
from .files import MODEL_FILES, OFFICIAL_FILES, UNTRAINED_MARKER, OfficialFile, read_marker

if TYPE_CHECKING:
    import requests

ENV_MODEL_DIR = environment.MODEL_DIR
CHUNK = 1 << 20
STREAM_CHUNK = 1 << 16  # written as it arrives: a broken transfer loses less than this

#: What to do with weights that are not the published ones (said when an import refuses them).
OTHER_WEIGHTS = (
    "To use them as they are (every answer then says UNVERIFIED), point GeoGuess at their folder instead: "
    "--model-dir {folder}, or set the environment variable {env}={folder}. To try GeoGuess without the "
    "published model, 'geoguess model synth OUT_DIR --source FOLDER' makes an untrained stand-in from the "
    "official symbol file and grids.txt in FOLDER."
)

#: progress(file name, bytes done, bytes total or None)
Progress = Callable[[str, int, int | None], None]


def default_model_dir() -> Path:
    return folders.model()


def resolve_model_dir(explicit: str | Path | None = None) -> Path:
    if explicit:
        return Path(explicit).expanduser()
    env = environment.model_dir()
    if env:
        return Path(env).expanduser()
    return default_model_dir()


def md5_of(path: Path, cancel: threading.Event | None = None) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            if cancel is not None and cancel.is_set():
                raise StoreError("cancelled")
            h.update(block)
    return h.hexdigest()


_md5_lock = threading.Lock()


def cache_path(name: str) -> Path:
    """A file of GeoGuess's in the user cache folder."""
    return folders.cache() / name


def read_record(path: Path) -> dict[str, Any]:
    """A JSON object GeoGuess keeps in its cache folder; empty when missing or damaged."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_record(path: Path, data: dict[str, Any]) -> None:
    """Replace such a record atomically; a record that cannot be written only costs time later."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
        tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass


def md5_cache_path() -> Path:
    return cache_path("model-md5.json")


def cached_md5(path: Path, fresh: bool = False) -> str:
    """The file's md5, remembered by its path, size, inode, modification and change times, so
    that checking a 300 MB model again at each load costs nothing; ``fresh`` computes it anyway."""
    st = path.stat()
    key = os.path.realpath(path)
    stamp = [st.st_size, st.st_ino, st.st_mtime_ns, st.st_ctime_ns]
    cache_file = md5_cache_path()
    with _md5_lock:
        entry = read_record(cache_file).get(key)
        if not fresh and isinstance(entry, dict) and entry.get("stamp") == stamp and isinstance(entry.get("md5"), str):
            return str(entry["md5"])
    digest = md5_of(path)
    with _md5_lock:
        cache = {k: v for k, v in read_record(cache_file).items() if os.path.exists(k)}  # files gone: entries too
        cache[key] = {"stamp": stamp, "md5": digest}
        write_record(cache_file, cache)
    return digest


def files_verified(folder: str | Path) -> bool:
    """Whether the folder's three model files are exactly the published ones (md5, cached)."""
    folder = Path(folder)
    try:
        return all(cached_md5(folder / name) == OFFICIAL_FILES[name].md5 for name in MODEL_FILES)
    except OSError:
        return False


@dataclass(frozen=True)
class FileCheck:
    name: str
    present: bool
    size: int | None
    md5: str | None
    official: bool  # md5 equals the published one

    @property
    def verdict(self) -> str:
        """Whether this file is the published one, in words."""
        if not self.present:
            return "missing"
        return "matches the published md5" if self.official else "differs from the published file"


@dataclass(frozen=True)
class StoreReport:
    folder: Path
    files: tuple[FileCheck, ...]
    untrained: bool

    @property
    def complete(self) -> bool:
        return all(f.present for f in self.files)

    @property
    def verified(self) -> bool:
        """All three files present and identical to the published ones."""
        return self.complete and all(f.official for f in self.files)


def inspect_folder(folder: str | Path, fresh: bool = False) -> StoreReport:
    """What a model folder holds, with md5 sums checked against the published ones (remembered
    between calls unless ``fresh``)."""
    folder = Path(folder)
    checks = []
    for name in MODEL_FILES:
        path = folder / name
        if path.is_file():
            digest = cached_md5(path, fresh=fresh)
            checks.append(FileCheck(name, True, path.stat().st_size, digest, digest == OFFICIAL_FILES[name].md5))
        else:
            checks.append(FileCheck(name, False, None, None, False))
    return StoreReport(folder, tuple(checks), read_marker(folder) is not None)


def _staging_for(target: Path, purpose: str) -> Path:
    return target.parent / f".{target.name}.{purpose}"


def _install(staging: Path, target: Path) -> None:
    """Swap a complete staging folder in place of the model folder."""
    target.parent.mkdir(parents=True, exist_ok=True)
    old = None
    if target.exists():
        old = target.parent / f".{target.name}.old-{int(time.time() * 1000)}"
        target.rename(old)
    try:
        staging.rename(target)
    except OSError:
        if old is not None:
            old.rename(target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def download(
    target: str | Path,
    files: Iterable[OfficialFile] = tuple(OFFICIAL_FILES.values()),
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    timeout: float = 15.0,
) -> Path:
    """Download the model files into ``target`` (resuming earlier partial transfers)."""
    import requests  # only needed here

    target = Path(target).expanduser()
    staging = _staging_for(target, "download")
    staging.mkdir(parents=True, exist_ok=True)
    session = requests.Session()
    try:
        for spec in files:
            final = staging / spec.name
            if final.is_file() and md5_of(final, cancel) == spec.md5:
                if progress:
                    progress(spec.name, final.stat().st_size, final.stat().st_size)
                continue
            part = staging / (spec.name + ".part")
            _fetch(session, spec, part, progress, cancel, timeout)
            digest = md5_of(part, cancel)
            if digest != spec.md5:
                part.unlink(missing_ok=True)
                raise StoreError(
                    f"{spec.name} was downloaded but its md5 sum is {digest}, not the published {spec.md5}; "
                    "the copy was deleted. Try again later."
                )
            part.replace(final)
    except BaseException:
        if not any(p.stat().st_size for p in staging.iterdir()):
            shutil.rmtree(staging, ignore_errors=True)  # nothing worth resuming
        raise
    _install(staging, target)
    return target


def _fetch(
    session: requests.Session,
    spec: OfficialFile,
    part: Path,
    progress: Progress | None,
    cancel: threading.Event | None,
    timeout: float,
) -> None:
    import requests

    host = urlparse(spec.url).hostname or spec.url
    done = part.stat().st_size if part.exists() else 0
    headers = {"Range": f"bytes={done}-"} if done else {}
    try:
        with session.get(spec.url, stream=True, headers=headers, timeout=(timeout, 60)) as response:
            if response.status_code == 416 and done:  # already complete
                return
            if response.status_code not in (200, 206):
                raise StoreError(f"{host} answered {response.status_code} {response.reason} for {spec.name}")
            if response.status_code == 200 and done:
                done = 0  # the server ignored the Range request: start again
            length = response.headers.get("Content-Length")
            total = done + int(length) if length and length.isdigit() else spec.size
            with open(part, "ab" if done else "wb") as out:
                if progress:
                    progress(spec.name, done, total)
                for block in response.iter_content(STREAM_CHUNK):
                    if cancel is not None and cancel.is_set():
                        raise StoreError("download cancelled; run it again to resume")
                    out.write(block)
                    done += len(block)
                    if progress:
                        progress(spec.name, done, total)
            if total is not None and done < total:
                raise StoreError(
                    f"the transfer of {spec.name} broke off at {done:,} of {total:,} bytes; "
                    "run the download again to resume"
                )
    except requests.exceptions.ConnectionError:
        raise StoreError(
            f"cannot reach {host}: no internet connection? "
            "Get the three model files elsewhere and use 'geoguess model import FOLDER'."
        ) from None
    except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError):
        got = part.stat().st_size if part.exists() else 0
        raise StoreError(
            f"the connection broke while downloading {spec.name} ({got:,} bytes kept); run the download again to resume"
        ) from None
    except requests.exceptions.Timeout:
        raise StoreError(f"{host} did not answer in time; run the download again to resume") from None
    except requests.exceptions.RequestException as e:
        raise StoreError(f"downloading {spec.name} failed: {e}; run it again to resume") from None


def import_model(
    source: str | Path, target: str | Path, load_check: Callable[[Path], None], progress: Progress | None = None
) -> StoreReport:
    """Copy a model folder the user got elsewhere into the store, verifying it first.

    The official files must match their published md5 sums. A folder made by
    ``geoguess model synth`` (it carries the untrained marker) is accepted as an untrained stand-in.
    Either way the folder must load before it is installed: ``load_check(folder)`` raises a
    GeoGuessError if it does not (``core.engine.import_model`` gives the runtime's check).
    """
    source, target = Path(source).expanduser(), Path(target).expanduser()
    if not source.is_dir():
        raise StoreError(f"{source} is not a folder")
    missing = [n for n in MODEL_FILES if not (source / n).is_file()]
    if missing:
        raise StoreError(f"{source} does not hold a LocationNet model: missing {', '.join(missing)}")
    untrained = read_marker(source) is not None
    staging = _staging_for(target, "import")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        names = MODEL_FILES + ((UNTRAINED_MARKER,) if untrained else ())
        for name in names:
            src = source / name
            if progress:
                progress(name, 0, src.stat().st_size)
            shutil.copyfile(src, staging / name)
            if progress:
                progress(name, src.stat().st_size, src.stat().st_size)
        report = inspect_folder(staging, fresh=True)
        if not untrained and not report.verified:
            bad = [f.name for f in report.files if not f.official]
            raise StoreError(
                f"{', '.join(bad)} in {source} differ from the published LocationNet files (md5 mismatch): not "
                f"imported. {OTHER_WEIGHTS.format(folder=source, env=ENV_MODEL_DIR)}"
            )
        try:
            load_check(staging)
        except GeoGuessError as e:
            raise StoreError(f"the model in {source} does not load, so it was not imported: {e}") from None
        _install(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return inspect_folder(target)
