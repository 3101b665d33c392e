"""What happened to each photo of a geotagging (or undo) run, and the one mapping from a write's
result to it."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import WriteRefused
from ..names import display_path
from ..predict.results import Guess
from .metadata import in_sidecar

if TYPE_CHECKING:
    from ..model.classifier import ModelInfo
    from .writer import GeoTag, PhotoWriter


class Status(StrEnum):
    """A photo's outcome; its value is what the command line prints."""

    WRITTEN = "written"
    WOULD_WRITE = "would write"
    SKIPPED = "skipped"
    REFUSED = "refused"
    ERROR = "error"
    RESTORED = "restored"


WRITTEN, WOULD_WRITE, SKIPPED, REFUSED, ERROR, RESTORED = (
    Status.WRITTEN,
    Status.WOULD_WRITE,
    Status.SKIPPED,
    Status.REFUSED,
    Status.ERROR,
    Status.RESTORED,
)
FAILED = frozenset({REFUSED, ERROR})
STOPPED = "not written: stopped before its turn"


@dataclass
class TagOutcome:
    path: str
    status: Status
    message: str = ""
    guess: Guess | None = None
    untrained: bool = False
    model: ModelInfo | None = None  # of the prediction
    existing_gps: str | None = None  # the position the photo already has, when known
    preview: Any = field(default=None, repr=False)  # upright thumbnail, when the predictor makes them
    verified: bool | None = None  # whether the model's files are the published ones (None: no model used)
    source: str = "model"  # what placed ``guess``: model, fused, track or interpolated (core/fusion)
    evidence: tuple[str, ...] = ()  # what moved it from the photo's own guess
    tag: Any = field(default=None, repr=False)  # the GeoTag written or rehearsed, when there was one
    twin: TagOutcome | None = field(default=None, repr=False)  # a RAW twin's, written with it (photos/pairs.py)

    def with_twin(self) -> list[TagOutcome]:
        """This outcome, and its RAW twin's after it."""
        return [self] if self.twin is None else [self, self.twin]

    @property
    def failed(self) -> bool:
        return self.status in FAILED

    @property
    def summary(self) -> str:
        """'written', or the status and its reason ('refused: it already has a GPS position')."""
        return f"{self.status}: {self.message}" if self.message else str(self.status)


def write_one(
    writer: PhotoWriter,
    path: str | Path,
    tag: GeoTag,
    overwrite_gps: bool = False,
    sidecar: bool = False,
    where: str = "",
) -> TagOutcome:
    """Write one position (into the photo, or its sidecar: when asked, and always for a RAW file
    and a video GeoGuess does not write into) and say what happened: written, refused (the file
    untouched, with the reason) or error (the file system failed). Anything else (no
    ExifTool, ExifTool stopped) is not about this photo and is raised, to stop the run. The
    outcome names the photo as ``path`` was given."""
    try:
        if sidecar or in_sidecar(Path(path), writer.raw_in_file):  # asked, or a RAW file (never touched) ...
            side = writer.write_sidecar(path, tag, overwrite_gps=overwrite_gps)
            return TagOutcome(str(path), WRITTEN, f"{where} into {display_path(side.name)}".strip())
        target = writer.write_gps(path, tag, overwrite_gps=overwrite_gps)
        into = f" into {display_path(target)} (the file its link names)" if Path(path).is_symlink() else ""
        return TagOutcome(str(path), WRITTEN, (where + into).strip())
    except (WriteRefused, OSError) as e:
        return failure(path, e)


def failure(path: str | Path, error: WriteRefused | OSError) -> TagOutcome:
    """What a photo that a write (or its dry run) could not do says: refused with the reason (the
    file untouched), or an error of the file system."""
    if isinstance(error, WriteRefused):
        return TagOutcome(str(path), REFUSED, str(error))
    return TagOutcome(str(path), ERROR, f"cannot write: {error.strerror or error}")
