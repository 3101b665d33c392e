"""``geoguess tag``: write the predicted position into photos (a dry run unless --write)."""

from __future__ import annotations

import sys
from pathlib import Path

from .options import add_fusion_options, add_prediction_options, add_write_options, fusion_settings, tag_policy
from .output import EXIT_OK, EXIT_PHOTO_FAILED, progress_bar, warn_about_model
from .predict import open_predictor, say_precision


def add_parser(sub) -> None:
    t = sub.add_parser(
        "tag",
        help="write the predicted position into photos (a dry run unless --write)",
        description="Predict where each photo was taken, fuse the set (time zones, photos taken "
        "before and after, GPS photos of the set, tracks, a region; see 'geoguess fuse') and write "
        "each photo's answer into its EXIF GPS tags, marked as a prediction or as taken from GPS data, "
        "with its 90% radius. Without --write nothing is changed.",
    )
    t.add_argument("paths", nargs="+", metavar="PATH")
    t.add_argument("-r", "--recursive", action="store_true", help="also look in subfolders")
    t.add_argument("--write", action="store_true", help="really write (default: only say what would be written)")
    t.add_argument(
        "--overwrite-gps",
        action="store_true",
        help="replace a GPS position the photo already has (such positions are then not used to place the other photos)",
    )
    t.add_argument(
        "--report",
        metavar="FILE",
        action="append",
        default=[],
        help="also write a report: FILE.csv, FILE.geojson or FILE.gpx (give it again for more than one)",
    )
    add_write_options(t)
    add_prediction_options(t)
    t.add_argument(
        "--no-fuse",
        action="store_true",
        help="place each photo by its own pixels alone, as it is predicted (no fusion of the set)",
    )
    add_fusion_options(t)
    t.set_defaults(handler=cmd_tag)


def cmd_tag(args) -> int:
    import signal
    import threading

    from ..core.errors import GeoGuessError
    from ..core.geotag.job import GeotagJob
    from ..core.geotag.journal import Journal
    from ..core.geotag.outcome import Status
    from ..core.geotag.reports import write_report
    from ..core.names import display_path
    from ..core.photos.decode import list_photos

    for report in args.report:  # each checked before anything is done
        if Path(report).suffix.lower() not in (".csv", ".geojson", ".json", ".gpx"):
            raise GeoGuessError(f"--report {report}: it must end in .csv, .geojson or .gpx")
    job = GeotagJob(
        tag_policy(args, write=args.write),
        None if args.no_fuse else fusion_settings(args),
        Journal(args.journal) if args.write else None,
        command=_command_line(),
    )
    fused = job.fusion is not None
    photos = list_photos(args.paths, recursive=args.recursive)
    if not photos:
        raise GeoGuessError("no photos found in " + ", ".join(display_path(p) for p in args.paths))
    cancel, stop = threading.Event(), threading.Event()

    def on_sigint(signum, frame):
        if stop.is_set():
            raise KeyboardInterrupt
        if cancel.is_set() or fused:
            stop.set()
            print(
                "\ngeoguess: stopping now: the photo being written finishes, the others are not written",
                file=sys.stderr,
            )
            return
        cancel.set()
        print("\ngeoguess: stopping after the photos already predicted (Ctrl+C again to stop at once)", file=sys.stderr)

    previous = signal.signal(signal.SIGINT, on_sigint)
    predictor = open_predictor(args, top_k=1)
    bar = progress_bar(len(photos), disabled=args.no_progress, unit="photo")
    say = bar.write if bar else print
    outcomes, warned = [], False

    def fusing(count: int) -> None:
        print(f"geoguess: fusing {count} photo(s) with what the set holds", file=sys.stderr)

    try:
        for outcome in job.run(
            photos,
            predictor,
            cancel=cancel,
            stop=stop,
            on_predicted=(lambda _: bar.update(1)) if bar and fused else None,
            on_fusing=fusing,
        ):
            outcomes.append(outcome)
            warned = warn_about_model(outcome.model, warned)
            _say_notices(job, say)
            say(f"{outcome.status:>11}  {display_path(outcome.path)}: {outcome.message}")
            if outcome.evidence:
                say(f"{'':>11}  {'; '.join(outcome.evidence)}")
            if bar and not fused:
                bar.update(1)
    except KeyboardInterrupt:
        print(
            "geoguess: interrupted; every photo written is complete and in the undo journal ('geoguess undo --list')",
            file=sys.stderr,
        )
        raise
    finally:
        signal.signal(signal.SIGINT, previous)
        if bar:
            bar.close()
        job.finish()
    _say_notices(job, print)
    say_precision(args, photos)
    for report in args.report:
        write_report(outcomes, report)
    counts: dict[Status, int] = {}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    summary = ", ".join(f"{n} {status}" for status, n in counts.items()) or "nothing done"
    if not args.write:
        summary += " (dry run: nothing was changed; add --write to write)"
    print(f"geoguess: {summary}", file=sys.stderr)
    if job.run_id is not None and counts.get(Status.WRITTEN):
        print(f"geoguess: undo this run with 'geoguess undo --run {job.run_id}'", file=sys.stderr)
    if cancel.is_set() or stop.is_set():
        print(
            "geoguess: stopped; what was written is complete and in the undo journal. "
            "Run the same command again to continue.",
            file=sys.stderr,
        )
        return 130
    return EXIT_PHOTO_FAILED if any(o.failed for o in outcomes) else EXIT_OK


def _command_line() -> str:
    import shlex

    return " ".join(shlex.quote(a) for a in ["geoguess", *sys.argv[1:]])


def _say_notices(job, say) -> None:
    for notice in job.notices():
        say(f"geoguess: {notice}")
