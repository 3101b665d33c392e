"""``geoguess predict``: the most likely places for photos, for reading or as JSON Lines."""

from __future__ import annotations

import json
import sys

from .options import add_prediction_options
from .output import EXIT_OK, EXIT_PHOTO_FAILED, human, progress_bar, warn_about_model


def add_parser(sub) -> None:
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
    add_prediction_options(p)
    p.set_defaults(handler=cmd_predict)


def open_predictor(args, top_k: int):
    """The engine for --model-dir, --device, --runtime and --precision. The model loads in the
    background (on its runtime's thread where it needs one) while the first photos are decoded.
    The engine's Future is kept in ``args.engine``."""
    from ..core.engine import open_engine, predictor_while_loading, resolve_model_dir
    from ..core.errors import GeoGuessError
    from ..core.predict.cache import PredictionCache

    if args.decode_workers is not None and args.decode_workers < 1:
        raise GeoGuessError("--decode-workers must be at least 1")
    cache = None if args.no_cache else PredictionCache()
    folder = resolve_model_dir(args.model_dir)
    args.engine = open_engine(folder, args.device, runtime=args.runtime, precision=args.precision)
    return predictor_while_loading(
        args.engine, top_k=top_k, cache=cache, precision=args.precision, decode_workers=args.decode_workers
    )


def say_precision(args, photos) -> None:
    """After a run with --precision fast: how far fast agrees with exact, on the person's own photos."""
    if args.precision != "fast" or getattr(args, "engine", None) is None or not args.engine.done():
        return
    from ..core.engine import fast_agreement

    if args.engine.exception() is None:
        engine = args.engine.result()
        text = fast_agreement(engine, photos)
        if text:
            print(f"geoguess: precision fast ({engine.info.arithmetic}): {text}", file=sys.stderr)


def cmd_predict(args) -> int:
    from ..core.errors import GeoGuessError
    from ..core.photos.decode import list_photos

    if args.top_k < 1:
        raise GeoGuessError("--top-k must be at least 1")
    if args.distribution and not args.json:
        raise GeoGuessError("--distribution goes with --json")
    photos = list_photos(args.paths, recursive=args.recursive)
    if not photos:
        raise GeoGuessError("no photos found in " + ", ".join(args.paths))
    predictor = open_predictor(args, top_k=args.top_k)
    bar = progress_bar(len(photos), disabled=args.no_progress or len(photos) < 2)
    failed = 0
    warned = False
    for result in predictor.predict_many(photos):
        warned = warn_about_model(result.model, warned)
        failed += not result.ok
        text = (
            json.dumps(result.as_dict(distribution=args.distribution), ensure_ascii=False)
            if args.json
            else human(result)
        )
        if bar is not None:
            bar.write(text)
            bar.update(1)
        else:
            print(text, flush=True)
    if bar is not None:
        bar.close()
    say_precision(args, photos)
    if failed:
        print(f"geoguess: {failed} of {len(photos)} photo(s) could not be read", file=sys.stderr)
    return EXIT_PHOTO_FAILED if failed else EXIT_OK
