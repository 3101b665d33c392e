"""The undo journal: what each geotag write changed, so that ``geoguess undo`` can put it back.

One JSON line per write, appended and flushed to disk *before* the new file is renamed into place:
a record may describe a write that a crash stopped (undoing it then changes nothing), but no write
happens without its record. Undone records are marked by an "undone" line.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import platformdirs


def default_journal() -> Path:
    return platformdirs.user_data_path("GeoGuess", appauthor=False) / "geotag-journal.jsonl"


@dataclass
class Entry:
    id: str
    path: str
    before: dict
    after: dict
    time: float


class Journal:
    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path else default_journal()
        self._lock = threading.Lock()

    def record(self, photo: Path, before: dict, after: dict) -> str:
        entry_id = f"{time.time_ns():x}-{os.getpid()}"
        self._append({"id": entry_id, "time": time.time(), "path": str(Path(photo).resolve()),
                      "before": before, "after": after})
        return entry_id

    def mark_undone(self, entry_id: str) -> None:
        self._append({"undone": entry_id, "time": time.time()})

    def _append(self, record: dict) -> None:
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(json.dumps(record, ensure_ascii=False) + "\n")
                f.flush()
                os.fsync(f.fileno())

    def entries(self) -> list[Entry]:
        """Writes not yet undone, oldest first. A torn last line (a crash while appending) is skipped."""
        if not self.path.exists():
            return []
        records, undone = [], set()
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if "undone" in record:
                undone.add(record["undone"])
            elif {"id", "path", "before", "after"} <= set(record):
                records.append(Entry(record["id"], record["path"], record["before"], record["after"],
                                     record.get("time", 0.0)))
        return [r for r in records if r.id not in undone]
