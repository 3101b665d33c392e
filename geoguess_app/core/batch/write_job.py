"""``batch write``: the fused positions written into the photos, on the machine that holds them,
through the same decisions, writer, journal and undo as ``geoguess tag``.

Each photo is decided by the same service as ``geoguess tag`` (geotag/job.py): a photo with its
own GPS keeps it, one GeoGuess tagged before is skipped (so a rerun after a stop goes on where it
stopped), one below the policy's threshold is skipped, the others are written (or rehearsed).
The whole run is one run of the undo journal: ``geoguess undo --run ID`` puts every photo back.
A RAW file fused as its JPEG's twin is written with the JPEG, into its sidecar, as ``tag`` does.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

from ..errors import GeoGuessError
from ..geotag.job import GeotagJob
from ..geotag.outcome import SKIPPED, STOPPED, TagOutcome
from ..predict.results import PhotoResult
from .fuse_job import answer_from_json
from .parts import read_parts
from .sources import is_uri


def write_fused(fused: str | Path, job: GeotagJob, stop: threading.Event | None = None) -> Iterator[TagOutcome]:
    """One outcome per photo of ``fused`` (a folder of batch fuse parts), in path order."""
    columns = ["path", "answer", "result", "twin"]
    table = read_parts(fused, columns=columns)
    if table is None:
        raise GeoGuessError(f"{fused} holds no parts of 'geoguess batch fuse'")
    # a group fused again (photos of its folder predicted since) has newer rows in a later part:
    # parts are named by time, read in that order, and the last answer for a photo counts
    latest = {
        path: (answer, result, twin)
        for path, answer, result, twin in zip(*(table.column(c).to_pylist() for c in columns))
    }
    # a RAW twin is written with its JPEG, right after it (one step of the journal)
    raw_of = {twin: path for path, (_, _, twin) in latest.items() if twin is not None and twin in latest}
    rows = sorted((path, answer, result) for path, (answer, result, twin) in latest.items() if twin not in latest)
    if job.writer is not None:
        job.writer.prepare_folders([p for p in latest if not is_uri(p)])
    for path, answer, result in rows:
        twin = raw_of.get(path)
        if stop is not None and stop.is_set():
            yield from TagOutcome(path, SKIPPED, STOPPED, twin=twin and TagOutcome(twin, SKIPPED, STOPPED)).with_twin()
            continue
        if is_uri(path):
            yield TagOutcome(path, SKIPPED, "not on this machine: run batch write where the photo is")
            continue
        yield from job.decide(PhotoResult.from_dict(json.loads(result)), answer_from_json(answer), twin).with_twin()
