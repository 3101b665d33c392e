"""``python -m geoguess_app`` opens the window."""

import sys

from .gui.app import main

sys.exit(main())
