"""Entry point of the packaged window (PyInstaller runs this file as the program)."""

import sys

from geoguess_app.gui.app import main

sys.exit(main())
