"""``geoguess fuse``: each photo's best position from all the evidence of the set.

Reads the JSON Lines of ``geoguess predict --json --distribution``; needs only the model folder's
grids.txt, not the weights. The options of fusion are declared once, in options.py.
"""

from __future__ import annotations

import json
import sys

from .options import add_fusion_options, add_model_dir, fusion_settings
from .output import EXIT_OK, EXIT_PHOTO_FAILED


def add_parser(sub) -> None:
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
    add_model_dir(f)
    f.add_argument("--json", action="store_true", help="JSON Lines: one object per photo, in input order")
    add_fusion_options(f)
    f.set_defaults(handler=cmd_fuse)


def open_geometry(args):
    """The model folder's cell grid, as fusion needs it (grids.txt only)."""
    from ..core.engine import resolve_model_dir
    from ..core.fusion.geometry import GridGeometry
    from ..core.geo.cells import CellGrid

    return GridGeometry(CellGrid.from_file(resolve_model_dir(args.model_dir) / "grids.txt"))


def describe(answer) -> str:
    """One line for reading."""
    from ..core.geo.cells import format_km
    from ..core.names import display_path

    name = display_path(answer.path)
    if answer.error:
        return f"{name}: error: {answer.error}"
    lat, lon = answer.position
    how = {
        "gps": "measured",
        "track": "measured: GPS track",
        "interpolated": "measured: between GPS photos",
        "near_gps": "measured: a GPS photo close in time",
        "fused": "fused prediction",
        "model": "prediction of this photo alone",
    }[answer.source]
    text = f"{name}: {lat:.5f}, {lon:.5f}  within {format_km(answer.radius_km)}  [{how}]"
    if answer.evidence:
        text += "  " + "; ".join(answer.evidence)
    if answer.single and answer.source != "gps":
        s_lat, s_lon, p = answer.single
        text += f"  (this photo alone: {s_lat:.4f}, {s_lon:.4f}, {p * 100:.1f}%)"
    return text


def warn_about_models(models: list[dict]) -> None:
    if any(m.get("untrained") for m in models):
        print(
            "WARNING: the predictions come from an UNTRAINED model (random weights); positions fused from them mean nothing.",
            file=sys.stderr,
        )
    elif any(not m.get("verified", True) for m in models):
        print(
            "WARNING: the predictions come from an UNVERIFIED model (not the published LocationNet files).",
            file=sys.stderr,
        )


def cmd_fuse(args) -> int:
    from ..core.errors import GeoGuessError
    from ..core.fusion.fuse import fuse
    from ..core.fusion.inputs import read_lines

    fusion = fusion_settings(args).prepare()
    geometry = open_geometry(args)
    try:
        if args.predictions == "-":
            photos, models = read_lines(sys.stdin, geometry.num_cells)
        else:
            with open(args.predictions, encoding="utf-8-sig", errors="replace") as f:
                photos, models = read_lines(f, geometry.num_cells)
    except OSError as e:
        raise GeoGuessError(f"cannot read {args.predictions}: {e.strerror or e}") from None
    if not photos:
        raise GeoGuessError(
            f"{args.predictions} holds no predictions (make them with 'geoguess predict --json --distribution')"
        )
    warn_about_models(models)
    untrained = any(m.get("untrained") for m in models)
    answers = fuse(fusion.adjusted(photos), geometry, fusion.options(geometry))
    for answer in answers:
        if args.json:
            data = answer.to_json()
            data["untrained"] = untrained and not answer.measured
            print(json.dumps(data, ensure_ascii=False))
        else:
            print(describe(answer))
    failed = sum(1 for a in answers if a.error)
    if failed:
        print(f"geoguess: {failed} of {len(answers)} line(s) could not be fused", file=sys.stderr)
    return EXIT_PHOTO_FAILED if failed else EXIT_OK
