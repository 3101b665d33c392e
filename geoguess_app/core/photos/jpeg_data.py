"""Whether a JPEG file can hold the pixels its frame header declares.

libjpeg, meeting the end-of-image marker before the last row (a frame header that declares 14000 x
14000 pixels over the data of 100 x 100, or a file cut short and given a new end marker), fills
the missing rows with grey and only warns; Pillow does not pass that warning on, so such a file
decodes as if it were whole. Its own truncation check only catches a file that ends without the
marker. Every 8 x 8 block of a Huffman-coded JPEG (baseline, extended, progressive) costs at
least one bit (its DC coefficient), so a file with fewer bits than its blocks cannot hold them:
it is truncated. This is a bound, not a decoder: a file cut short that still holds a bit per
block passes it. Arithmetic-coded and lossless JPEGs (rare) have no such bound and are not
checked.

``reduce_jpeg`` is the fast precision's decode: a JPEG decoded at a reduced scale.
"""

from __future__ import annotations

import math
import struct
from typing import BinaryIO

from PIL import Image

_HUFFMAN_FRAMES = {0xC0, 0xC1, 0xC2}  # SOF0 baseline, SOF1 extended, SOF2 progressive
_OTHER_FRAMES = {0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_NO_LENGTH = {0x01, *range(0xD0, 0xD8)}  # TEM and the restart markers stand alone


def _frame(fp: BinaryIO) -> tuple[int, int, list[tuple[int, int]]] | None:
    """Width, height and each component's sampling factors from the first frame header of a
    Huffman-coded JPEG; None for another file, another coding, or a header it cannot read."""
    fp.seek(0)
    if fp.read(2) != b"\xff\xd8":
        return None
    while True:
        if fp.read(1) != b"\xff":
            return None  # the end, or not at a marker: a damaged file, whose decoding says what is wrong
        marker = fp.read(1)
        while marker == b"\xff":  # fill bytes before a marker
            marker = fp.read(1)
        if not marker or marker in (b"\xd9", b"\xda"):  # the end, or the image data, before any frame
            return None
        code = marker[0]
        if code in _NO_LENGTH or code == 0xD8:
            continue
        head = fp.read(2)
        if len(head) < 2 or struct.unpack(">H", head)[0] < 2:
            return None
        length = struct.unpack(">H", head)[0] - 2
        if code in _OTHER_FRAMES:
            return None
        if code not in _HUFFMAN_FRAMES:
            fp.seek(length, 1)
            continue
        segment = fp.read(length)
        if len(segment) < 6:
            return None
        _, height, width, count = struct.unpack(">BHHB", segment[:6])
        factors = [(b >> 4, b & 15) for b in segment[7 : 6 + 3 * count : 3]]
        if height == 0 or width == 0 or len(factors) != count or not all(h and v for h, v in factors):
            return None  # a height given later (DNL), or a damaged header: left to the decoder
        return width, height, factors


def missing_data(fp: BinaryIO, size: int) -> str | None:
    """Why this file, ``size`` bytes long, cannot hold the pixels it declares, or None when it may
    (or is no Huffman-coded JPEG). Leaves ``fp`` at its start."""
    try:
        frame = _frame(fp)
    finally:
        fp.seek(0)
    if frame is None:
        return None
    width, height, factors = frame
    h_max, v_max = max(h for h, _ in factors), max(v for _, v in factors)
    blocks = sum(
        math.ceil(math.ceil(width * h / h_max) / 8) * math.ceil(math.ceil(height * v / v_max) / 8) for h, v in factors
    )
    if size * 8 >= blocks:
        return None
    return (
        f"file is truncated (the image data ends early): it declares {width} x {height} pixels, "
        f"which its {size:,} bytes cannot hold"
    )


#: The shorter side a reduced decode keeps at least: the model's input size.
REDUCED_SIDE = 224


def reduce_jpeg(image: Image.Image, side: int) -> str:
    """Before loading: have a JPEG decoded at 1/2, 1/4 or 1/8 scale, both sides kept at least
    ``side``. What was done, in words ("" when nothing: not a JPEG, or too small to reduce)."""
    if image.format not in ("JPEG", "MPO"):
        return ""
    w, h = image.size
    image.draft(image.mode, (side, side))
    rw, rh = image.size
    if (rw, rh) == (w, h):
        return ""
    return f"reduced JPEG decode 1/{round(w / rw)} ({rw}x{rh} of {w}x{h}; fast precision)"
