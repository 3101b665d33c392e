"""The ``geoguess`` command line: predict, and manage the model (download, import, info, synth)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from . import __version__

EXIT_OK, EXIT_PHOTO_FAILED, EXIT_ERROR = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="geoguess",
        description="Guess where on Earth a photo was taken, with LocationNet (PlaNet).",
    )
    parser.add_argument("--version", action="version", version=f"geoguess {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    model_dir_help = "model folder (default: $GEOGUESS_MODEL_DIR, else the per-user data folder)"

    p = sub.add_parser("predict", help="the most likely places where photos were taken")
    p.add_argument("paths", nargs="+", metavar="PHOTO_OR_FOLDER")
    p.add_argument("--model-dir", help=model_dir_help)
    p.add_argument("--top-k", type=int, default=5, metavar="K", help="how many places per photo (default 5)")
    p.add_argument("--device", default="auto", help="auto (default: first GPU if there is one), cpu, gpu or gpu:N")
    p.add_argument("--json", action="store_true", help="JSON Lines: one object per photo")
    p.add_argument("-r", "--recursive", action="store_true", help="also look in subfolders")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")

    t = sub.add_parser("tag", help="write the predicted position into photos (a dry run unless --write)",
                       description="Predict where each photo was taken and write the top guess into its "
                                   "EXIF GPS tags, marked as a prediction. Without --write nothing is changed.")
    t.add_argument("paths", nargs="+", metavar="PATH")
    t.add_argument("-r", "--recursive", action="store_true", help="also look in subfolders")
    t.add_argument("--write", action="store_true", help="really write (default: only say what would be written)")
    t.add_argument("--min-probability", type=float, default=0.0, metavar="P",
                   help="leave photos whose best guess is below P (0-1)")
    t.add_argument("--overwrite-gps", action="store_true", help="replace a GPS position the photo already has")
    t.add_argument("--backup", action="store_true", help="keep a copy of each original (NAME.geoguess-backup)")
    t.add_argument("--sidecar", action="store_true",
                   help="write into an XMP sidecar (PHOTO.xmp) instead of the photo, which is left untouched")
    t.add_argument("--touch", action="store_true", help="let the file's modification time change")
    t.add_argument("--hardlinks", choices=("refuse", "in-place", "split"), default="refuse",
                   help="a photo with several hard links (names): refuse it (default), write it in place "
                        "(every name sees the position), or split (only this name gets a new file)")
    t.add_argument("--report", metavar="FILE", help="also write a report: FILE.csv, FILE.geojson or FILE.gpx")
    t.add_argument("--journal", metavar="FILE", help="undo journal (default: in the user data folder)")
    t.add_argument("--model-dir", help=model_dir_help)
    t.add_argument("--device", default="auto", help="auto, cpu, gpu or gpu:N")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")
    u = sub.add_parser("undo", help="put photos back as they were before 'geoguess tag --write'",
                       description="Restore photos exactly as they were before GeoGuess wrote into them. Say "
                                   "what to undo: photos, folders (everything under them), --run ID, --last or "
                                   "--all; --list shows the runs that can be undone.")
    u.add_argument("paths", nargs="*", metavar="PHOTO_OR_FOLDER", help="undo GeoGuess's writes into these")
    scope = u.add_mutually_exclusive_group()
    scope.add_argument("--run", metavar="ID", help="undo one run (see --list)")
    scope.add_argument("--last", action="store_true", help="undo the last run that wrote something")
    scope.add_argument("--all", action="store_true", help="undo every write in the journal")
    scope.add_argument("--list", action="store_true", help="show what can be undone, by run")
    u.add_argument("--journal", metavar="FILE", help="undo journal (default: in the user data folder)")

    m = sub.add_parser("model", help="install, check or synthesize the LocationNet model")
    msub = m.add_subparsers(dest="model_command", required=True, metavar="ACTION")
    d = msub.add_parser("download", help="download the official model files (about 300 MB), verified")
    d.add_argument("--model-dir", help=model_dir_help)
    i = msub.add_parser("import", help="copy and verify a model folder obtained elsewhere")
    i.add_argument("source", metavar="DIR")
    i.add_argument("--model-dir", help=model_dir_help)
    n = msub.add_parser("info", help="what model is installed and whether it verifies")
    n.add_argument("--model-dir", help=model_dir_help)
    s = msub.add_parser(
        "synth",
        help="make an UNTRAINED stand-in model (random weights) for testing",
        description="Write a model folder with LocationNet's architecture and seeded random weights. "
        "Its predictions mean nothing; everything made with it says so.",
    )
    s.add_argument("out_dir", metavar="OUT_DIR")
    s.add_argument("--tiny", action="store_true", help="a few layers and 48 cells, for fast tests")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--source", metavar="DIR",
                   help="folder with the official RN101-5k500-symbol.json and grids.txt "
                        "(default: the installed model folder)")
    return parser


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):  # a file name that is not UTF-8 is printed escaped, never a crash
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    args = build_parser().parse_args(argv)
    from .core.errors import GeoGuessError  # noqa: PLC0415 - keep --help fast

    try:
        if args.command == "predict":
            return cmd_predict(args)
        if args.command == "tag":
            return cmd_tag(args)
        if args.command == "undo":
            return cmd_undo(args)
        return {"download": cmd_download, "import": cmd_import, "info": cmd_info,
                "synth": cmd_synth}[args.model_command](args)
    except GeoGuessError as e:
        print(f"geoguess: error: {e}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("geoguess: interrupted", file=sys.stderr)
        return 130


def cmd_predict(args) -> int:
    from .core.errors import GeoGuessError  # noqa: PLC0415
    from .core.imaging import list_photos  # noqa: PLC0415
    from .core.predict import Predictor  # noqa: PLC0415

    if args.top_k < 1:
        raise GeoGuessError("--top-k must be at least 1")
    photos = list_photos(args.paths, recursive=args.recursive)
    if not photos:
        raise GeoGuessError("no photos found in " + ", ".join(args.paths))
    # The model loads on the MXNet thread and the place names in the background while the first
    # photos are decoded.
    predictor = Predictor(_load_model(args), top_k=args.top_k)
    bar = _progress_bar(len(photos), disabled=args.no_progress or len(photos) < 2)
    failed = 0
    warned = False
    for result in predictor.predict_many(photos):
        if not warned and result.model.warning:
            print(f"WARNING: {result.model.warning}.", file=sys.stderr)
            warned = True
        failed += not result.ok
        text = json.dumps(result.as_dict(), ensure_ascii=False) if args.json else _human(result)
        if bar is not None:
            bar.write(text)
            bar.update(1)
        else:
            print(text, flush=True)
    if bar is not None:
        bar.close()
    if failed:
        print(f"geoguess: {failed} of {len(photos)} photo(s) could not be read", file=sys.stderr)
    return EXIT_PHOTO_FAILED if failed else EXIT_OK


def _load_model(args):
    from .core.errors import GeoGuessError  # noqa: PLC0415
    from .core.model import LocationNet, missing_files  # noqa: PLC0415
    from .core.places import shared_places  # noqa: PLC0415
    from .core.store import resolve_model_dir  # noqa: PLC0415
    from .core.worker import mxnet_worker  # noqa: PLC0415

    folder = resolve_model_dir(args.model_dir)
    if not folder.is_dir() or missing_files(folder):
        raise GeoGuessError(
            f"no complete model in {folder}. Install it with 'geoguess model download', or "
            "'geoguess model import FOLDER' if you have the files; or point --model-dir at one."
        )
    shared_places().warm_up()
    return mxnet_worker().submit(LocationNet.load, folder, args.device)


def cmd_tag(args) -> int:
    import signal  # noqa: PLC0415
    import threading  # noqa: PLC0415

    from .core.errors import GeoGuessError  # noqa: PLC0415
    from .core.geotag import PhotoWriter  # noqa: PLC0415
    from .core.imaging import list_photos  # noqa: PLC0415
    from .core.journal import Journal  # noqa: PLC0415
    from .core.names import display_path  # noqa: PLC0415
    from .core.predict import Predictor  # noqa: PLC0415
    from .core.tagging import tag_photos, write_report  # noqa: PLC0415

    if not 0 <= args.min_probability <= 1:
        raise GeoGuessError("--min-probability is between 0 and 1")
    if args.report and Path(args.report).suffix.lower() not in (".csv", ".geojson", ".json", ".gpx"):
        raise GeoGuessError("--report must end in .csv, .geojson or .gpx")
    photos = list_photos(args.paths, recursive=args.recursive)
    if not photos:
        raise GeoGuessError("no photos found in " + ", ".join(display_path(p) for p in args.paths))
    cancel, stop = threading.Event(), threading.Event()

    def on_sigint(signum, frame):
        if stop.is_set():
            raise KeyboardInterrupt
        if cancel.is_set():
            stop.set()
            print("\ngeoguess: stopping now: the photo being written finishes, the queued ones are not written",
                  file=sys.stderr)
            return
        cancel.set()
        print("\ngeoguess: stopping after the photos already predicted (Ctrl+C again to stop at once)",
              file=sys.stderr)

    previous = signal.signal(signal.SIGINT, on_sigint)
    writer = None
    if args.write:
        writer = PhotoWriter(Journal(args.journal), command=_command_line(), keep_mtime=not args.touch,
                             backup=args.backup, hardlinks=args.hardlinks)
        writer.prepare_folders(photos)
    predictor = Predictor(_load_model(args), top_k=1)
    bar = _progress_bar(len(photos), disabled=args.no_progress, unit="photo")
    say = bar.write if bar else print
    outcomes, warned = [], False
    try:
        for outcome in tag_photos(photos, predictor, write=args.write, min_probability=args.min_probability,
                                  overwrite_gps=args.overwrite_gps, writer=writer, cancel=cancel, stop=stop,
                                  sidecar=args.sidecar, hardlinks=args.hardlinks):
            outcomes.append(outcome)
            if not warned and outcome.model is not None and outcome.model.warning:
                print(f"WARNING: {outcome.model.warning}.", file=sys.stderr)
                warned = True
            _say_notices(writer, say)
            say(f"{outcome.status:>11}  {display_path(outcome.path)}: {outcome.message}")
            if bar:
                bar.update(1)
    except KeyboardInterrupt:
        print("geoguess: interrupted; every photo written is complete and in the undo journal "
              "('geoguess undo --list')", file=sys.stderr)
        raise
    finally:
        signal.signal(signal.SIGINT, previous)
        if bar:
            bar.close()
    _say_notices(writer, print)
    if args.report:
        write_report(outcomes, args.report)
    counts = {}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    summary = ", ".join(f"{n} {status}" for status, n in counts.items()) or "nothing done"
    if not args.write:
        summary += " (dry run: nothing was changed; add --write to write)"
    print(f"geoguess: {summary}", file=sys.stderr)
    if writer is not None and counts.get("written"):
        print(f"geoguess: undo this run with 'geoguess undo --run {writer.run}'", file=sys.stderr)
    if cancel.is_set():
        print("geoguess: stopped; what was written is complete and in the undo journal. "
              "Run the same command again to continue.", file=sys.stderr)
        return 130
    return EXIT_PHOTO_FAILED if any(o.failed for o in outcomes) else EXIT_OK


def _command_line() -> str:
    import shlex  # noqa: PLC0415

    return " ".join(shlex.quote(a) for a in ["geoguess", *sys.argv[1:]])


def _say_notices(writer, say) -> None:
    while writer is not None and writer.notices:
        say(f"geoguess: {writer.notices.pop(0)}")


def cmd_undo(args) -> int:
    from .core.errors import GeoGuessError  # noqa: PLC0415
    from .core.journal import Journal  # noqa: PLC0415
    from .core.names import display_path  # noqa: PLC0415
    from .core.undo import RESTORED, UndoScope, list_runs, undo  # noqa: PLC0415

    journal = Journal(args.journal)
    if args.list or not (args.paths or args.run or args.last or args.all):
        runs, damaged = list_runs(journal)
        _print_runs(runs, damaged, display_path)
        if args.list:
            return EXIT_PHOTO_FAILED if damaged else EXIT_OK
        print("geoguess: say what to undo: PHOTO or FOLDER, --run ID, --last or --all", file=sys.stderr)
        return EXIT_ERROR
    if args.paths and (args.run or args.last or args.all):
        raise GeoGuessError("give photos or folders, or one of --run, --last, --all, not both")
    scope = UndoScope(paths=[Path(p) for p in args.paths], run=args.run, last=args.last, everything=args.all)
    notices: list[str] = []
    outcomes = []
    for o in undo(journal, scope, notices):
        for note in notices:
            print(f"geoguess: {note}", file=sys.stderr)
        notices.clear()
        outcomes.append(o)
        print(f"{o.status:>11}  {display_path(o.path)}: {o.message}", flush=True)
    for note in notices:
        print(f"geoguess: {note}", file=sys.stderr)
    failed = [o for o in outcomes if o.failed]
    if not outcomes:
        print(f"geoguess: nothing to undo for {scope.describe()}", file=sys.stderr)
    elif failed:
        print(f"geoguess: {len(failed)} photo(s) NOT restored:", file=sys.stderr)
        for o in failed:
            print(f"  {display_path(o.path)}: {o.message}", file=sys.stderr)
    else:
        print(f"geoguess: {sum(o.status == RESTORED for o in outcomes)} restored", file=sys.stderr)
    return EXIT_PHOTO_FAILED if failed else EXIT_OK


def _print_runs(runs, damaged, display_path) -> None:
    if not runs:
        print("Nothing was written by GeoGuess (the undo journal is empty).")
    for s in runs:
        left = f"{s.undoable} of {s.written} photo(s) can be undone" if s.undoable else f"{s.written} photo(s), all undone"
        command = s.run.command or ("written by GeoGuess 0.1" if s.run.id == "legacy" else "")
        print(f"{s.run.id}  {s.run.time[:19].replace('T', ' ')}  {left}")
        if command:
            print(f"    {display_path(command)}")
        for folder in s.folders[:5]:
            print(f"    in {display_path(folder)}")
        if len(s.folders) > 5:
            print(f"    and {len(s.folders) - 5} more folders")
    for d in damaged:
        print(f"WARNING: {display_path(d.describe())}")


def _progress_bar(total: int, disabled: bool, unit: str = "photo"):
    if disabled or not sys.stderr.isatty():
        return None
    from tqdm import tqdm  # noqa: PLC0415

    return tqdm(total=total, unit=unit, file=sys.stderr, dynamic_ncols=True)


def _human(result) -> str:
    from .core.cells import format_km  # noqa: PLC0415
    from .core.names import display_path  # noqa: PLC0415

    lines = [display_path(result.path)]
    if result.error:
        lines[0] += f"\n  error: {result.error}"
        return lines[0]
    about = []
    if result.size:
        about.append(f"{result.size[0]} x {result.size[1]}")
    if result.meta and result.meta.camera:
        about.append(result.meta.camera)
    if about:
        lines[0] += "  (" + ", ".join(about) + ")"
    gps = result.exif_gps
    if gps:
        lines.append(f"  EXIF GPS in the photo: {gps.lat:.5f}, {gps.lon:.5f}")
    if result.model.untrained:
        lines.append("  UNTRAINED MODEL: these guesses are random and mean nothing")
    elif not result.model.verified:
        lines.append("  UNVERIFIED MODEL: not the published LocationNet files; these guesses are not LocationNet's")
    header = f"  {'#':>2}  {'prob':>6}  {'latitude':>9}  {'longitude':>10}  {'cell':>8}  place"
    if gps:
        header += "  (distance from EXIF GPS)"
    lines.append(header)
    for g in result.predictions:
        line = (f"  {g.rank:>2}  {g.probability * 100:5.1f}%  {g.lat:9.4f}  {g.lon:10.4f}  "
                f"{format_km(g.cell_size_km):>8}  {g.place}")
        if g.distance_km is not None:
            line += f"  ({format_km(g.distance_km)})"
        lines.append(line)
    return "\n".join(lines)


def _print_progress():
    """A progress callback drawing one tqdm bar per file (for downloads and imports)."""
    from tqdm import tqdm  # noqa: PLC0415

    bars: dict[str, tqdm] = {}

    def progress(name: str, done: int, total: int | None) -> None:
        bar = bars.get(name)
        if bar is None:
            bar = bars[name] = tqdm(total=total, desc=name, unit="B", unit_scale=True, unit_divisor=1024,
                                    file=sys.stderr, leave=True)
        bar.total = total
        bar.update(done - bar.n)
        if total is not None and done >= total:
            bar.close()

    return progress


def cmd_download(args) -> int:
    from .core.store import download, resolve_model_dir  # noqa: PLC0415

    folder = resolve_model_dir(args.model_dir)
    print(f"Downloading LocationNet into {folder}", file=sys.stderr)
    download(folder, progress=_print_progress())
    print(f"Installed and verified: {folder}")
    return EXIT_OK


def cmd_import(args) -> int:
    from .core.store import import_model, resolve_model_dir  # noqa: PLC0415

    folder = resolve_model_dir(args.model_dir)
    report = import_model(args.source, folder, progress=_print_progress())
    if report.untrained:
        print(f"Imported an UNTRAINED stand-in model into {folder}: its predictions mean nothing.")
    else:
        print(f"Imported and verified against the published md5 sums: {folder}")
    return EXIT_OK


def cmd_info(args) -> int:
    from .core.errors import GeoGuessError  # noqa: PLC0415
    from .core.model import LocationNet  # noqa: PLC0415
    from .core.modelfiles import read_marker  # noqa: PLC0415
    from .core.store import ENV_MODEL_DIR, inspect_folder, resolve_model_dir  # noqa: PLC0415

    folder = resolve_model_dir(args.model_dir)
    origin = "--model-dir" if args.model_dir else (f"${ENV_MODEL_DIR}" if os.environ.get(ENV_MODEL_DIR) else "default")
    print(f"Model folder: {folder} ({origin})")
    report = inspect_folder(folder, fresh=True)
    for f in report.files:
        if not f.present:
            print(f"  {f.name:<26} missing")
        else:
            verdict = "matches the published md5" if f.official else "differs from the published file"
            print(f"  {f.name:<26} {f.size:>13,} bytes  md5 {f.md5}  {verdict}")
    if not report.complete:
        print("Status: not installed. Run 'geoguess model download', or 'geoguess model import FOLDER'.")
        return EXIT_PHOTO_FAILED
    try:
        model = LocationNet.load(folder, device="cpu")
    except GeoGuessError as e:
        print(f"Status: does not load: {e}")
        return EXIT_PHOTO_FAILED
    marker = read_marker(folder)
    if marker is not None:
        print(f"Status: {marker.description}. Loads: {model.info.num_classes} classes.")
        return EXIT_OK
    if report.verified:
        print(f"Status: verified, identical to the published LocationNet files. Loads: {model.info.num_classes} classes.")
        return EXIT_OK
    print("Status: loads, but is NOT the published LocationNet (md5 mismatch); its answers are unverified.")
    return EXIT_PHOTO_FAILED


def cmd_synth(args) -> int:
    from .core.store import resolve_model_dir  # noqa: PLC0415
    from .core.synth import synthesize  # noqa: PLC0415

    source = Path(args.source) if args.source else resolve_model_dir(None)
    kind = "tiny" if args.tiny else "full-size"
    print(f"Synthesizing a {kind} UNTRAINED stand-in model (seed {args.seed}) in {args.out_dir} ...", file=sys.stderr)
    out = synthesize(args.out_dir, source, tiny=args.tiny, seed=args.seed)
    print(f"Wrote {out}: random weights, predictions mean nothing (marked untrained).")
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
