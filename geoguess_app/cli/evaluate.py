"""``geoguess evaluate``: accuracy on a person's own photos that have GPS, single photo and fused."""

from __future__ import annotations

import json
import sys

from .fuse import prepare_fusion
from .output import EXIT_OK, progress_bar, warn_about_model
from .predict import open_predictor


def cmd_evaluate(args) -> int:
    from ..core.errors import GeoGuessError
    from ..core.fusion.evaluate import DISTANCES_KM, evaluate
    from ..core.fusion.geometry import GridGeometry
    from ..core.fusion.inputs import FusionPhoto
    from ..core.geotag.batch import predict_all
    from ..core.photos.decode import list_photos

    fusion = prepare_fusion(args)
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
    photos = [FusionPhoto.from_result(r, i) for i, r in enumerate(results)]
    if not any(p.gps is not None and p.usable for p in photos):
        raise GeoGuessError(
            "none of these photos has its own GPS position (one GeoGuess wrote does not count): nothing to measure against"
        )
    geometry = GridGeometry(predictor.classifier.grid)
    evaluation = evaluate(photos, geometry, fusion(geometry))
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
