"""``batch predict``: the photos of an archive through Ray Data, into Parquet parts.

The stages are those of ``geoguess predict`` (``predict.pipeline``), spread over a cluster:

1. **decode** in CPU tasks: read the file (or fetch it from a remote file system), hash it, read its
   EXIF and apply the published recipe (``pipeline.decode``);
2. **classify** in a pool of actors (one per GPU, or per few CPUs), each holding the model once:
   the classifier's probabilities, the stored distribution and the top five with place names
   (the Predictor's own ``infer``, ``score`` and ``describe``);
3. the driver writes the rows into parts as they come (``store.PartWriter``).

Ray Data streams the photos through with backpressure: decoding runs only as far ahead of the
actors as its buffers allow. A photo that cannot be read or decoded is a row with its error. A
restarted job skips the photos the output folder already holds.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ..engine import open_engine
from ..predict.pipeline import decode
from ..predict.results import PhotoResult
from .parts import PREDICTION_SCHEMA, PartWriter, done_paths, mark_complete, prediction_row
from .sources import list_sources, local_copy

log = logging.getLogger(__name__)

DECODE_BATCH = 8  # photos per decoding task
#: Photos per model call: larger on a GPU (the classifier alone: 1,647 photos/s at 64 on an H200).
CPU_BATCH, GPU_BATCH = 8, 64
NOT_UTF8 = "its file name is not UTF-8, which Parquet cannot store: rename it (or use geoguess tag)"
MODEL_MEMORY = 3 << 29  # what an actor holding the full-size model needs (Ray saw 1.2 GiB)


@dataclass
class PredictSummary:
    total: int  # photos the sources name
    skipped: int  # already in the output folder (an earlier run)
    predicted: int = 0  # rows written by this run
    failed: int = 0  # of them, photos with an error
    actors: int = 0  # model actors used
    untrained: bool = False  # the model is the untrained stand-in


def decode_batch(batch: dict[str, Any], reduced: bool = False) -> dict[str, Any]:
    """Stage 1 (a CPU task): each photo's partial result (as JSON), hash and input tensor;
    ``reduced``: the fast precision's decode."""
    partial, hashes, tensors, ok = [], [], [], []
    for source in batch["path"]:
        source = str(source)
        tensor = None
        try:
            with local_copy(source) as (path, sha256):
                result, tensor = decode(path, reduced=reduced)
            result.path = source
        except OSError as e:  # not read: tried again when the job is run again
            result, sha256 = PhotoResult(source, error=f"cannot read this photo: {e.strerror or e}"), None
        except Exception as e:  # (a URI of a file system pyarrow does not know): this photo's error
            log.exception("cannot read %s", source)
            result, sha256 = PhotoResult(source, error=f"cannot read this photo ({type(e).__name__}: {e})"), None
        partial.append(json.dumps(result.to_dict()))
        hashes.append(sha256)
        ok.append(tensor is not None)
        tensors.append(tensor if tensor is not None else None)
    return {
        "path": np.asarray([str(p) for p in batch["path"]], dtype=object),
        "partial": np.asarray(partial, dtype=object),
        "sha256": np.asarray(hashes, dtype=object),
        "ok": np.asarray(ok, dtype=bool),
        # each photo's input as bytes: a (3, 224, 224) tensor, or a video's frames one after another
        "tensor": np.asarray([t.astype(np.float32).tobytes() if t is not None else b"" for t in tensors], dtype=object),
    }


def _inputs(tensor_bytes: Any) -> npt.NDArray[np.float32]:
    """A photo's input again: (3, 224, 224), or (frames, 3, 224, 224) for a video."""
    frames = np.frombuffer(tensor_bytes, dtype=np.float32).reshape(-1, 3, 224, 224)
    return frames[0] if len(frames) == 1 else frames


class Classify:
    """Stage 2 (an actor): the model loaded once; each batch's rows as JSON."""

    def __init__(self, model_dir: str, runtime: str, device: str, precision: str, top_k: int = 5):
        self.engine = open_engine(model_dir, device, runtime=runtime, precision=precision).result()
        self.predictor = self.engine.predictor(top_k=top_k)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        predictor, info = self.predictor, self.engine.info
        results = [PhotoResult.from_dict(json.loads(p)) for p in batch["partial"]]
        fresh = [i for i, ok in enumerate(batch["ok"]) if ok]
        probabilities = predictor.probabilities([_inputs(batch["tensor"][i]) for i in fresh])
        for i, vector in zip(fresh, probabilities):
            result = results[i]
            result.distribution = predictor.score(vector)
            result.predictions = predictor.describe(result.distribution, result.exif_gps)
        rows = []
        for result, sha256 in zip(results, batch["sha256"]):
            result.model = info
            rows.append(json.dumps(_row(result, sha256), ensure_ascii=False))
        return {"row": np.asarray(rows, dtype=object)}


def _row(result: PhotoResult, sha256: str | None) -> dict[str, Any]:
    """The photo's row; one that cannot be stored (a file name that is not UTF-8, which Parquet
    cannot hold) is an error row of its own, never the end of the job."""
    try:
        result.path.encode("utf-8")
    except UnicodeEncodeError:
        escaped = result.path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        return prediction_row(PhotoResult(escaped, model=result.model, error=NOT_UTF8), sha256)
    try:
        return prediction_row(result, sha256)
    except Exception as e:
        log.exception("no row for %s", result.path)
        return prediction_row(PhotoResult(result.path, model=result.model, error=f"cannot store ({e})"), sha256)


def connect(address: str | None, num_cpus: int | None = None) -> None:
    """Join the Ray cluster at ``address``, or start a local one on this machine."""
    import ray

    if ray.is_initialized():
        return
    # the workers' own output (libtiff's complaints about broken files) stays in Ray's logs: each photo's
    # error is in its row
    kwargs: dict[str, Any] = {"logging_level": logging.WARNING, "log_to_driver": False}
    if address:
        ray.init(address=address, **kwargs)
    else:
        ray.init(num_cpus=num_cpus, include_dashboard=False, **kwargs)
    ray.data.DataContext.get_current().enable_progress_bars = False  # GeoGuess shows its own
    logging.getLogger("ray.data").setLevel(logging.WARNING)  # not each dataset's plan and timing


def default_workers(device: str) -> tuple[int, float, float]:
    """(actors, CPUs each, GPUs each): one per GPU of the cluster, else one per four CPUs."""
    import ray

    resources = ray.cluster_resources()
    gpus = int(resources.get("GPU", 0))
    if device != "cpu" and gpus:
        return gpus, 1.0, 1.0
    return max(1, int(resources.get("CPU", 1)) // 4), 1.0, 0.0


def actor_cpus(actors: int, cpus: float, gpus: float) -> float:
    """The CPUs each model actor asks for: on CPUs alone, never all of them, so that one stays for
    decoding (else the decoding tasks would wait for ever behind actors that wait for them)."""
    import ray

    total = float(ray.cluster_resources().get("CPU", 1))
    if gpus or actors * cpus < total:
        return cpus
    return max(0.1, (total - 1) / actors) if total > 1 else 0.5 / actors


def run_predict(
    sources: list[str],
    out_dir: str | Path,
    model_dir: str | Path,
    runtime: str = "auto",
    device: str = "auto",
    precision: str = "exact",
    workers: int | None = None,
    batch_size: int | None = None,
    on_rows: Callable[[int, int], None] | None = None,
    part_rows: int = 256,
    photos: list[str] | None = None,
    done: set[str] | None = None,
) -> PredictSummary:
    """Predict every photo of ``sources`` not yet in ``out_dir``; Ray must be connected.
    ``on_rows(rows, failed)`` is told of each batch written."""
    import ray

    photos = list_sources(sources) if photos is None else photos
    done = done_paths(out_dir, retry_unread=True) if done is None else set(done)
    todo = [p for p in photos if p not in done]
    summary = PredictSummary(total=len(photos), skipped=len(photos) - len(todo))
    writer = PartWriter(out_dir, PREDICTION_SCHEMA, rows=part_rows)
    if not todo:
        mark_complete(out_dir, len(photos))
        return summary
    mark_complete(out_dir, None)
    actors, cpus, gpus = default_workers(device)
    actors = fitting_actors(workers or actors, gpus)
    cpus = actor_cpus(actors, cpus, gpus)
    summary.actors = actors
    model = str(Path(model_dir).resolve())
    blocks = max(1, min(len(todo) // DECODE_BATCH, 10_000))
    ds: Any = ray.data.from_items([{"path": p} for p in todo], override_num_blocks=blocks)
    ds = ds.map_batches(
        decode_batch,
        fn_kwargs={"reduced": precision == "fast"},
        batch_size=DECODE_BATCH,
        batch_format="numpy",
        num_cpus=1,  # decoding on the CPUs; the model actors hold the GPUs
    )
    ds = ds.map_batches(
        Classify,
        fn_constructor_kwargs={"model_dir": model, "runtime": runtime, "device": device, "precision": precision},
        batch_size=batch_size or (GPU_BATCH if gpus else CPU_BATCH),
        batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=actors),
        num_cpus=cpus,
        num_gpus=gpus,
        memory=MODEL_MEMORY,  # (also keeps Ray from folding the decoding tasks into the actors)
    )
    try:
        for batch in ds.iter_batches(batch_size=None, batch_format="numpy"):
            rows = [json.loads(r) for r in batch["row"]]
            writer.add(rows)
            done.update(r["path"] for r in rows if r["sha256"] is not None)  # (unread ones: tried again)
            failed = sum(1 for r in rows if r["error"])
            summary.untrained = summary.untrained or any(r["untrained"] for r in rows)
            summary.predicted += len(rows)
            summary.failed += failed
            if on_rows:
                on_rows(len(rows), failed)
    finally:
        writer.flush()  # what was predicted is kept, also when the job is stopped
    if done.issuperset(photos):  # (the folder as done_paths would read it now, without reading it)
        mark_complete(out_dir, len(photos))
    return summary


def fitting_actors(wanted: int, gpus: float) -> int:
    """No more model actors than the cluster can place (more would wait for ever, silently)."""
    import ray

    resources = ray.cluster_resources()
    fit = int(resources.get("memory", MODEL_MEMORY) // MODEL_MEMORY)
    if gpus:
        fit = min(fit, int(resources.get("GPU", 0) // gpus))
    return max(1, min(wanted, fit))


def cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
