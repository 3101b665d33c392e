"""What a LocationNet model folder holds, and the published facts about the official files."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

SYMBOL_FILE = "RN101-5k500-symbol.json"
PARAMS_FILE = "RN101-5k500-0012.params"
GRIDS_FILE = "grids.txt"
MODEL_FILES = (SYMBOL_FILE, PARAMS_FILE, GRIDS_FILE)

#: Written into every synthesized (random-weight) model folder. Its presence means "untrained".
UNTRAINED_MARKER = "GEOGUESS-UNTRAINED.json"

MODEL_NAME = "LocationNet RN101-5k500"


@dataclass(frozen=True)
class OfficialFile:
    name: str
    md5: str
    url: str
    size: int | None  # bytes, where published


OFFICIAL_FILES = {
    f.name: f
    for f in (
        OfficialFile(
            SYMBOL_FILE,
            "f1ea8e5e12c29b074626d85f109cc903",
            "https://s3.amazonaws.com/mmcommons-tutorial/models/RN101-5k500-symbol.json",
            193626,
        ),
        OfficialFile(
            PARAMS_FILE,
            "e206e84fd2b801a9faca47156638c009",
            "https://s3.amazonaws.com/mmcommons-tutorial/models/RN101-5k500-0012.params",
            297658751,
        ),
        OfficialFile(
            GRIDS_FILE,
            "1228c937dafe828f636f056f5099bf78",
            "https://raw.githubusercontent.com/multimedia-berkeley/tutorials/master/grids.txt",
            557683,
        ),
    )
}


@dataclass(frozen=True)
class UntrainedMarker:
    variant: str  # "full" (the real architecture) or "tiny" (a few layers, for tests)
    seed: int

    @property
    def description(self) -> str:
        kind = "LocationNet architecture" if self.variant == "full" else "tiny test network"
        return f"UNTRAINED stand-in ({kind}, random weights, seed {self.seed}): predictions mean nothing"


def read_marker(folder: Path) -> UntrainedMarker | None:
    """The untrained marker of a model folder, or None for a real model.

    A marker that cannot be read still means untrained: the file's presence is what counts.
    """
    path = Path(folder) / UNTRAINED_MARKER
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return UntrainedMarker(variant=str(data.get("variant", "unknown")), seed=int(data.get("seed", -1)))
    except (OSError, ValueError, TypeError, AttributeError):
        return UntrainedMarker(variant="unknown", seed=-1)


def write_marker(folder: Path, variant: str, seed: int) -> None:
    text = json.dumps(
        {
            "untrained": True,
            "variant": variant,
            "seed": seed,
            "note": "Random weights made by 'geoguess model synth'. Its predictions mean nothing.",
        },
        indent=2,
    )
    (Path(folder) / UNTRAINED_MARKER).write_text(text + "\n", encoding="utf-8")
