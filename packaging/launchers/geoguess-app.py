"""Entry point of the packaged window (PyInstaller runs this file as the program)."""

import multiprocessing
import sys

from geoguess_app.gui.app import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # photo decoding and the place index start worker processes (spawn)
    sys.exit(main())
