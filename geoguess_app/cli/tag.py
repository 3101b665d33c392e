"""``geoguess tag``: write the predicted position into photos (a dry run unless --write)."""

from __future__ import annotations

import sys
from pathlib import Path

from .fuse import prepare_fusion
from .output import EXIT_OK, EXIT_PHOTO_FAILED, progress_bar, warn_about_model
from .predict import open_predictor, say_precision


def add_policy_options(parser) -> None:
    """What may be written without asking: the threshold, and the choice to write guesses of an
    untrained or unverified model (core/geotag/policy.py; ``tag`` and ``batch write``)."""
    from ..core.geotag.policy import DEFAULT_MIN_PROBABILITY

    parser.add_argument(
        "--min-probability",
        type=float,
        default=DEFAULT_MIN_PROBABILITY,
        metavar="P",
        help=f"leave photos whose guess is below P (0-1; default {DEFAULT_MIN_PROBABILITY:g}, as in the window); "
        "positions taken from GPS data have no probability and are written whatever P",
    )
    parser.add_argument(
        "--allow-untrained",
        action="store_true",
        help="write the guesses of an UNTRAINED stand-in model (random positions); refused without it",
    )
    parser.add_argument(
        "--allow-unverified",
        action="store_true",
        help="write the guesses of a model whose files are not the published LocationNet files; refused without it",
    )


def consent_from(args):
    from ..core.geotag.policy import Consent

    return Consent(untrained=args.allow_untrained, unverified=args.allow_unverified)


def cmd_tag(args) -> int:
    import signal
    import threading

    from ..core.errors import GeoGuessError
    from ..core.geotag.batch import tag_photos
    from ..core.geotag.journal import Journal
    from ..core.geotag.outcome import Status
    from ..core.geotag.reports import write_report
    from ..core.geotag.writer import PhotoWriter
    from ..core.names import display_path
    from ..core.photos.decode import list_photos

    if not 0 <= args.min_probability <= 1:
        raise GeoGuessError("--min-probability is between 0 and 1")
    for report in args.report:  # each checked before anything is done
        if Path(report).suffix.lower() not in (".csv", ".geojson", ".json", ".gpx"):
            raise GeoGuessError(f"--report {report}: it must end in .csv, .geojson or .gpx")
    fusion = None if args.no_fuse else prepare_fusion(args)
    photos = list_photos(args.paths, recursive=args.recursive)
    if not photos:
        raise GeoGuessError("no photos found in " + ", ".join(display_path(p) for p in args.paths))
    cancel, stop = threading.Event(), threading.Event()

    def on_sigint(signum, frame):
        if stop.is_set():
            raise KeyboardInterrupt
        if cancel.is_set() or fusion is not None:
            stop.set()
            print(
                "\ngeoguess: stopping now: the photo being written finishes, the others are not written",
                file=sys.stderr,
            )
            return
        cancel.set()
        print("\ngeoguess: stopping after the photos already predicted (Ctrl+C again to stop at once)", file=sys.stderr)

    previous = signal.signal(signal.SIGINT, on_sigint)
    writer = None
    if args.write:
        writer = PhotoWriter(
            Journal(args.journal),
            command=_command_line(),
            keep_mtime=not args.touch,
            backup=args.backup,
            hardlinks=args.hardlinks,
        )
        writer.prepare_folders(photos)
    predictor = open_predictor(args, top_k=1)
    bar = progress_bar(len(photos), disabled=args.no_progress, unit="photo")
    say = bar.write if bar else print
    outcomes, warned = [], False
    fuse_with = None if fusion is None else _fuser(predictor, fusion, trust_gps=not args.overwrite_gps)
    try:
        for outcome in tag_photos(
            photos,
            predictor,
            write=args.write,
            min_probability=args.min_probability,
            overwrite_gps=args.overwrite_gps,
            writer=writer,
            cancel=cancel,
            stop=stop,
            sidecar=args.sidecar,
            hardlinks=args.hardlinks,
            fuse_with=fuse_with,
            on_predicted=(lambda _: bar.update(1)) if bar and fuse_with else None,
            consent=consent_from(args),
        ):
            outcomes.append(outcome)
            warned = warn_about_model(outcome.model, warned)
            _say_notices(writer, say)
            say(f"{outcome.status:>11}  {display_path(outcome.path)}: {outcome.message}")
            if outcome.evidence:
                say(f"{'':>11}  {'; '.join(outcome.evidence)}")
            if bar and not fuse_with:
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
        if writer is not None:
            writer.finish()
    _say_notices(writer, print)
    say_precision(args, photos)
    for report in args.report:
        write_report(outcomes, report)
    counts = {}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    summary = ", ".join(f"{n} {status}" for status, n in counts.items()) or "nothing done"
    if not args.write:
        summary += " (dry run: nothing was changed; add --write to write)"
    print(f"geoguess: {summary}", file=sys.stderr)
    if writer is not None and counts.get(Status.WRITTEN):
        print(f"geoguess: undo this run with 'geoguess undo --run {writer.run}'", file=sys.stderr)
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


def _say_notices(writer, say) -> None:
    while writer is not None and writer.notices:
        say(f"geoguess: {writer.notices.pop(0)}")


def _fuser(predictor, fusion, trust_gps: bool):
    """Fuse the predicted photos with the options given (on the model's own grid). Without
    ``trust_gps`` (--overwrite-gps) the photos' own GPS positions are neither kept nor evidence."""

    def fuse_with(results):
        from ..core.fusion.fuse import fuse
        from ..core.fusion.geometry import GridGeometry
        from ..core.fusion.inputs import FusionPhoto

        geometry = GridGeometry(predictor.classifier.grid)
        photos = [FusionPhoto.from_result(r, i) for i, r in enumerate(results)]
        if not trust_gps:
            for photo in photos:
                photo.gps = None
        print(f"geoguess: fusing {len(photos)} photo(s) with what the set holds", file=sys.stderr)
        return fuse(photos, geometry, fusion(geometry))

    return fuse_with
