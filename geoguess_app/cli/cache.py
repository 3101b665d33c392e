"""``geoguess cache``: what the prediction cache holds, or empty it."""

from __future__ import annotations

from .output import EXIT_OK


def add_parser(sub) -> None:
    c = sub.add_parser("cache", help="the cache of predictions: what it holds, or empty it")
    c.add_argument("cache_command", choices=("info", "clear"), metavar="ACTION", help="info or clear")
    c.set_defaults(handler=cmd_cache)


def cmd_cache(args) -> int:
    from ..core.predict.cache import PredictionCache

    with PredictionCache() as cache:
        if args.cache_command == "clear":
            removed = cache.clear()
            print(f"Removed {removed} prediction(s) from {cache.path}")
            return EXIT_OK
        info = cache.info()
    print(f"Prediction cache: {info.path}")
    print(f"  {info.entries} prediction(s), {info.size_bytes / 1e6:.1f} MB")
    print("  Each is found again by the photo's content and the model's files; 'geoguess cache clear' empties it.")
    return EXIT_OK
