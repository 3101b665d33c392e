"""GeoGuess's input tensors and probabilities equal those of LocationNet's published code."""

from __future__ import annotations

import re
import tracemalloc

import numpy as np
import published_recipe
import pytest
from helpers import CORPUS
from PIL import Image, ImageOps

from geoguess_app.core.model.mxnet.thread import mxnet_worker
from geoguess_app.core.model.recipe import MEAN_RGB, preprocess_pixels
from geoguess_app.core.photos.decode import open_photo, orient_view
from geoguess_app.core.predict.pipeline import decode

PARITY_MODES = {"RGB", "L", "CMYK", "I;16", "I;16B", "P", "1"}
PARITY_FORMATS = {"JPEG", "PNG", "TIFF", "WEBP", "Extended WEBP", "HEIC", "HEIF", "MPO", "AVIF"}


def _parity_paths() -> list[str]:
    import csv

    manifest = CORPUS / "MANIFEST.tsv"
    if not manifest.exists():
        return []
    with open(manifest, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    paths = []
    for r in rows:
        if r["pil_load"] != "ok" or r["format"] not in PARITY_FORMATS or r["pil_mode"] not in PARITY_MODES:
            continue
        w, h = (int(v) for v in r["pil_size"].split("x"))
        if w * h <= 30_000_000:
            paths.append(r["path"])
    return paths


def published_input(path) -> np.ndarray:
    """What the published code would compute for this photo, shown upright: Pillow decodes it
    (scikit-image cannot read HEIC or apply EXIF orientation), scikit-image does the rest."""
    with Image.open(path) as im:
        if "transparency" in im.info:
            pytest.skip("transparent: the published code cannot read it (GeoGuess composites it on white)")
        im = ImageOps.exif_transpose(im)
        array = np.asarray(im) if im.mode.startswith("I;16") else np.asarray(im.convert("RGB"))
    if array.ndim == 2:
        array = np.stack([array] * 3, axis=-1)
    return published_recipe.preprocess_array(array)[0]


@pytest.mark.parametrize("rel", _parity_paths())
def test_tensor_matches_published_code_on_corpus_photo(corpus_dir, rel):
    prepared, tensor = decode(corpus_dir / rel)
    try:
        expected = published_input(corpus_dir / rel)
    except (OSError, ValueError, SyntaxError):
        # Listed as readable in the manifest, but this Pillow cannot decode it either:
        # GeoGuess must then give a clean error, as for any damaged file.
        assert prepared.error and tensor is None
        return
    if prepared.error and "cannot hold" in prepared.error:
        # Pillow fills what the file lacks with grey; GeoGuess refuses a JPEG whose data cannot hold
        # the pixels it declares (one in this corpus: 193 x 31237 pixels in 613 bytes)
        w, h = map(int, re.search(r"declares (\d+) x (\d+) pixels", prepared.error).groups())
        assert (corpus_dir / rel).stat().st_size * 8 < w * h / 64  # fewer bits than 8 x 8 blocks
        return
    assert prepared.error is None, f"GeoGuess could not read a photo Pillow reads: {prepared.error}"
    assert tensor.shape == (3, 224, 224) and tensor.dtype == np.float32
    assert np.abs(tensor - expected).max() <= 0.01


def test_parity_set_covers_the_hard_cases(corpus_dir, manifest):
    chosen = set(_parity_paths())
    rows = [r for r in manifest if r["path"] in chosen]
    assert len(rows) > 300
    orientations = {r["orientation"] for r in rows}
    assert {"2", "3", "4", "5", "6", "7", "8"} <= orientations
    assert {"CMYK", "L", "I;16"} <= {r["pil_mode"] for r in rows}
    assert {"HEIC", "PNG", "TIFF"} <= {r["format"] for r in rows}
    sizes = [int(r["pil_size"].split("x")[0]) * int(r["pil_size"].split("x")[1]) for r in rows]
    assert min(sizes) < 224 * 224 < 10_000_000 < max(sizes)  # enlarged and 12-megapixel photos


PROBABILITY_PHOTOS = [
    "metadata-extractor-images/jpg/Nikon D90.jpg",  # 12 MP
    "exiv2/test/data/exiv2-bug2565.jpg",  # 12 MP, orientation 6
    "exif-samples/heic/IMG_5195.HEIC",
    "Pillow/Tests/images/hopper.jpg",  # 128 x 128: enlarged
    "Pillow/Tests/images/hopper_orientation_7.jpg",
]


def test_probabilities_match_published_code_path(full_model_dir, full_mxnet, corpus_dir):
    published_model = mxnet_worker().run(published_recipe.load_model, str(full_model_dir))
    for rel in PROBABILITY_PHOTOS:
        ours = full_mxnet.probabilities(decode(corpus_dir / rel)[1][None])[0]
        theirs = mxnet_worker().run(published_recipe.predict, published_model, published_input(corpus_dir / rel)[None])[
            0
        ]
        assert ours.shape == theirs.shape == (15527,)
        assert np.abs(ours - theirs).max() <= 1e-5, rel
        assert ours.argmax() == theirs.argmax()


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_view_equals_pillow_transpose(orientation):
    rng = np.random.default_rng(orientation)
    stored = rng.integers(0, 255, (5, 7, 3), dtype=np.uint8)
    image = Image.fromarray(stored)
    exif = image.getexif()
    exif[0x0112] = orientation
    image.info["exif"] = exif.tobytes()
    image._exif = exif
    upright = np.asarray(ImageOps.exif_transpose(image))
    assert np.array_equal(orient_view(stored, orientation), upright)


def test_twelve_megapixel_photo_is_never_copied_as_floats():
    pixels = np.random.default_rng(0).integers(0, 255, (3000, 4000, 3), dtype=np.uint8)
    tracemalloc.start()
    try:
        preprocess_pixels(pixels[:, ::-1])  # a flipped view, as for EXIF orientation 2
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * 1024 * 1024  # a float copy of the photo would be 288 MB


def test_transparent_areas_become_white(tmp_path):
    rgba = np.zeros((300, 300, 4), np.uint8)
    rgba[:, :150] = (10, 200, 30, 255)  # opaque green left half, transparent right half
    Image.fromarray(rgba, "RGBA").save(tmp_path / "alpha.png")
    tensor = decode(tmp_path / "alpha.png")[1]
    white = 255 * 256 / 255 - MEAN_RGB
    assert np.allclose(tensor[:, :, -50:].reshape(3, -1).T, white, atol=1e-3)
    assert np.allclose(tensor[:, :, :50].reshape(3, -1).T, np.array([10, 200, 30]) * 256 / 255 - MEAN_RGB, atol=1e-3)


def test_sixteen_bit_photo_keeps_its_tones(tmp_path):
    ramp = (np.linspace(0, 65535, 256 * 256).reshape(256, 256)).astype(np.uint16)
    Image.fromarray(ramp).save(tmp_path / "ramp16.tif")
    photo = open_photo(tmp_path / "ramp16.tif")
    tensor = preprocess_pixels(*photo.pixels())
    values = tensor[0] + MEAN_RGB[0]  # back to the 0-256 scale
    assert values.min() < 5 and values.max() > 250  # not clipped to white by an 8-bit conversion


@pytest.mark.parametrize("orientation", range(1, 9))
def test_reading_only_sampled_rows_equals_reading_the_whole_photo(tmp_path, orientation):
    # Large enough that only the sampled rows are copied out of Pillow.
    rng = np.random.default_rng(orientation)
    stored = rng.integers(0, 255, (1900, 2500, 3), dtype=np.uint8)
    image = Image.fromarray(stored)
    exif = image.getexif()
    exif[0x0112] = orientation
    image.save(tmp_path / "big.png", exif=exif.tobytes())
    photo = open_photo(tmp_path / "big.png")
    assert photo.meta.orientation == orientation
    from geoguess_app.core.model.recipe import preprocess_photo

    assert np.array_equal(preprocess_photo(photo), preprocess_pixels(*photo.pixels()))
    upright = np.asarray(ImageOps.exif_transpose(Image.open(tmp_path / "big.png")))
    assert np.abs(preprocess_photo(photo) - published_recipe.preprocess_array(upright)[0]).max() <= 0.01
