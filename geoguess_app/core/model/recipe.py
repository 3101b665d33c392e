"""LocationNet's published input recipe, reproduced exactly and computed only where needed.

The published code did, with the scikit-image of its day::

    crop = img[yy:yy + s, xx:xx + s]                  # largest centred square
    resized = transform.resize(crop, (224, 224))      # bilinear, no anti-aliasing,
                                                      # mode 'constant', cval 0, clip on
    sample = np.asarray(resized) * 256                # [0, 1] -> [0, 256]
    sample = CHW(sample) - (123.68, 116.779, 103.939)

Bilinear resizing without anti-aliasing reads only 2 x 2 source pixels per output pixel: at most
448 rows and 448 columns of the photo. This module reads just those (for a decoded Pillow image,
without copying the photo into numpy at all) and interpolates them: no float copy of the photo is
ever made, and the result matches scikit-image to float rounding.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from ..photos.decode import Photo

SIZE = 224
MEAN_RGB = np.array([123.68, 116.779, 103.939], dtype=np.float64)

Indices = npt.NDArray[np.intp]
#: take(rows, cols): the pixels at those rows and columns of an image (any dtype, H x W [x C]).
Take = Callable[[Indices, Indices], npt.NDArray[Any]]


def _axis_samples(n: int) -> tuple[Indices, Indices, npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Source indices and weights along one axis of an n-pixel crop resized to SIZE.

    Output pixel i samples at p = (i + 0.5) * n / SIZE - 0.5 (pixel centres aligned, as
    scikit-image / scipy ``zoom(grid_mode=True)``). Neighbours outside the crop read as cval = 0,
    which is expressed by a zero weight.
    """
    p = (np.arange(SIZE, dtype=np.float64) + 0.5) * (n / SIZE) - 0.5
    i0 = np.floor(p).astype(np.int64)
    f = p - i0
    i1 = i0 + 1
    w0 = np.where((i0 >= 0) & (i0 < n), 1.0 - f, 0.0)
    w1 = np.where((i1 >= 0) & (i1 < n), f, 0.0)
    return np.clip(i0, 0, n - 1), np.clip(i1, 0, n - 1), w0, w1


def resize_crop(pixels: npt.NDArray[Any], white: float) -> npt.NDArray[np.float64]:
    """Centre-square crop of ``pixels`` (H x W [x C], any dtype) resized to 224 x 224, in [0, 1].

    Returns float64 H x W x 3 (grey is repeated to three channels).
    """
    h, w = pixels.shape[:2]
    return resize_crop_from(h, w, lambda rows, cols: pixels[np.ix_(rows, cols)], white)


def resize_crop_from(h: int, w: int, take: Take, white: float) -> npt.NDArray[np.float64]:
    """The same, for an image of h x w pixels read through ``take(rows, cols)``, which returns the
    pixels at those (sorted, distinct) rows and columns: only those are ever read."""
    s = min(h, w)
    yy, xx = (h - s) // 2, (w - s) // 2
    r0, r1, wr0, wr1 = _axis_samples(s)
    c0, c1, wc0, wc1 = _axis_samples(s)
    rows = np.unique(np.concatenate([r0, r1])) + yy
    cols = np.unique(np.concatenate([c0, c1])) + xx
    block = np.asarray(take(rows, cols), dtype=np.float64)
    if block.ndim == 2:
        block = block[:, :, None]
    r0, r1 = np.searchsorted(rows, r0 + yy), np.searchsorted(rows, r1 + yy)
    c0, c1 = np.searchsorted(cols, c0 + xx), np.searchsorted(cols, c1 + xx)

    def tap(ri: Indices, ci: Indices) -> npt.NDArray[np.float64]:
        taps: npt.NDArray[np.float64] = block[ri[:, None], ci[None, :]]  # numpy types advanced indexing as Any
        return taps

    wr0, wr1 = wr0[:, None, None], wr1[:, None, None]
    wc0, wc1 = wc0[None, :, None], wc1[None, :, None]
    out = wr0 * (wc0 * tap(r0, c0) + wc1 * tap(r0, c1)) + wr1 * (wc0 * tap(r1, c0) + wc1 * tap(r1, c1))
    out /= white
    if s < SIZE:  # enlarging: every pixel of the crop is in the block
        out = _clip_like_skimage(out, block, white)
    if out.shape[2] == 1:
        out = np.repeat(out, 3, axis=2)
    return out[:, :, :3]


def _clip_like_skimage(
    out: npt.NDArray[np.float64], crop: npt.NDArray[np.float64], white: float
) -> npt.NDArray[np.float64]:
    """scikit-image's ``clip=True``: clip to the input's range, widened to cval 0 only if the
    output itself spans 0. Matters only when enlarging (edge pixels blend with cval)."""
    lo = float(crop.min()) / white
    hi = float(crop.max()) / white
    if not (lo <= 0.0 <= hi) and out.min() <= 0.0 <= out.max():
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    return np.clip(out, lo, hi)


def to_tensor(resized: npt.NDArray[np.float64]) -> npt.NDArray[np.float32]:
    """[0, 1] 224 x 224 x 3 -> LocationNet input: x 256, minus the mean, 3 x 224 x 224 float32."""
    chw = (resized * 256.0 - MEAN_RGB).transpose(2, 0, 1)
    return np.ascontiguousarray(chw, dtype=np.float32)


def preprocess_pixels(pixels: npt.NDArray[Any], white: float = 255.0) -> npt.NDArray[np.float32]:
    """Display-oriented pixels -> the 3 x 224 x 224 float32 tensor LocationNet takes."""
    return to_tensor(resize_crop(pixels, white))


def preprocess_photo(photo: Photo) -> npt.NDArray[np.float32]:
    """A decoded ``photos.decode.Photo`` -> the tensor, reading only the pixels the recipe samples."""
    h, w = photo.oriented_shape
    return to_tensor(resize_crop_from(h, w, photo.take, photo.white))
