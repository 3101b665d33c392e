"""Entry point of the packaged command line (PyInstaller runs this file as the program)."""

import multiprocessing
import sys

from geoguess_app.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # photo decoding and the place index start worker processes (spawn)
    sys.exit(main())
