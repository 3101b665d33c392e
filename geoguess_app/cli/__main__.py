"""``python -m geoguess_app.cli``: the command line."""

import sys

from . import main

sys.exit(main())
