"""Opening photos: every format Pillow and pillow-heif read, with a clear error for bad files.

A decoded photo is kept as Pillow gives it, in its stored orientation; ``pixels()`` returns a
zero-copy numpy view in display orientation (EXIF orientation applied by flipping and transposing
strides, never by copying the full-size image).

``open_photo(path, reduced=True)`` (the fast precision's decode, never the default) has libjpeg
decode a JPEG at 1/2, 1/4 or 1/8 of its size by DCT scaling (Pillow's ``draft``), keeping both
sides at least ``REDUCED_SIDE``: several times faster, but no longer the published recipe's pixels
(each is an average of a block, where the recipe samples single pixels); the photo's ``source``
says so.
"""

from __future__ import annotations

import os
import stat
import struct
import warnings
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image, UnidentifiedImageError

from ..errors import ImageError
from .camera_files import open_camera_file
from .exif import PhotoMeta, read_meta
from .formats import PHOTO, RAW_EXTENSIONS, VIDEO_EXTENSIONS, kind_of
from .jpeg_data import REDUCED_SIDE, missing_data, reduce_jpeg
from .regular_files import NotRegularFile, open_regular

try:  # HEIC / HEIF (iPhone and many Android phones)
    import pillow_heif

    pillow_heif.register_heif_opener()
except ImportError:  # pragma: no cover - pillow-heif is a declared dependency
    pillow_heif = None  # type: ignore[assignment]  # the usual optional-import idiom

#: Largest photo GeoGuess decodes (200 megapixels: medium-format cameras reach 150).
MAX_PIXELS = 200_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
# Pillow warns between MAX_IMAGE_PIXELS and twice that; open_photo() refuses those itself.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
# Pillow warns about damaged metadata it skips ("Corrupt EXIF data", "malformed MPO file"); the
# pixels still decode, and a damaged field is simply absent from what GeoGuess reports.
warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")

#: Extensions of the images Pillow (and pillow-heif) read.
IMAGE_EXTENSIONS = frozenset(
    ".jpg .jpeg .jpe .jfif .png .tif .tiff .webp .bmp .dib .gif .heic .heif .hif .avif .mpo".split()
)
#: Extensions offered when a folder is scanned: images, camera RAW files and videos (formats.py).
#: Files named otherwise are still read if given.
PHOTO_EXTENSIONS = IMAGE_EXTENSIONS | RAW_EXTENSIONS | VIDEO_EXTENSIONS

_DECODE_ERRORS = (
    OSError,
    ValueError,
    EOFError,
    SyntaxError,
    struct.error,
    zlib.error,
    IndexError,
    TypeError,
    KeyError,
    ZeroDivisionError,
    RuntimeError,
)


@dataclass
class Photo:
    """A decoded photo: the Pillow image in stored orientation plus its metadata. A RAW file's is
    the image it was predicted from (``source`` says which); a video's is its middle frame, and
    ``frames`` holds every frame it is predicted from."""

    path: Path
    image: Image.Image
    meta: PhotoMeta
    _array: tuple[npt.NDArray[Any], float] | None = field(default=None, repr=False)
    source: str = ""  # empty for a photo read as it is; else "embedded preview 6000x4000", ...
    frames: list[Image.Image] = field(default_factory=list, repr=False)
    kind: str = PHOTO
    stored_size: tuple[int, int] | None = None  # (width, height) of the file's image when decoded reduced

    def frame_photos(self) -> list[Photo]:
        """Each frame of a video as a photo of its own (a photo: itself)."""
        return [Photo(self.path, f, self.meta, kind=self.kind) for f in self.frames] or [self]

    def close(self) -> None:
        for image in {id(i): i for i in [self.image, *self.frames]}.values():
            image.close()

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) as the photo is displayed (after EXIF orientation)."""
        w, h = self.image.size
        return (h, w) if self.meta.orientation in (5, 6, 7, 8) else (w, h)

    @property
    def full_size(self) -> tuple[int, int]:
        """(width, height) of the photo in its file, as displayed (``size``, unless decoded reduced)."""
        if self.stored_size is None:
            return self.size
        w, h = self.stored_size
        return (h, w) if self.meta.orientation in (5, 6, 7, 8) else (w, h)

    @property
    def oriented_shape(self) -> tuple[int, int]:
        """(rows, columns) as displayed."""
        w, h = self.size
        return h, w

    @property
    def white(self) -> float:
        """The value of full white in this photo's pixels (255, 65535, ...)."""
        if self.image.mode in _DIRECT_MODES:
            return _DIRECT_MODES[self.image.mode]
        return self._converted()[1]

    def pixels(self) -> tuple[npt.NDArray[Any], float]:
        """Display-oriented pixels (H x W x 3 view) and the value of full white (255 or 65535)."""
        array, white = self._converted()
        return orient_view(array, self.meta.orientation), white

    def preview(self, max_side: int) -> npt.NDArray[np.uint8]:
        """An upright 8-bit RGB copy for display, at most ``max_side`` pixels on its longer side."""
        image = self.image
        if image.mode not in ("RGB", "L"):
            array, white = self._converted()
            if white != 255.0:
                array = (array.astype(np.float32) * (255.0 / white)).round().astype(np.uint8)
            image = Image.fromarray(array)
        w, h = image.size
        scale = min(1.0, max_side / max(w, h))
        if scale < 1.0:
            image = image.resize(
                (max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.BILINEAR, reducing_gap=2.0
            )
        small = np.asarray(image.convert("RGB"))
        return np.ascontiguousarray(orient_view(small, self.meta.orientation))

    def take(self, rows: npt.NDArray[np.intp], cols: npt.NDArray[np.intp]) -> npt.NDArray[Any]:
        """The display-oriented pixels at ``rows`` x ``cols`` (distinct, sorted indices).

        For a large photo in a common mode only those rows are copied out of Pillow, never the
        whole photo: the flips and transposes of the EXIF orientation are applied to the indices.
        """
        o = self.meta.orientation
        swap = o in (5, 6, 7, 8)
        flip_rows, flip_cols = _ORIENTATION_FLIPS[o]
        height, width = self.oriented_shape
        src_r = height - 1 - rows if flip_rows else rows
        src_c = width - 1 - cols if flip_cols else cols
        stored_rows, stored_cols = (src_c, src_r) if swap else (src_r, src_c)
        block = self._stored_block(stored_rows, stored_cols)
        return block.swapaxes(0, 1) if swap else block

    def _stored_block(self, rows: npt.NDArray[np.intp], cols: npt.NDArray[np.intp]) -> npt.NDArray[Any]:
        image = self.image
        if image.mode in _DIRECT_MODES and len(rows) * 4 < image.size[1]:
            lo, hi = int(cols.min()), int(cols.max()) + 1
            order = np.argsort(rows)
            ordered = rows[order]
            # Bilinear taps come in pairs of adjacent rows: copy each run of rows in one crop.
            breaks = np.flatnonzero(np.diff(ordered) != 1) + 1
            bands = [
                np.asarray(image.crop((lo, int(run[0]), hi, int(run[-1]) + 1))) for run in np.split(ordered, breaks)
            ]
            block: npt.NDArray[Any] = np.concatenate(bands)[:, cols - lo]
            return block[np.argsort(order)]  # back to the order asked for
        taken: npt.NDArray[Any] = self._converted()[0][np.ix_(rows, cols)]  # numpy types np.ix_ indexing as Any
        return taken

    def _converted(self) -> tuple[npt.NDArray[Any], float]:
        if self._array is None:
            self._array = _rgb_array(self.image)
        return self._array


# Pillow modes whose pixels are used as they are, with the value of full white.
_DIRECT_MODES = {"RGB": 255.0, "L": 255.0, "I;16": 65535.0, "I;16B": 65535.0, "I;16L": 65535.0, "I;16N": 65535.0}

# EXIF orientation -> (rows flipped, columns flipped) in display orientation; 5-8 also transpose.
# The same operations orient_view() applies to an array.
_ORIENTATION_FLIPS = {
    1: (False, False),
    2: (False, True),
    3: (True, True),
    4: (True, False),
    5: (False, False),
    6: (False, True),
    7: (True, True),
    8: (True, False),
}


def is_photo_name(path: str | Path) -> bool:
    return Path(path).suffix.lower() in PHOTO_EXTENSIONS


def open_photo(path: str | Path, reduced: bool = False) -> Photo:
    """Open and fully decode a photo; raise ImageError with a message a person understands. Only a
    regular file is opened (a FIFO or a device named like a photo is refused, never waited on).
    ``reduced``: JPEGs (and RAW files' JPEG previews) decoded at a reduced scale (the fast decode)."""
    path = Path(path)
    try:
        st = os.stat(path)
        if stat.S_ISDIR(st.st_mode):
            raise ImageError("is a folder, not a photo")
        if stat.S_ISREG(st.st_mode) and st.st_size == 0:
            raise ImageError("empty file (0 bytes)")
        fp = open_regular(path)
    except FileNotFoundError:
        raise ImageError("file not found") from None
    except PermissionError:
        raise ImageError("permission denied") from None
    except NotRegularFile as e:
        raise ImageError(str(e)) from None
    except OSError as e:
        raise ImageError(f"cannot read file: {e.strerror or e}") from None
    try:
        kind = kind_of(path, fp.read(16))
        fp.seek(0)
    except OSError as e:
        fp.close()
        raise ImageError(f"cannot read file: {e.strerror or e}") from None
    if kind != PHOTO:  # a camera RAW file or a video, by its content
        fp.close()
        opened = open_camera_file(path, kind, reduced)
        return Photo(path, opened.image, opened.meta, source=opened.source, frames=opened.frames, kind=kind)
    try:
        truncated = missing_data(fp, st.st_size)
        if truncated:
            raise ImageError(truncated)
        image = Image.open(fp)
        # Pillow closes it as a file it opened itself: after loading a single frame, or on close()
        image._exclusive_fp = True
    except BaseException as e:
        fp.close()
        error = _open_error(e)
        if error is e:
            raise
        raise error from None
    try:
        w, h = image.size
        if w <= 0 or h <= 0:
            raise ImageError("image has no pixels")
        if w * h > MAX_PIXELS:
            raise ImageError(
                f"image is too large to decode safely ({w}x{h} = {w * h / 1e6:.0f} megapixels; "
                f"the limit is {MAX_PIXELS // 1_000_000})"
            )
        try:
            image.seek(0)  # first frame of GIF / MPO / multi-page TIFF
            note = reduce_jpeg(image, REDUCED_SIDE) if reduced else ""
            image.load()
        except MemoryError:
            raise ImageError("not enough memory to decode this image") from None
        except _DECODE_ERRORS as e:
            raise ImageError(_decode_message(e)) from None
        # After decoding: some decoders (libtiff, libheif) apply the orientation themselves and
        # then drop the tag, so only what is left afterwards is still to be applied.
        if note:
            return Photo(path=path, image=image, meta=read_meta(image), source=note, stored_size=(w, h))
        return Photo(path=path, image=image, meta=read_meta(image))
    except BaseException:
        image.close()
        raise


def _open_error(e: BaseException) -> BaseException:
    """What a failure of Image.open means for a person (anything else is raised as it is)."""
    if isinstance(e, ImageError):
        return e
    if isinstance(e, UnidentifiedImageError):
        return ImageError("not an image GeoGuess can read (unknown or damaged format)")
    if isinstance(e, Image.DecompressionBombError):
        return ImageError(f"image is too large to decode safely (over {MAX_PIXELS // 1_000_000} megapixels)")
    if isinstance(e, _DECODE_ERRORS):
        return ImageError(f"damaged image header: {_describe(e)}")
    return e


def _decode_message(e: BaseException) -> str:
    text = str(e)
    if "truncated" in text.lower() or isinstance(e, EOFError):
        return "file is truncated (the image data ends early)"
    return f"image data is damaged: {_describe(e)}"


def _describe(e: BaseException) -> str:
    text = str(e).strip()
    if len(text) > 120:
        text = text[:117] + "..."
    return text or type(e).__name__


def _rgb_array(image: Image.Image) -> tuple[npt.NDArray[Any], float]:
    """Pixels in stored orientation as an H x W x 3 (or H x W for grey) array, and full white."""
    mode = image.mode
    if mode in ("RGB", "L"):
        return np.asarray(image), 255.0
    if mode.startswith("I;16"):
        return np.asarray(image), 65535.0
    if mode in ("I", "F"):
        array = np.asarray(image)
        top = float(array.max()) if array.size else 0.0
        white = 255.0 if top <= 255 else 65535.0 if top <= 65535 else top
        if mode == "F" and top <= 1.0:
            white = 1.0
        return np.clip(array, 0, white), white
    if mode in ("RGBA", "LA", "La", "RGBa", "PA") or (mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(background, rgba).convert("RGB")), 255.0
    return np.asarray(image.convert("RGB")), 255.0  # P, 1, CMYK, YCbCr, LAB, HSV, ...


def orient_view(array: npt.NDArray[Any], orientation: int) -> npt.NDArray[Any]:
    """Apply an EXIF orientation (1-8) as a numpy view: flips and transposes, no copy."""
    axes = (1, 0, 2) if array.ndim == 3 else (1, 0)
    if orientation == 2:
        return array[:, ::-1]
    if orientation == 3:
        return array[::-1, ::-1]
    if orientation == 4:
        return array[::-1]
    if orientation == 5:
        return array.transpose(axes)
    if orientation == 6:
        return array.transpose(axes)[:, ::-1]
    if orientation == 7:
        return array.transpose(axes)[::-1, ::-1]
    if orientation == 8:
        return array.transpose(axes)[::-1]
    return array


def list_photos(paths: list[str | Path], recursive: bool = True) -> list[Path]:
    """Expand files and folders into a sorted, duplicate-free list of photo paths.

    Files named explicitly are kept whatever their extension (the reader decides); in folders
    only files with a photo extension are taken. Hidden files and folders are skipped, and
    symbolic-link loops are not followed twice.
    """
    out: list[Path] = []
    seen: set[Path] = set()
    visited_dirs: set[tuple[int, int]] = set()

    def add(p: Path) -> None:
        key = p.absolute()
        if key not in seen:
            seen.add(key)
            out.append(p)

    for given in paths:
        p = Path(given)
        if p.is_dir():
            for root, dirs, files in os.walk(p, followlinks=True):
                try:
                    st = os.stat(root)
                except OSError:
                    dirs[:] = []
                    continue
                if (st.st_dev, st.st_ino) in visited_dirs:
                    dirs[:] = []
                    continue
                visited_dirs.add((st.st_dev, st.st_ino))
                dirs[:] = sorted(d for d in dirs if not d.startswith(".")) if recursive else []
                for name in sorted(files):
                    if not name.startswith(".") and is_photo_name(name):
                        add(Path(root) / name)
        else:
            add(p)  # missing files are reported by open_photo, not dropped silently
    return out
