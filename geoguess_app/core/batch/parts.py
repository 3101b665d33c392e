"""The Parquet parts of each batch stage: a folder of ``part-*.parquet`` files, each written to a
temporary name and renamed once complete, so that a killed job leaves whole parts only. A
restarted stage reads which photos its folder already holds and does only the others.

A row of ``batch predict`` holds what an archive wants to query (path, content hash, time and
offset, camera, the photo's own GPS, the top five, the stored distribution, the error) and
``result``: the photo's whole result as GeoGuess keeps it (``PhotoResult.to_dict``, with the
stored distribution), from which ``batch fuse`` makes the line of ``geoguess predict --json
--distribution`` that ``geoguess fuse`` reads.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import GeoGuessError
from ..predict.results import PhotoResult

PART_GLOB = "part-*.parquet"
COMPLETE = "_COMPLETE.json"  # batch predict: every photo of its sources has a row

PREDICTION_SCHEMA = pa.schema(
    [
        ("path", pa.string()),
        ("sha256", pa.string()),  # of the file's bytes; null when it could not be read
        ("taken", pa.string()),  # EXIF time as written in the photo, no zone
        ("offset", pa.string()),  # EXIF offset from UTC ("+02:00"), when the photo has one
        ("camera", pa.string()),  # EXIF make and model
        ("gps_lat", pa.float64()),  # the photo's own GPS position, when it has one
        ("gps_lon", pa.float64()),
        ("top_classes", pa.list_(pa.int32())),  # the five most likely cells, best first
        ("top_probabilities", pa.list_(pa.float64())),
        ("top_lats", pa.list_(pa.float64())),
        ("top_lons", pa.list_(pa.float64())),
        ("top_places", pa.list_(pa.string())),
        ("distribution_classes", pa.list_(pa.int32())),  # the stored distribution (99.5%, at most 512 cells)
        ("distribution_probabilities", pa.list_(pa.float32())),
        ("untrained", pa.bool_()),  # made by the untrained stand-in: the places mean nothing
        ("error", pa.string()),  # why the photo has no prediction
        ("result", pa.string()),  # PhotoResult.to_dict, with the stored distribution
    ]
)

FUSED_SCHEMA = pa.schema(
    [
        ("path", pa.string()),
        ("group", pa.string()),  # the set it was fused with (its folder, or folder and camera)
        ("lat", pa.float64()),
        ("lon", pa.float64()),
        ("radius_km", pa.float64()),
        ("source", pa.string()),  # gps, track, interpolated, fused or model
        ("probability", pa.float64()),
        ("untrained", pa.bool_()),
        ("error", pa.string()),
        ("answer", pa.string()),  # the whole FusedAnswer (its fields as JSON)
        ("result", pa.string()),  # its prediction, as batch predict wrote it
        ("twin", pa.string()),  # a RAW file's JPEG twin: fused as one photo, its answer the JPEG's
    ]
)


def prediction_row(result: PhotoResult, sha256: str | None) -> dict[str, Any]:
    """One photo's row of ``batch predict``."""
    if result.distribution is not None:
        result.distribution = result.distribution.stored()  # what GeoGuess keeps in files
    taken, gps, top, meta = result.taken, result.exif_gps, result.predictions, result.meta
    stored = result.distribution
    return {
        "path": result.path,
        "sha256": sha256,
        "taken": taken["time"],
        "offset": taken["offset"] or None,
        "camera": f"{meta.make} {meta.model}".strip() if meta else None,
        "gps_lat": gps.lat if gps else None,
        "gps_lon": gps.lon if gps else None,
        "top_classes": [g.cls for g in top],
        "top_probabilities": [g.probability for g in top],
        "top_lats": [g.lat for g in top],
        "top_lons": [g.lon for g in top],
        "top_places": [g.place for g in top],
        "distribution_classes": [int(c) for c in stored.classes] if stored is not None else [],
        "distribution_probabilities": [float(p) for p in stored.probabilities] if stored is not None else [],
        "untrained": bool(result.model and result.model.untrained),
        "error": result.error,
        "result": json.dumps(result.to_dict(), ensure_ascii=False),
    }


class PartWriter:
    """Rows collected and written as whole parts: every ``rows`` rows or ``seconds`` seconds."""

    def __init__(self, folder: str | Path, schema: pa.Schema, rows: int = 256, seconds: float = 30.0):
        self.folder = Path(folder)
        self.schema = schema
        self.rows, self.seconds = rows, seconds
        self._pending: list[dict[str, Any]] = []
        self._since = time.monotonic()
        self.folder.mkdir(parents=True, exist_ok=True)
        for stale in self.folder.glob(".part-*.tmp"):  # a part being written when a job was killed
            stale.unlink(missing_ok=True)

    def add(self, rows: Iterable[dict[str, Any]]) -> None:
        self._pending.extend(rows)
        if len(self._pending) >= self.rows or time.monotonic() - self._since >= self.seconds:
            self.flush()

    def flush(self) -> None:
        if not self._pending:
            return
        table = pa.Table.from_pylist(self._pending, schema=self.schema)
        name = f"part-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:12]}"
        tmp = self.folder / f".{name}.tmp"
        try:
            pq.write_table(table, tmp, compression="zstd")
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
            os.replace(tmp, self.folder / f"{name}.parquet")  # whole, or not there at all
        except (OSError, pa.ArrowException) as e:
            tmp.unlink(missing_ok=True)
            raise GeoGuessError(
                f"cannot write a part into {self.folder}: {getattr(e, 'strerror', None) or e}"
            ) from None
        self._pending.clear()
        self._since = time.monotonic()


def read_parts(folder: str | Path, columns: list[str] | None = None) -> pa.Table | None:
    """Every part of a stage's folder as one table (None when it has none)."""
    parts = sorted(Path(folder).glob(PART_GLOB))
    if not parts:
        return None
    try:
        return pa.concat_tables([_read_part(p, columns) for p in parts])
    except (OSError, pa.ArrowException) as e:
        raise GeoGuessError(f"cannot read the parts in {folder}: {e}") from None


def _read_part(part: Path, columns: list[str] | None) -> pa.Table:
    """One part; a column it does not have (a part written by an earlier GeoGuess) is read as nulls."""
    if columns is None:
        return pq.read_table(part)
    held = set(pq.read_schema(part).names)
    table = pq.read_table(part, columns=[c for c in columns if c in held])
    for c in columns:
        if c not in held:
            table = table.append_column(c, pa.nulls(len(table), pa.string()))
    return table.select(columns)


def done_paths(folder: str | Path, retry_unread: bool = False) -> set[str]:
    """The photos a stage's folder already holds a row for; with ``retry_unread``, not those whose
    file could not be read (a network file system's hiccup, an expired credential): a rerun tries
    them again."""
    if not Path(folder).is_dir():
        return set()
    table = read_parts(folder, columns=["path", "sha256"] if retry_unread else ["path"])
    if table is None:
        return set()
    paths = table.column("path").to_pylist()
    if not retry_unread:
        return set(paths)
    return {p for p, h in zip(paths, table.column("sha256").to_pylist()) if h is not None}


def mark_complete(folder: str | Path, photos: int | None) -> None:
    """Say that batch predict's folder holds every photo of its sources (``photos`` of them), or,
    with None, that it does not (a run is under way)."""
    marker = Path(folder) / COMPLETE
    if photos is None:
        marker.unlink(missing_ok=True)
    else:
        marker.write_text(json.dumps({"photos": photos, "finished": time.strftime("%Y-%m-%d %H:%M:%S")}) + "\n")
