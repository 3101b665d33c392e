"""What the tests share besides fixtures: where things are, copies of corpus photos, a GeoTag, the
``geoguess`` command and a call that must not hang. Importable from every folder under tests/
(``pythonpath = ["tests"]`` in pyproject.toml); the fixtures are in tests/conftest.py."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent  # the repository
SHARED = Path(os.environ.get("GEOGUESS_SHARED", ROOT.parent / "shared"))
REFERENCE = SHARED / "locationnet"
CORPUS = SHARED / "exif-corpus"
TINY_GRID = ROOT / "tests" / "data" / "tiny-grids.txt"
GEOGUESS = Path(sys.executable).parent / "geoguess"
STANDIN = ("--allow-untrained", "--min-probability", "0")  # write (or plan) the untrained stand-in's guesses


def unavailable(message: str) -> None:
    """Something a test needs is missing: in CI that fails the run (every test must run there),
    elsewhere the test is skipped."""
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def run(*args, env_extra=None, timeout=300) -> subprocess.CompletedProcess:
    """``geoguess ARGS`` as a person runs it (GEOGUESS_MODEL_DIR only where ``env_extra`` sets it)."""
    env = {**os.environ, **(env_extra or {})}
    env.pop("GEOGUESS_MODEL_DIR", None) if not (env_extra and "GEOGUESS_MODEL_DIR" in env_extra) else None
    return subprocess.run([str(GEOGUESS), *map(str, args)], capture_output=True, text=True, env=env, timeout=timeout)


def copy_photo(source: Path, target: Path) -> Path:
    """A writable copy of a corpus photo (the corpus files are read-only, and GeoGuess refuses to
    write into read-only files), with its modification time."""
    shutil.copy2(source, target)
    target = target / Path(source).name if target.is_dir() else target
    target.chmod(0o644)
    return target


def walk_with_gps(corpus_dir: Path, folder: Path, exiftool: str, names: list[str], without_gps: list[str]) -> None:
    """Copies of the corpus's walk in Arezzo (Nikon photos minutes apart, each with GPS), with the GPS
    of ``without_gps`` removed by ExifTool."""
    folder.mkdir(exist_ok=True)
    for name in names:
        copy_photo(corpus_dir / "exif-samples" / "jpg" / "gps" / name, folder / name)
    paths = [str(folder / name) for name in without_gps]
    subprocess.run([exiftool, "-q", "-gps:all=", "-overwrite_original", *paths], check=True)


def corpus_rows(manifest: list[dict], **want) -> list[dict]:
    return [r for r in manifest if all(r.get(k) == v for k, v in want.items())]


def corpus_batch(corpus_dir: Path, count: int):
    """``count`` decoded corpus photos as one input batch (a NumPy array)."""
    import numpy as np

    from geoguess_app.core.photos.decode import list_photos
    from geoguess_app.core.predict.pipeline import decode

    photos = list_photos([corpus_dir / "exif-samples" / "jpg"], recursive=True)[: count * 2]
    tensors = [t for t in (decode(p)[1] for p in photos) if t is not None]
    return np.stack(tensors[:count])


NEXT_STEPS = ("--model-dir", "GEOGUESS_MODEL_DIR", "geoguess model synth")  # said where other weights are refused


def other_weights(tiny_model_dir: Path, folder: Path) -> Path:
    """A complete model folder that is neither the published files nor a marked stand-in."""
    from geoguess_app.core.model.files import MODEL_FILES

    folder.mkdir()
    for name in MODEL_FILES:
        shutil.copy(tiny_model_dir / name, folder)
    return folder


def geotag(**changes):
    """A GeoTag as a prediction makes one (an untrained model's rank-1 guess in Sydney), with
    ``changes`` applied, for tests that write positions without predicting."""
    from geoguess_app.core.geotag.writer import GeoTag

    values = dict(
        lat=-33.8567844,
        lon=151.2131083,
        accuracy_m=1234.5,
        model="test model",
        untrained=True,
        token="6b12ae3",
        probability=0.25,
        rank=1,
    )
    return GeoTag(**{**values, **changes})


def finishes_or_unblock(call: Callable[[], None], fifo: Path, timeout: float, what: str) -> None:
    """Run ``call`` (which opens or reads the FIFO ``fifo``) on a daemon thread: if it has not
    returned after ``timeout`` seconds, open the FIFO for writing (which lets it go) and fail
    the test, saying ``what`` went wrong."""
    worker = threading.Thread(target=call, daemon=True)
    worker.start()
    worker.join(timeout=timeout)
    if worker.is_alive():
        with open(fifo, "wb"):
            pass
        pytest.fail(what)


def make_dng(photo: Path, out: Path, size: tuple[int, int] = (640, 480), preview: bool = False) -> Path:
    """A DNG with real sensor data: a Bayer (RGGB) mosaic of a photo's linear pixels, 12 bits, with
    the tags LibRaw needs to demosaic it (its colour matrix maps XYZ to linear sRGB). ``preview``:
    as cameras write them, the first image is the camera's JPEG rendering at full size and the
    sensor data is in its SubIFD."""
    import io

    import numpy as np
    import tifffile
    from PIL import Image

    rgb = np.asarray(Image.open(photo).convert("RGB").resize(size), dtype=np.float32) / 255.0
    linear, white = rgb**2.2, 4095
    mosaic = np.zeros(linear.shape[:2], np.uint16)
    for (dy, dx), channel in {(0, 0): 0, (0, 1): 1, (1, 0): 1, (1, 1): 2}.items():
        mosaic[dy::2, dx::2] = linear[dy::2, dx::2, channel] * white
    xyz_to_srgb = [3.2406, -1.5372, -0.4986, -0.9689, 1.8758, 0.0415, 0.0557, -0.2040, 1.0570]
    camera = [
        (50706, "B", 4, (1, 4, 0, 0), True),  # DNGVersion
        (50708, "s", 0, "GeoGuess test camera", True),
        (50721, "2i", 9, [v for x in xyz_to_srgb for v in (round(x * 10000), 10000)], True),  # ColorMatrix1
        (50728, "2I", 3, (1, 1, 1, 1, 1, 1), True),  # AsShotNeutral
        (50778, "H", 1, 21, True),  # CalibrationIlluminant1: D65
        (271, "s", 0, "GeoGuess", True),
        (272, "s", 0, "Test DNG", True),
    ]
    sensor = [
        (33421, "H", 2, (2, 2), True),  # CFARepeatPatternDim
        (33422, "B", 4, (0, 1, 1, 2), True),  # CFAPattern: RGGB
        (50714, "H", 1, 0, True),  # BlackLevel
        (50717, "H", 1, white, True),  # WhiteLevel
    ]
    if not preview:
        tifffile.imwrite(out, mosaic, photometric=32803, subfiletype=0, extratags=camera + sensor, metadata=None)
        return out
    import tifffile._imagecodecs as codecs  # the strip is given encoded: tifffile only looks its codec up

    if not hasattr(codecs, "jpeg_encode"):
        codecs.jpeg_encode = lambda *args, **kwargs: b""  # type: ignore[attr-defined]
    rendered = io.BytesIO()
    Image.fromarray((rgb * 255).astype(np.uint8)).save(rendered, "JPEG", quality=92)
    w, h = size
    with tifffile.TiffWriter(out) as tiff:
        tiff.write(
            iter([rendered.getvalue()]), shape=(h, w, 3), dtype=np.uint8, photometric="rgb", compression=7,
            subfiletype=1, rowsperstrip=h, subifds=1, extratags=camera, metadata=None,
        )  # fmt: skip
        tiff.write(mosaic, photometric=32803, subfiletype=0, extratags=sensor, metadata=None)
    return out
