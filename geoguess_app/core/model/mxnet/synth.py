"""Untrained stand-in models: the real LocationNet architecture with seeded random weights.

The real weights cannot always be had (no internet, tests, CI). ``synthesize()`` writes a model
folder that loads and runs exactly like the real one, and whose answers depend on the photo:

1. Random weights (He-normal convolutions, unit BatchNorm scale, small classifier).
2. BatchNorm statistics calibrated on varied generated images: one forward pass in training mode,
   where every BatchNorm layer normalizes with the batch's own statistics, records the mean and
   variance of each BatchNorm's input; those become the moving statistics used in inference.
3. The classifier centred and scaled per class over the same images, then a common temperature
   chosen so the top probability is typically about 0.2: not one-hot, not flat, and the winner
   changes from photo to photo.

The folder carries ``GEOGUESS-UNTRAINED.json``; every result made with it says it is untrained.
The "tiny" variant (a few layers, a few dozen real cells) is for fast tests.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np

from ...errors import ModelError
from ...geo.cells import CellGrid
from ..files import GRIDS_FILE, OFFICIAL_FILES, PARAMS_FILE, SYMBOL_FILE, read_marker, write_marker
from ..recipe import SIZE, preprocess_pixels
from ..store import md5_of
from .importer import mxnet
from .thread import on_mxnet_thread

TINY_CELLS = 48
CALIBRATION_IMAGES = 32
TARGET_TOP1 = 0.2


def calibration_images(count: int, seed: int, size: int = SIZE) -> np.ndarray:
    """``count`` varied, seeded RGB images with the statistics of photos.

    Each is coloured noise with a natural-image power spectrum (1/f^beta, beta random), a random
    colour mix, a horizon between two tones and a few hard-edged shapes, at random brightness and
    contrast: varied enough that a random network's features spread the way photos' do.
    """
    rng = np.random.default_rng(seed)
    fy = np.fft.fftfreq(size)[:, None]
    fx = np.fft.rfftfreq(size)[None, :]
    radius = np.sqrt(fx**2 + fy**2)
    radius[0, 0] = 1.0 / size
    yy, xx = np.mgrid[0:size, 0:size] / size
    images = []
    for _ in range(count):
        beta = rng.uniform(0.8, 1.6)
        spectrum = rng.standard_normal((3, *radius.shape)) + 1j * rng.standard_normal((3, *radius.shape))
        planes = np.fft.irfft2(spectrum / radius**beta, s=(size, size))
        planes = (planes - planes.mean(axis=(1, 2), keepdims=True)) / planes.std(axis=(1, 2), keepdims=True)
        colour = rng.normal(0, 1, (3, 3)) + np.eye(3) * rng.uniform(0, 2)
        field = np.einsum("ij,jhw->hwi", colour, planes) * rng.uniform(15, 60)
        horizon = rng.uniform(0.2, 0.8)
        tilt = rng.uniform(-0.3, 0.3)
        below = (yy > horizon + tilt * (xx - 0.5))[..., None]
        field += np.where(below, rng.uniform(0, 255, 3), rng.uniform(0, 255, 3))
        for _ in range(int(rng.integers(0, 6))):  # hard-edged shapes: buildings, signs, people
            y0, x0 = rng.uniform(0, 0.9, 2)
            hh, ww = rng.uniform(0.05, 0.5, 2)
            inside = (yy >= y0) & (yy < y0 + hh) & (xx >= x0) & (xx < x0 + ww)
            field[inside] = field[inside] * 0.3 + rng.uniform(0, 255, 3)
        images.append(np.clip(field, 0, 255).astype(np.uint8))
    return np.stack(images)


def _tiny_symbol(num_classes: int):
    mx = mxnet()
    s = mx.sym
    data = s.Variable("data")
    x = s.BatchNorm(data, fix_gamma=True, eps=2e-5, name="bn_data")
    x = s.Convolution(x, num_filter=16, kernel=(7, 7), stride=(4, 4), pad=(3, 3), no_bias=True, name="conv0")
    x = s.Activation(s.BatchNorm(x, fix_gamma=False, eps=2e-5, name="bn0"), act_type="relu", name="relu0")
    x = s.Pooling(x, kernel=(3, 3), stride=(2, 2), pad=(1, 1), pool_type="max", name="pool0")
    x = s.Convolution(x, num_filter=32, kernel=(3, 3), stride=(2, 2), pad=(1, 1), no_bias=True, name="conv1")
    x = s.Activation(s.BatchNorm(x, fix_gamma=False, eps=2e-5, name="bn1"), act_type="relu", name="relu1")
    x = s.Pooling(x, kernel=(7, 7), global_pool=True, pool_type="avg", name="pool1")
    x = s.FullyConnected(s.Flatten(x, name="flatten0"), num_hidden=num_classes, name="fc1")
    return s.SoftmaxOutput(x, name="softmax")


def _random_params(symbol, rng: np.random.Generator) -> tuple[dict, dict]:
    arg_shapes, _, aux_shapes = symbol.infer_shape(data=(1, 3, SIZE, SIZE))
    args, aux = {}, {}
    for name, shape in zip(symbol.list_arguments(), arg_shapes):
        if name == "data" or name.endswith("_label"):
            continue
        if name.endswith("_gamma"):
            value = np.ones(shape, np.float32)
        elif name.endswith(("_beta", "_bias")):
            value = np.zeros(shape, np.float32)
        else:  # convolution / fully connected weights, He-normal
            fan_in = int(np.prod(shape[1:]))
            value = rng.standard_normal(shape, dtype=np.float32) * np.float32(np.sqrt(2.0 / fan_in))
        args[name] = value
    for name, shape in zip(symbol.list_auxiliary_states(), aux_shapes):
        args_like = np.ones(shape, np.float32) if name.endswith("_var") else np.zeros(shape, np.float32)
        aux[name] = args_like
    return args, aux


def _batchnorm_inputs(symbol) -> dict[str, str]:
    """BatchNorm layer name -> the internal output name that feeds it."""
    import json

    graph = json.loads(symbol.tojson())
    nodes = graph["nodes"]
    feeds = {}
    for node in nodes:
        if node["op"] == "BatchNorm":
            src = nodes[node["inputs"][0][0]]
            feeds[node["name"]] = src["name"] if src["op"] == "null" else src["name"] + "_output"
    return feeds


def _calibrate_batchnorm(symbol, args: dict, aux: dict, batch: np.ndarray) -> None:
    """Set every BatchNorm's moving mean/var to the statistics of its input in a training pass."""
    mx = mxnet()
    internals = symbol.get_internals()
    feeds = _batchnorm_inputs(symbol)
    outputs = []
    for bn in feeds.values():
        x = internals[bn]
        outputs += [mx.sym.mean(x, axis=(0, 2, 3)), mx.sym.mean(mx.sym.square(x), axis=(0, 2, 3))]
    probe = mx.sym.Group(outputs)
    nd_args = {k: mx.nd.array(v) for k, v in args.items() if k in probe.list_arguments()}
    nd_args["data"] = mx.nd.array(batch)
    nd_aux = {k: mx.nd.array(v) for k, v in aux.items() if k in probe.list_auxiliary_states()}
    executor = probe.bind(mx.cpu(), args=nd_args, aux_states=nd_aux, grad_req="null")
    executor.forward(is_train=True)
    results = [o.asnumpy().astype(np.float64) for o in executor.outputs]
    for i, bn in enumerate(feeds):
        mean, mean_sq = results[2 * i], results[2 * i + 1]
        aux[bn + "_moving_mean"] = mean.astype(np.float32)
        aux[bn + "_moving_var"] = np.maximum(mean_sq - mean**2, 1e-6).astype(np.float32)


def _features(symbol, args: dict, aux: dict, batch: np.ndarray) -> np.ndarray:
    """The classifier's input (flatten0) for a batch, in inference mode."""
    mx = mxnet()
    feat = symbol.get_internals()["flatten0_output"]
    nd_args = {k: mx.nd.array(v) for k, v in args.items() if k in feat.list_arguments()}
    nd_args["data"] = mx.nd.array(batch[:1])
    nd_aux = {k: mx.nd.array(v) for k, v in aux.items()}
    executor = feat.bind(mx.cpu(), args=nd_args, aux_states=nd_aux, grad_req="null")
    out = []
    for image in batch:
        executor.forward(is_train=False, data=mx.nd.array(image[None]))
        out.append(executor.outputs[0].asnumpy()[0])
    return np.stack(out).astype(np.float64)


def _shape_classifier(args: dict, features: np.ndarray) -> None:
    """Centre and scale each class's logit over the calibration set, then fix the temperature."""
    weight = args["fc1_weight"].astype(np.float64)
    logits = features @ weight.T + args["fc1_bias"]
    mean, std = logits.mean(axis=0), logits.std(axis=0) + 1e-12
    unit = (logits - mean) / std

    def median_top1(scale: float) -> float:
        z = unit * scale
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        return float(np.median(p.max(axis=1) / p.sum(axis=1)))

    lo, hi = 0.1, 50.0
    for _ in range(50):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if median_top1(mid) < TARGET_TOP1 else (lo, mid)
    scale = (lo + hi) / 2
    args["fc1_weight"] = (weight * (scale / std)[:, None]).astype(np.float32)
    args["fc1_bias"] = (-mean * scale / std).astype(np.float32)


@on_mxnet_thread
def synthesize(out_dir: str | Path, source: str | Path, tiny: bool = False, seed: int = 0) -> Path:
    """Write an untrained stand-in model folder to ``out_dir``.

    ``source`` holds the official ``RN101-5k500-symbol.json`` and ``grids.txt`` (checked against
    their published md5 sums): the full variant uses both as they are; the tiny one takes real cell
    tokens from grids.txt.
    """
    mx = mxnet()
    out_dir, source = Path(out_dir), Path(source)
    for name in (SYMBOL_FILE, GRIDS_FILE) if not tiny else (GRIDS_FILE,):
        path = source / name
        if not path.is_file():
            raise ModelError(f"{path} not found: synth needs the official {name} (see 'geoguess model synth --help')")
        if md5_of(path) != OFFICIAL_FILES[name].md5:
            raise ModelError(f"{path} is not the official {name} (its md5 sum differs from the published one)")
    if out_dir.exists() and any(out_dir.iterdir()):
        if (out_dir / PARAMS_FILE).exists() and read_marker(out_dir) is None:
            raise ModelError(f"{out_dir} holds a real model; refusing to overwrite it")
        raise ModelError(f"{out_dir} is not empty; choose a new folder")
    rng = np.random.default_rng(seed)
    grid_lines = (source / GRIDS_FILE).read_text(encoding="ascii").splitlines()
    if tiny:
        step = len(grid_lines) // TINY_CELLS
        grid_lines = grid_lines[::step][:TINY_CELLS]
        symbol = _tiny_symbol(len(grid_lines))
    else:
        symbol = mx.sym.load(str(source / SYMBOL_FILE))
    CellGrid.parse("\n".join(grid_lines))  # the cells must be valid before anything is written
    args, aux = _random_params(symbol, rng)
    images = calibration_images(CALIBRATION_IMAGES, seed)
    batch = np.stack([preprocess_pixels(img) for img in images])
    _calibrate_batchnorm(symbol, args, aux, batch)
    _shape_classifier(args, _features(symbol, args, aux, batch))

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".synth-", dir=out_dir.parent))
    try:
        write_marker(staging, "tiny" if tiny else "full", seed)
        if tiny:
            symbol.save(str(staging / SYMBOL_FILE))
        else:
            shutil.copyfile(source / SYMBOL_FILE, staging / SYMBOL_FILE)
        (staging / GRIDS_FILE).write_text("\n".join(grid_lines) + "\n", encoding="ascii")
        params = {"arg:" + k: mx.nd.array(v) for k, v in args.items()}
        params.update({"aux:" + k: mx.nd.array(v) for k, v in aux.items()})
        mx.nd.save(str(staging / PARAMS_FILE), params)
        if out_dir.exists():
            out_dir.rmdir()  # empty, checked above
        staging.rename(out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out_dir
