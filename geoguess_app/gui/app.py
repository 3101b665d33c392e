"""``geoguess-app``: start the window (fixed early-initialisation order, as qutebrowser does)."""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from pathlib import Path

from .. import environment
from ..cli.options import add_prediction_options
from ..core import folders


def parse_args(argv: list[str] | None):
    parser = argparse.ArgumentParser(prog="geoguess-app", description="GeoGuess: where was this photo taken?")
    parser.add_argument("photos", nargs="*", metavar="PHOTO_OR_FOLDER")
    add_prediction_options(parser, window=True)  # the command line's, declared once
    parser.add_argument(
        "--screenshot",
        metavar="OUT.png",
        help="check mode: predict the one PHOTO, save a PNG of the window, print a JSON line, exit",
    )
    parser.add_argument("--offline-map", action="store_true", help="do not fetch OpenStreetMap tiles")
    parser.add_argument("--size", metavar="WxH", help="the window's size, such as 1024x640 (default: as last time)")
    parser.add_argument("--timeout", type=float, default=300, help="seconds the check mode may take (default 300)")
    args = parser.parse_args(argv)
    if args.screenshot and len(args.photos) != 1:
        parser.error("--screenshot takes exactly one PHOTO")
    if args.size:
        w, _, h = args.size.lower().partition("x")
        if not (w.isdigit() and h.isdigit() and int(w) >= 640 and int(h) >= 400):
            parser.error("--size is WIDTHxHEIGHT in pixels, at least 640x400")
        args.size = (int(w), int(h))
    return args


def setup_logging() -> Path:

    folder = folders.logs()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "geoguess.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.INFO)
    return path


def install_excepthook(log_path: Path) -> None:
    """An uncaught exception is logged and shown in a dialog; the window stays up."""

    def hook(kind, value, tb):
        text = "".join(traceback.format_exception(kind, value, tb))
        logging.getLogger("geoguess").error("uncaught exception\n%s", text)
        print(text, file=sys.stderr)
        from PySide6.QtWidgets import QApplication

        from .qt_helpers import show_error

        if QApplication.instance() is not None:
            window = QApplication.activeWindow()
            show_error(
                window,
                "Something went wrong",
                f"GeoGuess hit an unexpected error: {value}\n\nIt was written to {log_path}.",
                text,
            )

    sys.excepthook = hook


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    environment.prepare_qt(headless=bool(args.screenshot))
    from .system_libraries import explain, missing_libraries

    missing = missing_libraries()  # before Qt, whose own message names the wrong one, then aborts
    if missing:
        print(explain(missing), file=sys.stderr)
        return 1
    from PySide6 import QtWebEngineWidgets  # noqa: F401 - must be imported before the application
    from PySide6.QtCore import QCoreApplication, Qt
    from PySide6.QtWidgets import QApplication

    from .. import APP_ID
    from ..core.engine import resolve_model_dir
    from . import settings
    from .main_window import MainWindow

    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
    QCoreApplication.setOrganizationName("GeoGuess")
    QCoreApplication.setApplicationName("GeoGuess")
    app = QApplication(sys.argv[:1])
    app.setDesktopFileName(APP_ID)  # lets the desktop match the window to its .desktop file and icon
    log_path = setup_logging()
    install_excepthook(log_path)
    device = args.device or settings.DEVICE.get()
    window = MainWindow(
        resolve_model_dir(args.model_dir),
        device=device,
        runtime=args.runtime or settings.RUNTIME.get(),
        precision=args.precision or settings.PRECISION.get(),
        online_tiles=not args.offline_map,
        ask_for_model=not args.screenshot,
    )
    check = None
    if args.screenshot:
        from .screenshot import ScreenshotCheck

        check = ScreenshotCheck(window, args.photos[0], Path(args.screenshot), args.timeout)
    if args.size:
        window.resize(*args.size)
    window.show()
    if args.photos:
        window.add_paths(args.photos)
    code = app.exec()
    window.tasks.shutdown()
    return check.exit_code if check is not None and check.exit_code is not None else code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
