"""RAW files and videos as GeoGuess opens them: the image (or frames) to predict from, what it
says about itself, and which image that was (decode.open_photo hands them here by content).

Metadata comes from ExifTool (file_meta.py). Without ExifTool the file is still predicted, and
``source`` says that its time and GPS could not be read.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from ..errors import GeoGuessError, ImageError
from .exif import PhotoMeta
from .file_meta import raw_meta, video_meta
from .formats import RAW

#: The largest image taken from a RAW file or a video frame (as decode.MAX_PIXELS for photos).
MAX_PIXELS = 200_000_000


@dataclass
class Opened:
    image: Image.Image  # the image shown (a video: its middle frame), RGB, stored orientation
    meta: PhotoMeta
    source: str  # which image: "embedded preview 6000x4000", "5 frames of a ... video", ...
    frames: list[Image.Image] = field(default_factory=list)  # a video's frames, upright, in time order


def open_camera_file(path: Path, kind: str, reduced: bool = False) -> Opened:
    """A RAW file (``kind`` raw) or a video: ImageError with a reason when it cannot be read.
    ``reduced``: a RAW file's JPEG preview decoded at a reduced scale (the fast decode)."""
    if kind == RAW:
        from .raw import read_raw

        raw = read_raw(str(path), reduced)
        _check_size(raw.image)
        meta, note = _tags(path, raw_meta)
        return Opened(raw.image, dataclasses.replace(meta, orientation=raw.orientation), raw.source + note)
    from .video import read_video

    video = read_video(str(path))
    for frame in video.frames:
        _check_size(frame)
    meta, note = _tags(path, video_meta)
    return Opened(video.frames[len(video.frames) // 2], meta, video.source + note, video.frames)


def _tags(path: Path, reader: Callable[[dict[str, Any]], PhotoMeta]) -> tuple[PhotoMeta, str]:
    try:
        tags = _read_tags(path)
    except GeoGuessError as e:  # ExifTool missing or stopped: predicted all the same, and said
        return PhotoMeta(), f" (its time and GPS are not read: {e})"
    return reader(tags), ""


def _read_tags(path: Path) -> dict[str, Any]:
    from .exiftool import shared_exiftool

    return shared_exiftool().read(path)


def _check_size(image: Image.Image) -> None:
    w, h = image.size
    if w * h > MAX_PIXELS:
        raise ImageError(f"image is too large to decode safely ({w}x{h} = {w * h / 1e6:.0f} megapixels)")


def capture_meta(path: Path) -> PhotoMeta | None:
    """A file's time, offset, camera and GPS as ExifTool reads them (RAW or not); None when it cannot."""
    try:
        tags = _read_tags(path)
    except GeoGuessError:
        return None
    return raw_meta(tags) if tags else None
