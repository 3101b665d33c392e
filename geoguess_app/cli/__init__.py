"""The ``geoguess`` command line: predict, fuse, tag, undo, batch (archives on Ray), and manage the model.

Each command lives in a module of its own; they import the core only when run, so --help is fast.
"""

from __future__ import annotations

import argparse
import sys

from .. import __version__
from .batch import add_batch_parser
from .fuse import add_fusion_options
from .output import EXIT_ERROR, EXIT_OK
from .tag import add_policy_options


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
    p.add_argument("--top-k", type=int, default=5, metavar="K", help="how many places per photo (default 5)")
    p.add_argument("--json", action="store_true", help="JSON Lines: one object per photo")
    p.add_argument(
        "--distribution",
        action="store_true",
        help="with --json: also each photo's distribution over the cells, as [[class, probability], ...], "
        "highest first: the cells that hold 99.5%% of the probability, at most 512",
    )
    p.add_argument("-r", "--recursive", action="store_true", help="also look in subfolders")
    _prediction_options(p, model_dir_help)

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
    add_policy_options(t)
    t.add_argument(
        "--overwrite-gps",
        action="store_true",
        help="replace a GPS position the photo already has (such positions are then not used to place the other photos)",
    )
    t.add_argument("--backup", action="store_true", help="keep a copy of each original (NAME.geoguess-backup)")
    t.add_argument(
        "--sidecar",
        action="store_true",
        help="write into an XMP sidecar (PHOTO.xmp) instead of the photo, which is left untouched",
    )
    t.add_argument("--touch", action="store_true", help="let the file's modification time change")
    t.add_argument(
        "--hardlinks",
        choices=("refuse", "in-place", "split"),
        default="refuse",
        help="a photo with several hard links (names): refuse it (default), write it in place "
        "(every name sees the position), or split (only this name gets a new file)",
    )
    t.add_argument(
        "--report",
        metavar="FILE",
        action="append",
        default=[],
        help="also write a report: FILE.csv, FILE.geojson or FILE.gpx (give it again for more than one)",
    )
    t.add_argument("--journal", metavar="FILE", help="undo journal (default: in the user data folder)")
    _prediction_options(t, model_dir_help)
    t.add_argument(
        "--no-fuse",
        action="store_true",
        help="place each photo by its own pixels alone, as it is predicted (no fusion of the set)",
    )
    add_fusion_options(t)
    u = sub.add_parser(
        "undo",
        help="put photos back as they were before 'geoguess tag --write'",
        description="Restore photos exactly as they were before GeoGuess wrote into them. Say "
        "what to undo: photos, folders (everything under them), --run ID, --last or "
        "--all; --list shows the runs that can be undone.",
    )
    u.add_argument("paths", nargs="*", metavar="PHOTO_OR_FOLDER", help="undo GeoGuess's writes into these")
    scope = u.add_mutually_exclusive_group()
    scope.add_argument("--run", metavar="ID", help="undo one run (see --list)")
    scope.add_argument("--last", action="store_true", help="undo the last run that wrote something")
    scope.add_argument("--all", action="store_true", help="undo every write in the journal")
    scope.add_argument("--list", action="store_true", help="show what can be undone, by run")
    u.add_argument("--journal", metavar="FILE", help="undo journal (default: in the user data folder)")

    f = sub.add_parser(
        "fuse",
        help="each photo's best position from all the evidence of the set (time, neighbours, GPS, tracks)",
        description="Read the output of 'geoguess predict --json --distribution' and give each photo the "
        "position that all the evidence of the set supports: its own distribution, the offset from UTC "
        "in EXIF, the photos taken before and after it, GPS positions of photos of the set, tracks and a "
        "region. Needs only the model folder's grids.txt, not the weights.",
    )
    f.add_argument(
        "predictions",
        metavar="PREDICTIONS.jsonl",
        help="JSON Lines of predict --json --distribution ('-': standard input)",
    )
    f.add_argument("--model-dir", help=model_dir_help)
    f.add_argument("--json", action="store_true", help="JSON Lines: one object per photo, in input order")
    add_fusion_options(f)

    e = sub.add_parser(
        "evaluate",
        help="how well GeoGuess places your own photos that have GPS (single photo and fused)",
        description="Predict photos that have their own GPS position with that position hidden, fuse them, "
        "and print how many land within 1, 25, 200, 750 and 2,500 km of where they were taken: each photo "
        "alone, fused without any GPS, and fused with the GPS of the other half of the photos.",
    )
    e.add_argument("paths", nargs="+", metavar="PHOTO_OR_FOLDER")
    e.add_argument("-r", "--recursive", action="store_true", help="also look in subfolders")
    e.add_argument("--json", action="store_true", help="one JSON object with the figures")
    _prediction_options(e, model_dir_help)
    add_fusion_options(e)

    add_batch_parser(sub, model_dir_help)
    c = sub.add_parser("cache", help="the cache of predictions: what it holds, or empty it")
    c.add_argument("cache_command", choices=("info", "clear"), metavar="ACTION", help="info or clear")

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
    s.add_argument(
        "--source",
        metavar="DIR",
        help="folder with the official RN101-5k500-symbol.json and grids.txt (default: the installed model folder)",
    )
    return parser


def _prediction_options(parser: argparse.ArgumentParser, model_dir_help: str) -> None:
    """The options of every command that predicts."""
    parser.add_argument("--model-dir", help=model_dir_help)
    parser.add_argument("--device", default="auto", help="auto (default: first GPU if there is one), cpu, gpu or gpu:N")
    parser.add_argument(
        "--precision",
        default="exact",
        choices=("exact", "fast"),
        help="exact (default: float32, the published model's answers) or fast (bfloat16 on a CPU with AMX or "
        "AVX512-BF16, through OpenVINO; the first run with a model says how often it agrees with exact)",
    )
    parser.add_argument(
        "--runtime",
        default="auto",
        choices=("auto", "mxnet", "onnxruntime", "openvino"),
        help="what runs the network: auto (default: the fastest installed: OpenVINO, else ONNX Runtime, "
        "else MXNet), or one of them (the same published weights; ONNX Runtime and OpenVINO run an ONNX "
        "graph made from them)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument(
        "--no-cache", action="store_true", help="predict every photo again, without the prediction cache"
    )


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):  # a file name that is not UTF-8 is printed escaped, never a crash
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    args = build_parser().parse_args(argv)
    from ..core.errors import GeoGuessError  # keep --help fast
    from .batch import cmd_batch
    from .cache import cmd_cache
    from .evaluate import cmd_evaluate
    from .fuse import cmd_fuse
    from .model import cmd_download, cmd_import, cmd_info, cmd_synth
    from .predict import cmd_predict
    from .tag import cmd_tag
    from .undo import cmd_undo

    try:
        if args.command == "predict":
            return cmd_predict(args)
        if args.command == "tag":
            return cmd_tag(args)
        if args.command == "evaluate":
            return cmd_evaluate(args)
        if args.command == "fuse":
            return cmd_fuse(args)
        if args.command == "cache":
            return cmd_cache(args)
        if args.command == "batch":
            return cmd_batch(args)
        if args.command == "undo":
            return cmd_undo(args)
        return {"download": cmd_download, "import": cmd_import, "info": cmd_info, "synth": cmd_synth}[
            args.model_command
        ](args)
    except GeoGuessError as e:
        print(f"geoguess: error: {e}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:  # the reader went away (| head): stop quietly
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        print("geoguess: interrupted", file=sys.stderr)
        return 130
