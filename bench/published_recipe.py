"""LocationNet's published inference code path, as literally as MXNet 1.9.1 allows.

Used by the parity tests and the benchmarks as the reference GeoGuess must match and beat.
The preprocessing is the published function; scikit-image's ``transform.resize`` is given the
defaults it had at the time (order 1, mode 'constant', cval 0, clip on, no anti-aliasing), because
today's defaults differ. The model is loaded and run with ``mx.model.FeedForward`` as published.
Only for tests and benchmarks: GeoGuess itself never imports scikit-image.
"""

from __future__ import annotations

import numpy as np
from skimage import io, transform

MEAN_RGB = np.array([123.68, 116.779, 103.939])


def crop_resize(img: np.ndarray) -> np.ndarray:
    """The published crop and resize of an H x W x 3 array: [0, 1] float64, 224 x 224 x 3."""
    short_edge = min(img.shape[:2])
    yy = int((img.shape[0] - short_edge) / 2)
    xx = int((img.shape[1] - short_edge) / 2)
    crop_img = img[yy : yy + short_edge, xx : xx + short_edge]
    return transform.resize(
        crop_img, (224, 224), order=1, mode="constant", cval=0, clip=True, anti_aliasing=False, preserve_range=False
    )


def preprocess_array(img: np.ndarray) -> np.ndarray:
    """The published PreprocessImage body on an already-decoded RGB array -> (1, 3, 224, 224)."""
    resized_img = crop_resize(img)
    sample = np.asarray(resized_img) * 256
    # swap axes to make image from (224, 224, 3) to (3, 224, 224)
    sample = np.swapaxes(sample, 0, 2)
    sample = np.swapaxes(sample, 1, 2)
    normed_img = sample - MEAN_RGB.reshape(3, 1, 1)
    # Published: normed_img.resize(1, 3, 224, 224). NumPy of its day returned a C-ordered
    # array from the subtraction; today's keeps the swapped layout, so copy to C order first.
    normed_img = np.ascontiguousarray(normed_img)
    normed_img.resize(1, 3, 224, 224)
    return normed_img


def preprocess_image(path: str) -> np.ndarray:
    """The published PreprocessImage(path): scikit-image decode, crop, resize, normalize."""
    return preprocess_array(io.imread(path))


def load_model(folder: str, ctx=None):
    """mx.model.FeedForward.load(prefix, 12), as published (call it on the MXNet thread).

    MXNet is imported plainly, with its default engine settings (not GeoGuess's), after the
    np.bool alias every user of MXNet 1.9.1 with NumPy >= 1.24 must restore."""
    if "bool" not in vars(np):
        np.bool = bool
    import mxnet as mx

    return mx.model.FeedForward.load(f"{folder}/RN101-5k500", 12, ctx=ctx or mx.cpu(), numpy_batch_size=1)


def predict(model, batch: np.ndarray) -> np.ndarray:
    """model.predict(batch) as published -> (N, classes) probabilities."""
    return model.predict(batch)
