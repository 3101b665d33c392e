"""The ``geoguess`` command line: predict, fuse, tag, undo, batch (archives on Ray), and manage the model.

Each command lives in a module of its own, which adds its subparser (``add_parser``) and the
function that runs it; the option groups several commands share are declared once in options.py.
The modules import the core only when a command runs, so --help is fast.
"""

from __future__ import annotations

import argparse
import sys

from .. import __version__
from . import batch, cache, evaluate, fuse, model, predict, tag, undo
from .output import EXIT_ERROR, EXIT_OK

COMMANDS = (predict, tag, undo, fuse, evaluate, batch, cache, model)  # in the order --help lists them


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="geoguess",
        description="Guess where on Earth a photo was taken, with LocationNet (PlaNet).",
    )
    parser.add_argument("--version", action="version", version=f"geoguess {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):  # a file name that is not UTF-8 is printed escaped, never a crash
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    args = build_parser().parse_args(argv)
    from ..core.errors import GeoGuessError  # keep --help fast

    try:
        return args.handler(args)
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
