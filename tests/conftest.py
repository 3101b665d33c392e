"""Shared fixtures: the reference LocationNet files, the photo corpus and synthesized models.

The reference files (../shared/locationnet) and the corpus (../shared/exif-corpus) lie beside the
repository. In CI (CI set) their absence fails the run: those tests must run, never skip. The
tests that need them are marked ``shared`` (by the fixtures they use); the others run on a clone
alone (``-m 'not shared'``): the tiny stand-in model is then made from ``tests/data/tiny-grids.txt``,
the few cells of the official grid it uses.

What the tests share besides fixtures (copies of corpus photos, a GeoTag, the geoguess command) is
in tests/helpers.py; the window's fixtures are in tests/gui/conftest.py.
"""

from __future__ import annotations

import csv
import importlib.util
import os
import shutil
import sys
from pathlib import Path

import pytest
from helpers import CORPUS, REFERENCE, ROOT, TINY_GRID, unavailable

# Qt's early settings, before any QApplication exists (the window tests): headless, and the
# Chromium flags QtWebEngine needs as root without a GPU.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
if "--no-sandbox" not in os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", ""):
    os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = "--no-sandbox --disable-gpu"

sys.path.insert(0, str(ROOT / "bench"))  # published_recipe: the reference code path


def pytest_configure(config):
    """Keep the tests out of the user's real folders: the model store's default location and the
    place-name cache go to a throw-away folder (also for the geoguess processes tests start)."""
    import tempfile

    home = Path(tempfile.mkdtemp(prefix="geoguess-test-home-"))
    os.environ["XDG_DATA_HOME"] = str(home / "data")
    os.environ["XDG_CACHE_HOME"] = str(home / "cache")
    os.environ["XDG_CONFIG_HOME"] = str(home / "config")  # QSettings
    os.environ.pop("GEOGUESS_MODEL_DIR", None)


SLOW_FIXTURES = {"full_model", "full_model_dir", "full_mxnet", "qtbot"}  # a full-size model, the window
SHARED_FIXTURES = {"reference_dir", "corpus_dir", "manifest", "ground_truth", "full_model_dir"}  # ../shared


def pytest_collection_modifyitems(config, items):
    """Tests that build or load the full-size model or start the window are slow: ``-m 'not slow'``
    leaves them out for a quick run (CI runs everything). Tests that read ../shared are marked
    ``shared``."""
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        if SLOW_FIXTURES & used:
            item.add_marker(pytest.mark.slow)
        if SHARED_FIXTURES & used:
            item.add_marker(pytest.mark.shared)


def _require(path: Path) -> Path:
    if not path.exists():
        unavailable(f"{path} is missing (set GEOGUESS_SHARED to the folder holding locationnet/ and exif-corpus/)")
    return path


@pytest.fixture(scope="session")
def require_program():
    """``require_program(name, debian_package)``: the program's path, or the test fails in CI / skips."""

    def find(name: str, package: str) -> str:
        path = shutil.which(name)
        if path is None:
            unavailable(f"{name} is not installed (Debian: {package})")
        return path

    return find


@pytest.fixture(scope="session")
def exiftool_cli(require_program) -> str:
    return require_program("exiftool", "libimage-exiftool-perl")


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    return _require(REFERENCE)


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    return _require(CORPUS)


@pytest.fixture(scope="session")
def manifest(corpus_dir) -> list[dict]:
    with open(corpus_dir / "MANIFEST.tsv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t"))


@pytest.fixture(scope="session")
def ground_truth(corpus_dir) -> list[dict]:
    with open(corpus_dir / "GROUND_TRUTH_GPS.tsv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t"))


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """The tiny stand-in (a few layers, 48 real cells): from the official grid where it is here, else
    from the same cells kept in tests/data (the same model either way)."""
    from geoguess_app.core.model.standin import synthesize, synthesize_tiny

    out = tmp_path_factory.mktemp("models") / "tiny"
    if (REFERENCE / "grids.txt").is_file():
        return synthesize(out, REFERENCE, tiny=True, seed=7)
    return synthesize_tiny(out, TINY_GRID.read_text(encoding="ascii").splitlines(), seed=7)


@pytest.fixture(scope="session")
def full_model_dir(tmp_path_factory, reference_dir) -> Path:
    """The real symbol and grids.txt with synthesized weights (about 300 MB, 15 s to make)."""
    from geoguess_app.core.model.standin import synthesize

    return synthesize(tmp_path_factory.mktemp("models") / "full", reference_dir, tiny=False, seed=3)


def _default_classifier(folder: Path):
    """The model as GeoGuess runs it by default: through the engine, on the runtime auto picks."""
    from geoguess_app.core.engine import open_engine

    return open_engine(folder, "cpu").result().classifier


@pytest.fixture(scope="session")
def tiny_model(tiny_model_dir):
    return _default_classifier(tiny_model_dir)


@pytest.fixture(scope="session")
def full_model(full_model_dir):
    return _default_classifier(full_model_dir)


HAS_MXNET = importlib.util.find_spec("mxnet") is not None


@pytest.fixture(scope="session")
def mxnet_runtime():
    """MXNet, the published code's runtime and the reference the others are compared with. It installs
    on Python 3.11 only (the test extra brings it there, and CI fails without it); on later Pythons
    the tests that need it skip."""
    if not HAS_MXNET:
        if sys.version_info < (3, 12):
            unavailable("MXNet is not installed (pip install -e '.[test]' brings it on Python 3.11)")
        pytest.skip("MXNet does not install on Python 3.12 and later")


@pytest.fixture(scope="session")
def tiny_mxnet(mxnet_runtime, tiny_model_dir):
    from geoguess_app.core.model.mxnet.locationnet import LocationNet

    return LocationNet.load(tiny_model_dir, device="cpu")


@pytest.fixture(scope="session")
def full_mxnet(mxnet_runtime, full_model_dir):
    from geoguess_app.core.model.mxnet.locationnet import LocationNet

    return LocationNet.load(full_model_dir, device="cpu")
