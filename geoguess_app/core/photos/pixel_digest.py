"""A fingerprint of a photo's image data, to prove a metadata write left the pixels alone.

For JPEG, PNG and WebP the fingerprint covers the bytes that decoding reads (JPEG tables, frame
and entropy-coded scans plus any data after the end of the image, as in MPO files; PNG image
chunks; WebP bitstream chunks) and skips metadata containers (JPEG APPn and COM segments, PNG
text/eXIf/iCCP/tIME chunks, WebP EXIF/XMP/ICCP/VP8X chunks): equal fingerprints mean byte-identical
image data, hence identical pixels, without decoding. For QuickTime-based videos (MOV, MP4) it
covers the media data (every ``mdat`` box's payload, in order): a metadata write may move boxes
and rewrite the offsets that point into the media, never the media itself. For a camera RAW file
written in-file on request it covers the sensor data as LibRaw unpacks it (every photosite, with
the frame's sizes and the colour pattern) and the embedded preview's image data (as for a JPEG): a
metadata write may move them in the file, never change them. Other formats are decoded and their
pixels hashed.
"""

from __future__ import annotations

import hashlib
import io
import struct
from pathlib import Path

import numpy as np
from PIL import Image

_JPEG_METADATA = set(range(0xE0, 0xF0)) | {0xFE}  # APP0-APP15, COM
_PNG_METADATA = {b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"iCCP", b"tIME"}
_WEBP_METADATA = {b"EXIF", b"XMP ", b"ICCP", b"VP8X"}


def _quicktime(data: bytes, h: hashlib._Hash) -> None:
    at, found = 0, False
    while at + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[at : at + 8])
        header = 8
        if size == 1:  # a 64-bit size follows
            if at + 16 > len(data):
                raise NotUnderstood("a box is cut off")
            size, header = struct.unpack(">Q", data[at + 8 : at + 16])[0], 16
        elif size == 0:  # to the end of the file
            size = len(data) - at
        if size < header or at + size > len(data):
            raise NotUnderstood("a box runs past the end of the file")
        if kind == b"mdat":
            h.update(data[at + header : at + size])
            found = True
        at += size
    if not found:
        raise NotUnderstood("no media data")


class NotUnderstood(ValueError):
    """The file's structure is not what its format says."""


def image_data_digest(source: bytes | str | Path, fmt: str) -> str:
    """The fingerprint of a file's image data; ``source`` is the file or its bytes."""
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    h = hashlib.sha1(usedforsecurity=False)  # detects accidental change; hardware-accelerated
    if fmt in ("JPEG", "MPO"):
        _jpeg(data, h)
    elif fmt == "PNG":
        _png(data, h)
    elif fmt == "WEBP":
        _webp(data, h)
    elif fmt == "QUICKTIME":
        _quicktime(data, h)
    elif fmt == "RAW":
        _raw(data, h)
    else:
        _decoded(data, h)
    return h.hexdigest()


def _jpeg(data: bytes, h: hashlib._Hash) -> None:
    if data[:2] != b"\xff\xd8":
        raise NotUnderstood("no JPEG start marker")
    i, n = 2, len(data)
    while i < n:
        if data[i] != 0xFF:
            raise NotUnderstood(f"JPEG marker expected at byte {i}")
        marker = data[i + 1] if i + 1 < n else 0xD9
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker == 0xD9:  # end of image: what follows (MPO images, maker trailers) counts too
            h.update(data[i:])
            return
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            h.update(data[i : i + 2])
            i += 2
            continue
        if i + 4 > n:
            raise NotUnderstood("JPEG segment cut short")
        end = i + 2 + struct.unpack(">H", data[i + 2 : i + 4])[0]
        if marker == 0xDA:  # start of scan: the entropy-coded data runs to the next real marker
            end = _scan_end(data, end)
        if marker not in _JPEG_METADATA:
            h.update(data[i:end])
        i = end
    h.update(b"no-EOI")


def _scan_end(data: bytes, i: int) -> int:
    while True:
        i = data.find(b"\xff", i)
        if i < 0 or i + 1 >= len(data):
            return len(data)
        nxt = data[i + 1]
        if nxt == 0x00 or 0xD0 <= nxt <= 0xD7 or nxt == 0xFF:
            i += 1 if nxt == 0xFF else 2
            continue
        return i


def _png(data: bytes, h: hashlib._Hash) -> None:
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise NotUnderstood("no PNG signature")
    i = 8
    while i + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[i : i + 8])
        end = i + 12 + length
        if kind not in _PNG_METADATA:
            h.update(data[i:end])
        i = end
        if kind == b"IEND":
            h.update(data[i:])
            return


def _webp(data: bytes, h: hashlib._Hash) -> None:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise NotUnderstood("no WebP RIFF header")
    i = 12
    while i + 8 <= len(data):
        kind, length = struct.unpack("<4sI", data[i : i + 8])
        end = i + 8 + length + (length & 1)
        if kind not in _WEBP_METADATA:
            h.update(data[i:end])
        i = end


def _raw(data: bytes, h: hashlib._Hash) -> None:
    import rawpy

    from .raw import too_small_for_sensor

    with rawpy.imread(io.BytesIO(data)) as raw:
        sizes = raw.sizes
        if too_small_for_sensor(len(data), sizes):
            raise NotUnderstood(f"the file is too small to hold its {sizes.raw_width}x{sizes.raw_height} sensor data")
        h.update(f"{sizes.raw_width}x{sizes.raw_height} {raw.raw_pattern!r} {raw.raw_image.dtype}".encode())
        h.update(np.ascontiguousarray(raw.raw_image).tobytes())
        try:
            thumb = raw.extract_thumb()
        except rawpy.LibRawNoThumbnailError:
            h.update(b"no preview")
        else:
            if thumb.format == rawpy.ThumbFormat.JPEG:  # (LibRaw adds an EXIF segment made from the file's tags)
                _jpeg(bytes(thumb.data), h)
            else:
                h.update(np.asarray(thumb.data).tobytes())


def _decoded(data: bytes, h: hashlib._Hash) -> None:
    with Image.open(io.BytesIO(data)) as image:
        frames = getattr(image, "n_frames", 1)
        for index in range(frames):
            image.seek(index)
            image.load()
            h.update(f"{image.mode} {image.size}".encode())
            h.update(np.asarray(image).tobytes())
