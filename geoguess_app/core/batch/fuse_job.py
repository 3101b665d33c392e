"""``batch fuse``: the evidence fusion of ``geoguess fuse`` (core/fusion), per folder or per camera
sequence, in parallel Ray tasks, from the parts of ``batch predict`` into parts of fused answers.

Each group is fused as ``geoguess fuse`` fuses the JSON Lines of ``geoguess predict --json
--distribution`` for those photos, in path order: the same lines are made from the stored results
and read by the same reader. A group's answers go into one part, so a restarted job redoes only
the groups it had not finished.

A RAW+JPEG pair (photos/pairs.py, found from the paths and stored times) is fused once, as
``geoguess tag`` fuses it: the JPEG is among its group's photos, and the RAW's row carries the
JPEG's answer and names it (``twin``), so that ``batch write`` writes both in one step.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from ..errors import GeoGuessError
from ..fusion.fuse import FusedAnswer, fuse
from ..fusion.geometry import GridGeometry
from ..fusion.inputs import read_lines
from ..fusion.settings import PreparedFusion
from ..geo.cells import CellGrid
from ..photos.pairs import find_twins
from ..predict.results import PhotoResult
from .parts import FUSED_SCHEMA, PartWriter, done_paths, read_parts
from .sources import is_uri

TASK_PHOTOS = 2000  # about how many photos one task fuses (small groups share a task)


@dataclass
class FuseSummary:
    groups: int
    skipped: int  # groups already in the output folder
    fused: int = 0  # photos fused by this run
    failed: int = 0


def group_of(path: str, camera: str | None, by: str) -> str:
    """The set a photo is fused with: its folder, or its folder and camera (``by="camera"``)."""
    folder = os.path.dirname(path)
    return f"{folder} | {camera or 'unknown camera'}" if by == "camera" else folder


class Group(NamedTuple):
    name: str
    results: list[str]  # its photos' stored results, in path order
    twins: list[tuple[str, str, str]]  # (RAW path, its stored result, its JPEG twin's path)


def fuse_groups(groups: Sequence[Group], grid_file: str, fusion: PreparedFusion) -> list[dict[str, Any]]:
    """Fuse each group; one row per photo, and one per RAW twin (its JPEG's answer)."""
    geometry = GridGeometry(CellGrid.from_file(grid_file))
    options = fusion.options(geometry)
    rows = []
    for name, results, twins in groups:
        lines = [json.dumps(PhotoResult.from_dict(json.loads(r)).as_dict(distribution=True)) for r in results]
        photos, models = read_lines(lines, geometry.num_cells)
        untrained = any(m.get("untrained") for m in models)
        answers = {}
        for answer, result in zip(fuse(fusion.adjusted(photos), geometry, options), results):
            answers[answer.path] = answer
            rows.append(fused_row(name, answer, result, untrained and not answer.measured))
        for raw, result, jpeg in twins:
            answer = dataclasses.replace(answers[jpeg], path=raw)
            rows.append(fused_row(name, answer, result, untrained and not answer.measured, twin=jpeg))
    return rows


def fused_row(group: str, answer: FusedAnswer, result: str, untrained: bool, twin: str | None = None) -> dict[str, Any]:
    lat, lon = answer.position if answer.position else (None, None)
    return {
        "path": answer.path,
        "group": group,
        "lat": lat,
        "lon": lon,
        "radius_km": answer.radius_km,
        "source": None if answer.error else answer.source,
        "probability": answer.probability,
        "untrained": untrained,
        "error": answer.error,
        "answer": json.dumps(dataclasses.asdict(answer), ensure_ascii=False),
        "result": result,
        "twin": twin,
    }


def answer_from_json(text: str) -> FusedAnswer:
    data = json.loads(text)
    for key in ("position", "single"):
        if data.get(key) is not None:
            data[key] = tuple(data[key])
    return FusedAnswer(**data)


def run_fuse(
    predictions: str | Path,
    out_dir: str | Path,
    grid_file: str | Path,
    fusion: PreparedFusion,
    by: str = "folder",
    on_rows: Callable[[int, int], None] | None = None,
) -> FuseSummary:
    """Fuse the photos of ``predictions`` (a folder of batch predict parts) group by group into
    ``out_dir``; Ray must be connected. ``on_rows(rows, failed)`` after each task."""
    import ray

    columns = ["path", "camera", "taken", "result"]
    table = read_parts(predictions, columns=columns)
    if table is None:
        raise GeoGuessError(f"{predictions} holds no parts of 'geoguess batch predict'")
    rows = {
        path: (camera, taken, result)
        for path, camera, taken, result in zip(*(table.column(c).to_pylist() for c in columns))
    }
    local = [p for p in rows if not is_uri(p)]
    twin_of = find_twins(local, lambda p: rows[str(p)][1])  # RAW -> its JPEG
    groups: dict[str, list[tuple[str, str]]] = {}
    twins: dict[str, list[tuple[str, str, str]]] = {}
    for path, (camera, _, result) in rows.items():
        if path in twin_of:  # fused with its JPEG, in the JPEG's group
            jpeg = twin_of[path]
            twins.setdefault(group_of(jpeg, rows[jpeg][0], by), []).append((path, result, jpeg))
        else:
            groups.setdefault(group_of(path, camera, by), []).append((path, result))
    done = done_paths(out_dir)
    todo = [
        Group(name, [r for _, r in sorted(members)], sorted(twins.get(name, [])))
        for name, members in sorted(groups.items())
        if not all(path in done for path, _ in members) or not all(raw in done for raw, _, _ in twins.get(name, []))
    ]
    summary = FuseSummary(groups=len(groups), skipped=len(groups) - len(todo))
    writer = PartWriter(out_dir, FUSED_SCHEMA)
    tasks, chunk, size = [], [], 0
    remote = ray.remote(fuse_groups)
    for group in todo:
        chunk.append(group)
        size += len(group.results)
        if size >= TASK_PHOTOS:
            tasks.append(remote.remote(chunk, str(grid_file), fusion))
            chunk, size = [], 0
    if chunk:
        tasks.append(remote.remote(chunk, str(grid_file), fusion))
    pending = list(tasks)
    while pending:
        ready, pending = ray.wait(pending, num_returns=1)
        rows = ray.get(ready[0])
        writer.add(rows)
        writer.flush()  # a task's groups whole in one part
        failed = sum(1 for r in rows if r["error"])
        summary.fused += len(rows)
        summary.failed += failed
        if on_rows:
            on_rows(len(rows), failed)
    return summary
