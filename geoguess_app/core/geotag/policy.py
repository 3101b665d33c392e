"""What may be written without asking, the same for the command line and the window.

- A guess is written only from ``DEFAULT_MIN_PROBABILITY`` on (the command line's
  ``--min-probability``, the window's "Accept from"); a position taken from GPS data (a track, or
  between GPS photos) has no probability and is not held back by it.
- A guess of the untrained stand-in (random) or of an unverified model (files that are not the
  published LocationNet's) is written only by an explicit choice: ``--allow-untrained`` /
  ``--allow-unverified`` on the command line, a confirmation in the window (``Consent``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: The default acceptance threshold of a guess, everywhere (0-1).
DEFAULT_MIN_PROBABILITY = 0.5

UNTRAINED_REFUSAL = "the model is an UNTRAINED stand-in: its position is random, so it is not written"
UNVERIFIED_REFUSAL = (
    "the model's files are not the published LocationNet files (UNVERIFIED): its position is not written"
)


@dataclass(frozen=True)
class Consent:
    """The person's explicit choice to write guesses of an untrained or an unverified model."""

    untrained: bool = False
    unverified: bool = False
    #: how the choice is made where it is missing, appended to the refusal
    how: str = " (--allow-untrained writes it anyway)"
    how_unverified: str = " (--allow-unverified writes it anyway)"

    def refusal(self, model: Any, measured: bool = False) -> str | None:
        """Why a position of ``model`` (a ModelInfo) may not be written without that choice, or
        None. A position taken from GPS data (``measured``) owes nothing to the model."""
        if measured or model is None:
            return None
        if getattr(model, "untrained", False):
            return None if self.untrained else UNTRAINED_REFUSAL + self.how
        if getattr(model, "verified", True) is False:
            return None if self.unverified else UNVERIFIED_REFUSAL + self.how_unverified
        return None


#: The window asks before every write of such a guess (its confirmation is the choice).
ASKED_IN_WINDOW = Consent(untrained=True, unverified=True)


@dataclass(frozen=True)
class TagPolicy:
    """How a geotagging job writes: for real or rehearsed, what it accepts, and how it treats the
    files (one set of choices for the command line, the window and ``geoguess batch``)."""

    write: bool = False  # False: a dry run (each write rehearsed, nothing changed)
    min_probability: float = DEFAULT_MIN_PROBABILITY
    consent: Consent = Consent()
    overwrite_gps: bool = False  # replace a GPS position the photo has
    sidecar: bool = False  # into an XMP sidecar instead of the photo (always so for RAW files)
    sidecar_name: str = "NAME.xmp"  # a new sidecar's name: NAME.xmp (Adobe's) or NAME.EXT.xmp (darktable's)
    raw_in_file: str = "no"  # RAW files written in-file: no (sidecars), dng, all (metadata.RAW_IN_FILE)
    hardlinks: str = "refuse"  # a photo with several names: refuse, split or in-place
    backup: bool = False  # keep NAME.original beside the photo
    keep_mtime: bool = True  # the photo keeps its modification time (False: --touch)

    def __post_init__(self) -> None:
        if not 0 <= self.min_probability <= 1:
            from ..errors import GeoGuessError

            raise GeoGuessError("the acceptance threshold (--min-probability) is between 0 and 1")
