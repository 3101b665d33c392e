"""A cache of predictions, so that a folder predicted once is not predicted again.

SQLite in the user cache folder. Each entry is keyed by the photo's content (SHA-256 of its bytes,
so a renamed or copied photo is found, and a photo changed in any way is predicted again) and by
the model's identity (the md5 sums of its three files and whether it is an untrained stand-in), and
holds the result as plain data with the stored distribution (``Distribution.stored``). SQLite's
write-ahead log makes every entry atomic: a process killed while writing leaves the entries
before it whole and the one being written absent. A cache that cannot be opened or read is
reported once and then not used: predictions never fail because of it.

SQLite does not check what a page holds, so each entry carries a SHA-256 checksum of its keys and
its result, checked on every read: one changed byte (a class number moved by one is another
continent) makes the entry damaged. A damaged entry is said once per run, naming the photo, is
removed, and the photo is predicted again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .. import folders
from ..model.classifier import ModelInfo
from ..model.files import MODEL_FILES
from ..model.store import cached_md5
from ..names import display_path
from ..photos.regular_files import open_regular
from .results import PhotoResult

log = logging.getLogger(__name__)

SCHEMA = 3  # 2: GPS says whether GeoGuess wrote it (an entry of 1 would read it as a measurement); 3: checksums
MIN_CELLS = 32  # cells kept even when fewer hold 99.5% of the probability: top-k asks up to this many
CHUNK = 1 << 20


def default_cache_path() -> Path:
    return folders.predictions()


def photo_key(path: str | Path) -> str:
    """SHA-256 of the photo's bytes. Only a regular file is read: anything else (a FIFO, /dev/zero)
    is NotRegularFile, an OSError, never a wait."""
    h = hashlib.sha256()
    with open_regular(path) as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def entry_checksum(photo: str, model: str, schema: int, result: str) -> str:
    """SHA-256 of an entry's keys and result, as stored beside them."""
    return hashlib.sha256("\0".join((photo, model, str(schema), result)).encode()).hexdigest()


def model_key(info: ModelInfo) -> str:
    """What makes two models give the same answers: their files, the stand-in's marker, and the fast
    precision (exact runtimes share their answers: they agree to rounding)."""
    folder = Path(info.folder)
    parts = [cached_md5(folder / name) for name in MODEL_FILES]
    fast = [info.precision] if info.precision != "exact" else []  # keys of exact answers stay as they were
    return hashlib.sha256(json.dumps([parts, info.untrained, info.variant, *fast]).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class CacheInfo:
    path: Path
    entries: int
    size_bytes: int


class PredictionCache:
    """Stored predictions by photo content and model; safe to use from several threads."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path is not None else default_cache_path()
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._broken = False
        self._damage_said: set[tuple[str, str]] = set()  # entries found damaged in this run

    def __enter__(self) -> PredictionCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _connect(self) -> sqlite3.Connection | None:
        if self._db is None and not self._broken:
            db = None
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.path, check_same_thread=False, timeout=10)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")  # with WAL: a crash keeps every committed entry whole
                db.execute(
                    "CREATE TABLE IF NOT EXISTS predictions (photo TEXT NOT NULL, model TEXT NOT NULL, "
                    "schema INTEGER NOT NULL, result TEXT NOT NULL, created REAL NOT NULL, "
                    "checksum TEXT NOT NULL DEFAULT '', PRIMARY KEY (photo, model))"
                )
                columns = {row[1] for row in db.execute("PRAGMA table_info(predictions)")}
                if "checksum" not in columns:  # a cache made before checksums: its entries are never read
                    db.execute("ALTER TABLE predictions ADD COLUMN checksum TEXT NOT NULL DEFAULT ''")
                db.commit()
                self._db = db
            except sqlite3.Error as e:
                if db is not None:
                    db.close()
                self._give_up("cannot be opened", e)
        return self._db

    def _give_up(self, what: str, error: Exception) -> None:
        log.warning("the prediction cache %s %s (%s); predicting without it", self.path, what, error)
        self._broken = True
        if self._db is not None:
            self._db.close()
        self._db = None

    def get(self, photo: str, model: str, path: str) -> PhotoResult | None:
        """The stored result for this photo content and model, named ``path``; None if absent."""
        with self._lock:
            db = self._connect()
            if db is None:
                return None
            try:
                row = db.execute(
                    "SELECT result, checksum FROM predictions WHERE photo = ? AND model = ? AND schema = ?",
                    (photo, model, SCHEMA),
                ).fetchone()
            except sqlite3.Error as e:
                self._give_up("cannot be read", e)
                return None
        if row is None:
            return None
        text, checksum = row
        if not isinstance(text, str) or checksum != entry_checksum(photo, model, SCHEMA, text):
            self._damaged(photo, model, path, "its checksum does not match what it holds")
            return None
        try:
            data: dict[str, Any] = json.loads(text)
            return replace(PhotoResult.from_dict(data), path=path)
        except (ValueError, KeyError, TypeError) as e:
            self._damaged(photo, model, path, str(e))
            return None

    def _damaged(self, photo: str, model: str, path: str, why: str) -> None:
        """Say once per run that this entry is damaged, and remove it (the photo is predicted again)."""
        if (photo, model) not in self._damage_said:
            self._damage_said.add((photo, model))
            log.warning(
                "the prediction cache entry of %s is damaged (%s): predicting it again", display_path(path), why
            )
        with self._lock:
            db = self._connect()
            if db is None:
                return
            try:
                with db:
                    db.execute("DELETE FROM predictions WHERE photo = ? AND model = ?", (photo, model))
            except sqlite3.Error as e:
                self._give_up("cannot be written", e)

    def put(self, photo: str, model: str, result: PhotoResult) -> None:
        """Store a successful result with its stored distribution (at least ``MIN_CELLS`` cells)."""
        if not result.ok or result.distribution is None:
            return
        stored = result.distribution.stored()
        # enough cells for any usual top-k, even where fewer hold 99.5% of the probability
        kept = stored if len(stored.classes) >= MIN_CELLS else result.distribution.top(MIN_CELLS)
        text = json.dumps(replace(result, preview=None, distribution=kept).to_dict())
        checksum = entry_checksum(photo, model, SCHEMA, text)
        with self._lock:
            db = self._connect()
            if db is None:
                return
            try:
                with db:  # one transaction: the entry is all there or not at all
                    db.execute(
                        "INSERT OR REPLACE INTO predictions (photo, model, schema, result, created, checksum) "
                        "VALUES (?, ?, ?, ?, ?, ?)",
                        (photo, model, SCHEMA, text, time.time(), checksum),
                    )
            except sqlite3.Error as e:
                self._give_up("cannot be written", e)

    def info(self) -> CacheInfo:
        size = sum(p.stat().st_size for p in self.path.parent.glob(self.path.name + "*") if p.is_file())
        with self._lock:
            db = self._connect()
            entries = db.execute("SELECT COUNT(*) FROM predictions").fetchone()[0] if db is not None else 0
        return CacheInfo(self.path, int(entries), size)

    def clear(self) -> int:
        """Remove every entry; returns how many there were."""
        with self._lock:
            db = self._connect()
            if db is None:
                return 0
            with db:
                count = int(db.execute("SELECT COUNT(*) FROM predictions").fetchone()[0])
                db.execute("DELETE FROM predictions")
            db.execute("VACUUM")
            return count

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
