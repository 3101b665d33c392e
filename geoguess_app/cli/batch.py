"""``geoguess batch predict | fuse | write``: archives of many photos on a Ray cluster (or a local
Ray on this machine), stage by stage through folders of Parquet parts, each stage resumable."""

from __future__ import annotations

import argparse
import sys
import time

from .options import MODEL_DIR_HELP, RUNTIME_CHOICES, add_fusion_options, add_write_options
from .output import EXIT_OK, EXIT_PHOTO_FAILED, progress_bar


def add_parser(sub) -> None:
    b = sub.add_parser(
        "batch",
        help="archives of many photos on a Ray cluster: predict, fuse, write (pip install geoguess[cluster])",
        description="Predict, fuse and write the photos of an archive in three resumable stages, each "
        "writing a folder of Parquet parts. Without --ray-address a local Ray starts on this machine; "
        "with it, the stages run on that cluster (the photos and the model folder must be at the same "
        "paths on every node, or the photos on a file system pyarrow reads, such as s3://).",
    )
    bsub = b.add_subparsers(dest="batch_command", required=True, metavar="STAGE")
    p = bsub.add_parser("predict", help="predict every photo into Parquet parts (skips photos already there)")
    p.add_argument("sources", nargs="+", metavar="SOURCE", help="folder, photo, list of photos (.txt) or URI")
    p.add_argument("--out", required=True, metavar="DIR", help="folder of Parquet parts (made if missing)")
    p.add_argument("--model-dir", help=MODEL_DIR_HELP)
    p.add_argument("--runtime", default="auto", choices=RUNTIME_CHOICES)
    p.add_argument("--device", default="auto", help="auto, cpu or gpu (one model actor per GPU)")
    p.add_argument("--precision", default="exact", choices=("exact", "fast"))
    p.add_argument("--workers", type=int, metavar="N", help="model actors (default: one per GPU, else one per 4 CPUs)")
    p.add_argument("--batch-size", type=int, metavar="B", help="photos per model call (default 64 on a GPU, 8 on CPUs)")
    p.add_argument(
        "--part-rows",
        type=int,
        default=256,
        metavar="N",
        help="photos per Parquet part (default 256; a killed job redoes at most one part)",
    )
    _ray_options(p)
    f = bsub.add_parser("fuse", help="fuse the predictions per folder or per camera sequence, in parallel")
    f.add_argument("predictions", metavar="DIR", help="the folder of 'batch predict'")
    f.add_argument("--out", required=True, metavar="DIR2", help="folder of fused Parquet parts")
    f.add_argument("--model-dir", help=MODEL_DIR_HELP + " (only its grids.txt is read)")
    f.add_argument(
        "--by",
        choices=("folder", "camera"),
        default="folder",
        help="the sets fused: each folder, or each folder's camera",
    )
    f.add_argument(
        "--partial",
        action="store_true",
        help="fuse although batch predict has not finished (its folders are fused as they are)",
    )
    add_fusion_options(f)
    _ray_options(f)
    w = bsub.add_parser("write", help="write the fused positions into the photos (restartable; undo as for tag)")
    w.add_argument("fused", metavar="DIR2", help="the folder of 'batch fuse'")
    w.add_argument("--dry-run", action="store_true", help="say what would be written, change nothing")
    add_write_options(w, backup=False)
    b.set_defaults(handler=cmd_batch)


def _ray_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ray-address", metavar="ADDR", help="join this Ray cluster (default: a local Ray here)")
    parser.add_argument("--num-cpus", type=int, metavar="N", help="CPUs of the local Ray (default: all)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def cmd_batch(args) -> int:
    from ..core.errors import GeoGuessError

    try:
        import pyarrow  # noqa: F401
        import ray  # noqa: F401
    except ImportError:  # (the packaged app leaves the cluster extra out)
        raise GeoGuessError(
            "geoguess batch needs the cluster extra (Ray and pyarrow): pip install 'geoguess[cluster]'"
        ) from None
    return {"predict": _predict, "fuse": _fuse, "write": _write}[args.batch_command](args)


def _predict(args) -> int:
    from ..core.batch.parts import done_paths
    from ..core.batch.predict_job import connect, run_predict
    from ..core.batch.sources import is_uri, list_sources
    from ..core.engine import resolve_model_dir
    from ..core.errors import GeoGuessError

    if is_uri(args.out):
        raise GeoGuessError(f"--out {args.out}: the parts are written to a folder here (or a volume mounted here)")
    model_dir = resolve_model_dir(args.model_dir)
    photos = list_sources(args.sources)
    done = done_paths(args.out, retry_unread=True)
    todo = sum(1 for p in photos if p not in done)
    print(
        f"geoguess: {len(photos)} photo(s): {len(photos) - todo} already in {args.out}, {todo} to predict",
        file=sys.stderr,
    )
    connect(args.ray_address, args.num_cpus)
    bar = progress_bar(todo, disabled=args.no_progress)
    start = time.monotonic()
    seen = {"done": 0, "failed": 0, "said": start}

    def on_rows(rows: int, bad: int) -> None:
        seen["done"] += rows
        seen["failed"] += bad
        if bar:
            bar.update(rows)
            bar.set_postfix(failed=seen["failed"], refresh=False)
        elif not args.no_progress and time.monotonic() - seen["said"] >= 30:  # a log, not a terminal
            seen["said"] = now = time.monotonic()
            rate = seen["done"] / (now - start)
            eta = (todo - seen["done"]) / rate if rate else 0
            print(
                f"geoguess: {seen['done']}/{todo} photos, {seen['failed']} failed, {rate:.2f} photos/s, "
                f"about {eta / 60:.0f} min left",
                file=sys.stderr,
            )

    try:
        summary = run_predict(
            args.sources,
            args.out,
            model_dir,
            args.runtime,
            args.device,
            args.precision,
            args.workers,
            args.batch_size,
            on_rows,
            part_rows=args.part_rows,
            photos=photos,
            done=done,
        )
    finally:
        if bar:
            bar.close()
    took = time.monotonic() - start
    rate = summary.predicted / took if took > 0 else 0.0
    print(
        f"geoguess: {summary.predicted} predicted ({summary.failed} with an error), {summary.skipped} done before; "
        f"{took:.1f} s, {rate:.2f} photos/s, {summary.actors} model actor(s)",
        file=sys.stderr,
    )
    if summary.untrained:
        print(
            "WARNING: the model is the UNTRAINED stand-in (random weights): these places mean nothing.", file=sys.stderr
        )
    return EXIT_PHOTO_FAILED if summary.failed else EXIT_OK


def _fuse(args) -> int:
    import json
    from pathlib import Path

    from ..core.batch.fuse_job import run_fuse
    from ..core.batch.parts import COMPLETE
    from ..core.batch.predict_job import connect
    from ..core.engine import resolve_model_dir
    from ..core.errors import GeoGuessError
    from .options import fusion_settings

    marker = Path(args.predictions) / COMPLETE
    if not marker.is_file() and not args.partial:
        raise GeoGuessError(
            f"{args.predictions} is not complete: 'geoguess batch predict' has not finished (or some photos could "
            "not be read). Run it to the end first, or fuse what is there with --partial (a folder is fused "
            "again, whole, by a later run)"
        )
    fusion = fusion_settings(args).prepare()
    grid = resolve_model_dir(args.model_dir) / "grids.txt"
    connect(args.ray_address, args.num_cpus)
    total = json.loads(marker.read_text())["photos"] if marker.is_file() else 0
    bar = progress_bar(total, disabled=args.no_progress or not total)
    start = time.monotonic()
    seen = {"done": 0, "said": time.monotonic()}

    def on_rows(rows: int, _failed: int) -> None:
        seen["done"] += rows
        if bar:
            bar.update(rows)
        elif not args.no_progress and time.monotonic() - seen["said"] >= 30:  # a log, not a terminal
            seen["said"] = time.monotonic()
            print(f"geoguess: {seen['done']}{f'/{total}' if total else ''} photos fused", file=sys.stderr)

    summary = run_fuse(args.predictions, args.out, grid, fusion, by=args.by, on_rows=on_rows)
    if bar:
        bar.close()
    took = time.monotonic() - start
    print(
        f"geoguess: {summary.groups} group(s) by {args.by}: {summary.skipped} done before; {summary.fused} photo(s) "
        f"fused ({summary.failed} with an error) in {took:.1f} s",
        file=sys.stderr,
    )
    return EXIT_PHOTO_FAILED if summary.failed else EXIT_OK


def _write(args) -> int:
    import signal
    import threading

    from ..core.batch.write_job import write_fused
    from ..core.geotag.job import GeotagJob
    from ..core.geotag.journal import Journal
    from ..core.names import display_path
    from .options import tag_policy
    from .output import warn_about_model
    from .tag import _command_line

    write = not args.dry_run
    job = GeotagJob(tag_policy(args, write), None, Journal(args.journal) if write else None, _command_line())
    stop = threading.Event()

    def on_sigint(signum, frame):
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        print("\ngeoguess: stopping after the photo being written (Ctrl+C again to stop at once)", file=sys.stderr)

    previous = signal.signal(signal.SIGINT, on_sigint)
    counts: dict[str, int] = {}
    failed = warned = False
    try:
        for outcome in write_fused(args.fused, job, stop=stop):
            counts[outcome.status] = counts.get(outcome.status, 0) + 1
            failed = failed or outcome.failed
            warned = warn_about_model(outcome.model, warned)
            print(f"{outcome.status:>11}  {display_path(outcome.path)}: {outcome.message}")
    except KeyboardInterrupt:
        print("geoguess: interrupted; every photo written is complete and in the undo journal", file=sys.stderr)
        raise
    finally:
        signal.signal(signal.SIGINT, previous)
        job.finish()
    summary = ", ".join(f"{n} {status}" for status, n in counts.items()) or "nothing done"
    print(f"geoguess: {summary}" + (" (dry run: nothing was changed)" if args.dry_run else ""), file=sys.stderr)
    if job.run_id is not None and counts.get("written"):
        print(f"geoguess: undo this run with 'geoguess undo --run {job.run_id}'", file=sys.stderr)
    return EXIT_PHOTO_FAILED if failed else EXIT_OK
