"""``geoguess fuse``: each photo's best position from all the evidence of the set.

Reads the JSON Lines of ``geoguess predict --json --distribution``; needs only the model folder's
grids.txt, not the weights. The options of fusion are declared here once, for ``fuse`` and ``tag``.
"""

from __future__ import annotations

import argparse
import json
import sys

from .output import EXIT_OK, EXIT_PHOTO_FAILED


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
        default=6.0,
        metavar="HOURS",
        help="photos further apart in time are not fused with each other (default 6)",
    )


def prepare_fusion(args):
    """Check the fusion options now (read the tracks, parse the region: a mistake is said before
    any photo is predicted); returns a function that makes the FusionOptions for a grid."""
    import datetime

    from ..core.errors import GeoGuessError
    from ..core.fusion.fuse import FusionOptions
    from ..core.fusion.region import RegionEvidence, parse_region
    from ..core.fusion.timezone import TimezoneEvidence
    from ..core.fusion.tracks import AnchorEvidence, TrackEvidence, read_track
    from ..core.fusion.travel import TravelModel

    if args.max_gap <= 0:
        raise GeoGuessError("--max-gap is a number of hours above 0")
    region = parse_region(args.region) if args.region else None
    tracks = [read_track(path) for path in args.track]

    def options(geometry) -> FusionOptions:
        sources = []
        if not args.no_timezone:
            sources.append(TimezoneEvidence(geometry))
        if region is not None:
            sources.append(RegionEvidence(region, geometry))
        if not args.no_anchors:
            sources.append(AnchorEvidence())
        if tracks:
            sources.append(TrackEvidence(tracks))
        return FusionOptions(
            sources=sources,
            neighbours=not args.no_neighbours,
            album=args.album,
            travel=TravelModel(max_gap=datetime.timedelta(hours=args.max_gap)),
        )

    return options


def open_geometry(args):
    """The model folder's cell grid, as fusion needs it (grids.txt only)."""
    from ..core.fusion.geometry import GridGeometry
    from ..core.geo.cells import CellGrid
    from ..core.model.store import resolve_model_dir

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

    options = prepare_fusion(args)(geometry := open_geometry(args))
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
    answers = fuse(photos, geometry, options)
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
