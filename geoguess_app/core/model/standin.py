"""Untrained stand-in models: the real LocationNet architecture with seeded random weights.

The real weights cannot always be had (no internet, tests, CI). ``synthesize()`` writes a model
folder that loads and runs exactly like the real one, and whose answers depend on the photo:

1. Random weights (He-normal convolutions, unit BatchNorm scale, small classifier), of the shapes
   the symbol asks for.
2. BatchNorm statistics calibrated on varied generated images: one forward pass in training mode,
   where every BatchNorm layer normalizes with the batch's own statistics, records the mean and
   variance of each BatchNorm's input; those become the moving statistics used in inference.
3. The classifier centred and scaled per class over the same images, then a common temperature
   chosen so the top probability is typically about 0.2: not one-hot, not flat, and the winner
   changes from photo to photo.

The folder carries ``GEOGUESS-UNTRAINED.json``; every result made with it says it is untrained.
The "tiny" variant (a few layers, a few dozen real cells) is for fast tests.

No MXNet is needed: the weights are written in MXNet's own file format with NumPy, and the passes
run on ONNX Runtime over the graph GeoGuess makes of the symbol (``onnx.convert``).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import ModelError
from ..geo.cells import CellGrid
from .files import GRIDS_FILE, OFFICIAL_FILES, PARAMS_FILE, SYMBOL_FILE, read_marker, write_marker
from .onnx.convert import INPUT, build_graph
from .params import write_params
from .recipe import SIZE, preprocess_pixels
from .store import md5_of
from .symbol import parameter_shapes, read_symbol, tiny_symbol

TINY_CELLS = 48
CALIBRATION_IMAGES = 32
TARGET_TOP1 = 0.2


def calibration_images(count: int, seed: int, size: int = SIZE) -> npt.NDArray[Any]:
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


def _random_params(symbol: dict[str, Any], rng: np.random.Generator) -> dict[str, npt.NDArray[np.float32]]:
    params = {}
    for name, shape in parameter_shapes(symbol, SIZE).items():
        if name.endswith("_gamma") or name.endswith("_var"):
            value = np.ones(shape, np.float32)
        elif name.endswith(("_beta", "_bias", "_mean")):
            value = np.zeros(shape, np.float32)
        else:  # convolution / fully connected weights, He-normal
            fan_in = int(np.prod(shape[1:]))
            value = rng.standard_normal(shape, dtype=np.float32) * np.float32(np.sqrt(2.0 / fan_in))
        params[name] = value
    return params


def _run(model: Any, batches: list[npt.NDArray[Any]], outputs: list[str]) -> list[list[npt.NDArray[Any]]]:
    """The ``outputs`` of the graph for each batch, from one ONNX Runtime session."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.use_deterministic_compute = True  # the same seed makes the same file
    session = onnxruntime.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return [[np.asarray(o) for o in session.run(outputs, {INPUT: b.astype(np.float32)})] for b in batches]


def _calibrate_batchnorm(symbol: dict[str, Any], params: dict[str, Any], batch: npt.NDArray[Any]) -> None:
    """Set every BatchNorm's moving mean/var to the statistics of its input in a training pass."""
    layers = [n["name"] for n in symbol["nodes"] if n["op"] == "BatchNorm"]
    wanted = [f"{name}.{stat}" for name in layers for stat in ("mean", "var")]
    results = _run(build_graph(symbol, params, batch_statistics=True), [batch], wanted)[0]
    for i, name in enumerate(layers):
        params[f"aux:{name}_moving_mean"] = results[2 * i].reshape(-1).astype(np.float32)
        params[f"aux:{name}_moving_var"] = np.maximum(results[2 * i + 1].reshape(-1), 1e-6).astype(np.float32)


def _classifier(symbol: dict[str, Any]) -> tuple[str, str]:
    """The last FullyConnected layer's name and the node that feeds it."""
    nodes = symbol["nodes"]
    fc = next(n for n in reversed(nodes) if n["op"] == "FullyConnected")
    return fc["name"], nodes[fc["inputs"][0][0]]["name"]


def _features(symbol: dict[str, Any], params: dict[str, Any], batch: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """The classifier's input for a batch, in inference mode."""
    feed = _classifier(symbol)[1]
    model = build_graph(symbol, params, also=[feed])
    chunks = [out[0] for out in _run(model, [batch[i : i + 8] for i in range(0, len(batch), 8)], [feed])]
    features: npt.NDArray[Any] = np.concatenate(chunks).reshape(len(batch), -1).astype(np.float64)
    return features


def _shape_classifier(symbol: dict[str, Any], params: dict[str, Any], features: npt.NDArray[Any]) -> None:
    """Centre and scale each class's logit over the calibration set, then fix the temperature."""
    fc = _classifier(symbol)[0]
    weight = params[f"arg:{fc}_weight"].astype(np.float64)
    logits = features @ weight.T + params[f"arg:{fc}_bias"]
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
    params[f"arg:{fc}_weight"] = (weight * (scale / std)[:, None]).astype(np.float32)
    params[f"arg:{fc}_bias"] = (-mean * scale / std).astype(np.float32)


#: Where synth's reference files come from, and how to give them.
SYNTH_SOURCE = (
    "they are published with LocationNet, and 'geoguess model download' installs them in the model folder; "
    "give the folder that holds them with --source DIR"
)


def reference_files(tiny: bool = False) -> tuple[str, ...]:
    """The official files a stand-in is made from: the symbol file and grids.txt (the tiny one:
    grids.txt only)."""
    return (GRIDS_FILE,) if tiny else (SYMBOL_FILE, GRIDS_FILE)


def synthesize(out_dir: str | Path, source: str | Path, tiny: bool = False, seed: int = 0) -> Path:
    """Write an untrained stand-in model folder to ``out_dir``.

    ``source`` holds the official ``RN101-5k500-symbol.json`` and ``grids.txt`` (checked against
    their published md5 sums): the full variant uses both as they are; the tiny one takes real cell
    tokens from grids.txt.
    """
    out_dir, source = Path(out_dir), Path(source)
    for name in reference_files(tiny):
        path = source / name
        if not path.is_file():
            raise ModelError(f"{path} not found: synth needs the official {name} in {source} ({SYNTH_SOURCE})")
        if md5_of(path) != OFFICIAL_FILES[name].md5:
            raise ModelError(f"{path} is not the official {name} (its md5 sum differs from the published one)")
    if out_dir.exists() and any(out_dir.iterdir()):
        if (out_dir / PARAMS_FILE).exists() and read_marker(out_dir) is None:
            raise ModelError(f"{out_dir} holds a real model; refusing to overwrite it")
        raise ModelError(f"{out_dir} is not empty; choose a new folder")
    grid_lines = (source / GRIDS_FILE).read_text(encoding="ascii").splitlines()
    if tiny:
        step = len(grid_lines) // TINY_CELLS
        return synthesize_tiny(out_dir, grid_lines[::step][:TINY_CELLS], seed)
    return _write(out_dir, read_symbol(source / SYMBOL_FILE), grid_lines, seed, "full", source / SYMBOL_FILE)


def synthesize_tiny(out_dir: str | Path, grid_lines: list[str], seed: int = 0) -> Path:
    """A tiny untrained stand-in over the cells of ``grid_lines`` (lines of grids.txt): what
    ``synthesize(tiny=True)`` makes from the official grid, made from a few of its lines kept
    elsewhere (the tests' own ``tests/data/tiny-grids.txt``, for a clone without the reference
    files)."""
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise ModelError(f"{out_dir} is not empty; choose a new folder")
    return _write(out_dir, tiny_symbol(len(grid_lines)), grid_lines, seed, "tiny", None)


def _write(
    out_dir: Path, symbol: dict[str, Any], grid_lines: list[str], seed: int, kind: str, symbol_file: Path | None
) -> Path:
    rng = np.random.default_rng(seed)
    CellGrid.parse("\n".join(grid_lines))  # the cells must be valid before anything is written
    params = _random_params(symbol, rng)
    images = calibration_images(CALIBRATION_IMAGES, seed)
    batch = np.stack([preprocess_pixels(img) for img in images])
    _calibrate_batchnorm(symbol, params, batch)
    _shape_classifier(symbol, params, _features(symbol, params, batch))
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".synth-", dir=out_dir.parent))
    try:
        write_marker(staging, kind, seed)
        if symbol_file is None:
            (staging / SYMBOL_FILE).write_text(json.dumps(symbol, indent=2) + "\n", encoding="utf-8")
        else:
            shutil.copyfile(symbol_file, staging / SYMBOL_FILE)
        (staging / GRIDS_FILE).write_text("\n".join(grid_lines) + "\n", encoding="ascii")
        write_params(staging / PARAMS_FILE, params)
        if out_dir.exists():
            out_dir.rmdir()  # empty, checked above
        staging.rename(out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out_dir
