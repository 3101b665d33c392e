"""``geoguess evaluate``: accuracy on a person's own photos that have GPS, single photo and fused."""

from __future__ import annotations

import json
import sys

from .options import add_fusion_options, add_prediction_options, fusion_settings
from .output import EXIT_OK, progress_bar, warn_about_model
from .predict import open_predictor


def add_parser(sub) -> None:
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
    add_prediction_options(e)
    add_fusion_options(e)
    e.set_defaults(handler=cmd_evaluate)


def cmd_evaluate(args) -> int:
    from ..core.errors import GeoGuessError
    from ..core.fusion.evaluate import DISTANCES_KM, evaluate
    from ..core.fusion.geometry import GridGeometry
    from ..core.photos.decode import list_photos
    from ..core.predict.pipeline import predict_all

    fusion = fusion_settings(args).prepare()
    paths = list_photos(args.paths, recursive=args.recursive)
    if not paths:
        raise GeoGuessError("no photos found in " + ", ".join(args.paths))
    predictor = open_predictor(args, top_k=1)
    bar = progress_bar(len(paths), disabled=args.no_progress, unit="photo")
    warned = False

    def predicted(result) -> None:
        nonlocal warned
        warned = warn_about_model(result.model, warned)
        if bar:
            bar.update(1)

    results = predict_all(predictor.predict_many(paths), predicted)
    if bar:
        bar.close()
    photos = fusion.photos(results)
    if not any(p.gps is not None and p.usable for p in photos):
        raise GeoGuessError(
            "none of these photos has its own GPS position (one GeoGuess wrote does not count): nothing to measure against"
        )
    geometry = GridGeometry(predictor.classifier.grid)
    evaluation = evaluate(photos, geometry, fusion.options(geometry))
    model = results[0].model
    untrained = bool(model and model.untrained)
    if args.json:
        print(
            json.dumps(
                {
                    "photos": evaluation.photos,
                    "with_gps": evaluation.with_gps,
                    "untrained": untrained,
                    "rows": [row.to_json() for row in evaluation.rows],
                }
            )
        )
        return EXIT_OK
    print(
        f"{evaluation.with_gps} of {evaluation.photos} photos have their own GPS position; each was placed with it "
        "hidden. Share of them placed within:"
    )
    print(f"  {'':<30}" + "".join(f"{km:>9,} km" for km in DISTANCES_KM) + "     median")
    for row in evaluation.rows:
        cells = "".join(f"{row.within(km) * 100:11.1f}%" for km in DISTANCES_KM)
        print(f"  {row.name:<30}{cells}  {row.median_km:9,.1f} km")
    if untrained:
        print(
            "WARNING: the model is an UNTRAINED stand-in (random weights): these figures say nothing about LocationNet.",
            file=sys.stderr,
        )
    return EXIT_OK
