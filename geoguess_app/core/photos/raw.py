"""Camera RAW files, read through rawpy (LibRaw): the image GeoGuess predicts from.

Most RAW files carry a JPEG preview the camera rendered at or near full size: the kind of image
LocationNet was trained on, and much faster to read than the sensor data. GeoGuess takes it when
it is large enough for the published recipe (``MIN_PREVIEW_SIDE`` on its shorter side); else it
demosaics the sensor data at half size (LibRaw's own camera white balance, 8 bits, sRGB). A file
with neither (test files stripped of their image data, a format LibRaw does not read) gets a
reason that says so. Which image was used is said in ``source``.

The preview's orientation is the RAW's own (LibRaw's ``flip``, which it reads from the RAW's
tags); a demosaic comes out of LibRaw upright.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from ..errors import ImageError, reason_of
from .jpeg_data import reduce_jpeg

#: The least shorter side of an embedded preview that is used as it is, before a demosaic is tried.
MIN_PREVIEW_SIDE = 448
#: The least shorter side of any image predicted from (the published recipe samples 224 x 224).
MIN_SIDE = 224
#: The least bytes per sensor pixel a RAW file that holds its sensor data can have (lossy DNG keeps
#: about 2 bits a pixel, lossless formats 8 or more): a smaller file was cut short or stripped, and
#: LibRaw would demosaic whatever memory lay past its end (a different picture on each read).
MIN_BYTES_PER_PIXEL = 0.05
#: LibRaw's flip -> EXIF orientation (LibRaw: 3 is 180 degrees, 5 is 90 counter-clockwise, 6 is 90 clockwise).
_FLIP_TO_ORIENTATION = {0: 1, 3: 3, 5: 8, 6: 6}


@dataclass
class RawImage:
    image: Image.Image  # RGB, stored orientation
    orientation: int  # EXIF orientation still to apply (1 for a demosaic)
    source: str  # "embedded preview 6000x4000", "half-size demosaic 3000x2000", ...


def read_raw(path: str, reduced: bool = False) -> RawImage:
    """The image to predict from; ImageError with a reason when there is none. ``reduced``: a JPEG
    preview decoded at a reduced scale, at least MIN_PREVIEW_SIDE on its shorter side."""
    try:
        import rawpy
    except ImportError:  # pragma: no cover - a dependency; the packaged app includes it
        raise ImageError("RAW files need rawpy (pip install rawpy)") from None
    try:
        raw = rawpy.imread(path)
    except rawpy.LibRawFileUnsupportedError:
        raise ImageError("not a RAW format LibRaw reads (or a damaged RAW file)") from None
    except (rawpy.LibRawError, OSError, ValueError) as e:
        raise ImageError(f"cannot read this RAW file ({reason_of(e)})") from None
    with raw:
        orientation = _FLIP_TO_ORIENTATION.get(int(raw.sizes.flip), 1)
        preview, small, note = _preview(raw, reduced)
        if preview is not None and min(preview.size) >= MIN_PREVIEW_SIDE:
            w, h = preview.size
            return RawImage(preview, orientation, f"embedded preview {w}x{h}" + (f", {note}" if note else ""))
        size, pixels = os.path.getsize(path), None
        if too_small_for_sensor(size, raw.sizes):
            pixels_held = int(raw.sizes.raw_width) * int(raw.sizes.raw_height)
            sensor = (
                f"its sensor data is missing ({_kb(size)} cannot hold {pixels_held / 1e6:.1f} megapixels: "
                "a file cut short or stripped of its picture)"
            )
        else:
            try:
                pixels = raw.postprocess(half_size=True, use_camera_wb=True, output_bps=8, no_auto_bright=False)
            except (rawpy.LibRawError, MemoryError, ValueError) as e:
                sensor = f"its sensor data cannot be demosaiced (stripped or damaged: {reason_of(e)})"
        if pixels is None:
            if preview is not None and min(preview.size) >= MIN_SIDE:  # smaller, but enough: said so
                w, h = preview.size
                return RawImage(preview, orientation, f"small embedded preview {w}x{h}; {sensor}")
            raise ImageError(
                f"this RAW file holds no image GeoGuess can predict from: {small or _tiny(preview)}, and {sensor}"
            )
        if not pixels.any():  # every pixel black: the file keeps no picture (a stripped file)
            raise ImageError(
                f"this RAW file holds no image GeoGuess can predict from: {small or 'no large enough embedded preview'}, "
                "and its sensor data is empty (every pixel black: a file stripped of its picture)"
            )
    image = Image.fromarray(np.ascontiguousarray(pixels), "RGB")
    w, h = image.size
    return RawImage(image, 1, f"half-size demosaic {w}x{h}")


def too_small_for_sensor(file_size: int, sizes: Any) -> bool:
    """Whether a file of ``file_size`` bytes cannot hold the sensor data LibRaw's ``sizes`` declare
    (MIN_BYTES_PER_PIXEL): reading it, LibRaw would read past the end of the file."""
    return file_size < int(sizes.raw_width) * int(sizes.raw_height) * MIN_BYTES_PER_PIXEL


def _preview(raw: Any, reduced: bool = False) -> tuple[Image.Image | None, str, str]:
    """The embedded preview, decoded (or None), why there is none, and how it was reduced ("")."""
    import rawpy

    try:
        thumb = raw.extract_thumb()
    except rawpy.LibRawNoThumbnailError:
        return None, "no embedded preview", ""
    except (rawpy.LibRawError, ValueError) as e:
        return None, f"an unreadable preview ({reason_of(e)})", ""
    try:
        if thumb.format == rawpy.ThumbFormat.JPEG:
            image = Image.open(io.BytesIO(thumb.data))
            note = reduce_jpeg(image, MIN_PREVIEW_SIDE) if reduced else ""
            image.load()
            return image.convert("RGB"), "", note
        if thumb.format == rawpy.ThumbFormat.BITMAP:
            return Image.fromarray(np.ascontiguousarray(thumb.data), "RGB"), "", ""
    except (OSError, ValueError, SyntaxError) as e:
        return None, f"a damaged preview ({reason_of(e)})", ""
    return None, "a preview in a format GeoGuess does not read", ""


def _tiny(preview: Image.Image | None) -> str:
    if preview is None:
        return "no embedded preview"
    w, h = preview.size
    return f"only a tiny embedded preview ({w}x{h})"


def _kb(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 1e6 else f"{size / 1e3:.0f} KB"
