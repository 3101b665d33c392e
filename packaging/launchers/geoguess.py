"""Entry point of the packaged command line (PyInstaller runs this file as the program)."""

import sys

from geoguess_app.cli import main

sys.exit(main())
