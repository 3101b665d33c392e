"""The option groups that several commands share, declared once: how to predict, how to write,
and what fusion uses; and what they mean to the core (``fusion_settings``, ``tag_policy``).

Each command module adds its own subparser and takes the groups it needs. Defaults and choices
come from the core (the engine's runtimes, the policy's threshold, fusion's longest gap), so the
command line, the window and the docs cannot disagree.
"""

from __future__ import annotations

import argparse

MODEL_DIR_HELP = "model folder (default: $GEOGUESS_MODEL_DIR, else the per-user data folder)"
RUNTIME_CHOICES = ("auto", "openvino", "onnxruntime", "mxnet")  # core.engine.RUNTIMES, kept light for --help
HARDLINK_CHOICES = ("refuse", "in-place", "split")  # core.geotag.staged_write.HARDLINKS
SIDECAR_NAMES = ("NAME.xmp", "NAME.EXT.xmp")  # core.geotag.metadata.SIDECAR_NAMES
RAW_IN_FILE = ("no", "dng", "all")  # core.geotag.metadata.RAW_IN_FILE
DEFAULT_MIN_PROBABILITY = 0.5  # core.geotag.policy.DEFAULT_MIN_PROBABILITY (tests/cli check they agree)
DEFAULT_MAX_GAP_H = 6.0  # core.fusion.travel.DEFAULT_MAX_GAP_H


def add_model_dir(parser: argparse.ArgumentParser, extra: str = "") -> None:
    parser.add_argument("--model-dir", help=MODEL_DIR_HELP + extra)


def add_prediction_options(parser: argparse.ArgumentParser, window: bool = False) -> None:
    """The options of every command that predicts; with ``window``, the window's start-up options
    (no default given: the window then uses what was last chosen in its Device menu)."""
    g = parser.add_argument_group("prediction")
    last = " (default: the last one chosen in the Device menu, else auto)" if window else ""
    g.add_argument("--model-dir", help=MODEL_DIR_HELP)
    g.add_argument(
        "--device",
        default=None if window else "auto",
        help="auto, cpu, gpu or gpu:N" + (last or " (default auto: the first GPU if there is one)"),
        metavar="auto|cpu|gpu|gpu:N" if window else None,
    )
    g.add_argument(
        "--precision",
        default=None if window else "exact",
        choices=("exact", "fast"),
        help="exact (float32 and the published recipe: the published model's answers) or fast (JPEGs "
        "decoded at a reduced scale, and bfloat16 on a CPU with AMX or AVX512-BF16 through OpenVINO, or TF32 "
        "on an NVIDIA GPU; the first run with a model says how often it agrees with exact)"
        + (last or "; default exact"),
    )
    g.add_argument(
        "--runtime",
        default=None if window else "auto",
        choices=RUNTIME_CHOICES,
        help="what runs the network: auto (the fastest installed: OpenVINO, else ONNX Runtime, "
        "else MXNet), or one of them (the same published weights; ONNX Runtime and OpenVINO run an ONNX "
        "graph made from them)" + (last or "; default auto"),
    )
    if window:
        return
    g.add_argument("--no-progress", action="store_true", help="no progress bar")
    g.add_argument(
        "--decode-workers",
        type=int,
        metavar="N",
        help="photos decoded at once (default: one per CPU core; in processes above 4, within an eighth of the memory)",
    )
    g.add_argument("--no-cache", action="store_true", help="predict every photo again, without the prediction cache")


def add_policy_options(parser) -> None:
    """What may be written without asking: the threshold, and the choice to write guesses of an
    untrained or unverified model (core/geotag/policy.py)."""
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


def add_write_options(parser: argparse.ArgumentParser, backup: bool = True) -> None:
    """How photos are written: the policy, where to, and what the files keep."""
    g = parser.add_argument_group("writing")
    add_policy_options(g)
    g.add_argument(
        "--sidecar",
        action="store_true",
        help="write into an XMP sidecar instead of the photo, which is left untouched (camera RAW files, and videos "
        "other than MOV/MP4/M4V/3GP, always get a sidecar)",
    )
    g.add_argument(
        "--sidecar-name",
        choices=SIDECAR_NAMES,
        default=SIDECAR_NAMES[0],
        help="how a new sidecar is named: NAME.xmp (default; Adobe's, Lightroom's) or NAME.EXT.xmp (darktable's, "
        "digiKam's); a sidecar a photo has already, of either kind, is the one updated",
    )
    g.add_argument(
        "--raw-in-file",
        choices=RAW_IN_FILE,
        default="no",
        help="camera RAW files written into the file itself instead of a sidecar: no (default: never touched), "
        "dng (DNG files), all (every RAW format ExifTool writes); the sensor data and the embedded preview are "
        "checked unchanged before the file is replaced",
    )
    if backup:
        g.add_argument("--backup", action="store_true", help="keep a copy of each original (NAME.geoguess-backup)")
    g.add_argument("--touch", action="store_true", help="let the file's modification time change")
    g.add_argument(
        "--hardlinks",
        choices=HARDLINK_CHOICES,
        default="refuse",
        help="a photo with several hard links (names): refuse it (default), write it in place "
        "(every name sees the position), or split (only this name gets a new file)",
    )
    g.add_argument("--journal", metavar="FILE", help="undo journal (default: in the user data folder)")


def tag_policy(args, write: bool):
    """The TagPolicy of the options of add_write_options (and --overwrite-gps where a command has it)."""
    from ..core.geotag.policy import Consent, TagPolicy

    return TagPolicy(
        write=write,
        min_probability=args.min_probability,
        consent=Consent(untrained=args.allow_untrained, unverified=args.allow_unverified),
        overwrite_gps=getattr(args, "overwrite_gps", False),
        sidecar=args.sidecar,
        sidecar_name=args.sidecar_name,
        raw_in_file=args.raw_in_file,
        hardlinks=args.hardlinks,
        backup=getattr(args, "backup", False),
        keep_mtime=not args.touch,
    )


def add_fusion_options(parser: argparse.ArgumentParser) -> None:
    """The options of every command that fuses."""
    g = parser.add_argument_group("fusion (what else places a photo besides its own pixels)")
    g.add_argument(
        "--track",
        action="append",
        default=[],
        metavar="FILE",
        help="a GPS track (.gpx, .kml or .geojson); photos are placed on it by time (may be given several times)",
    )
    g.add_argument(
        "--region",
        metavar="R",
        help="where the photos were taken: country names or ISO codes ('Italy', 'it,fr'), "
        "MIN_LAT,MIN_LON,MAX_LAT,MAX_LON, or LAT,LON,RADIUS_KM",
    )
    g.add_argument(
        "--album", action="store_true", help="the photos were all taken in one place (also those without a time)"
    )
    g.add_argument("--no-timezone", action="store_true", help="do not use the offset from UTC in EXIF")
    g.add_argument(
        "--no-neighbours", action="store_true", help="do not use the photos taken before and after each photo"
    )
    g.add_argument("--no-anchors", action="store_true", help="do not use the GPS positions of photos of the set")
    g.add_argument(
        "--max-gap",
        type=float,
        default=DEFAULT_MAX_GAP_H,
        metavar="HOURS",
        help=f"photos further apart in time are not fused with each other (default {DEFAULT_MAX_GAP_H:g})",
    )
    g.add_argument(
        "--clock-offset",
        type=float,
        default=0.0,
        metavar="MINUTES",
        help="the camera's clock was ahead by this many minutes (negative: behind); "
        "its photos' times are corrected before they are matched to tracks and to other cameras",
    )


def fusion_settings(args):
    """The FusionSettings of the options of add_fusion_options."""
    from ..core.fusion.settings import FusionSettings

    return FusionSettings(
        tracks=tuple(args.track),
        region=args.region,
        album=args.album,
        timezones=not args.no_timezone,
        neighbours=not args.no_neighbours,
        anchors=not args.no_anchors,
        max_gap_h=args.max_gap,
        clock_offset_min=args.clock_offset,
        trust_gps=not getattr(args, "overwrite_gps", False),
    )
