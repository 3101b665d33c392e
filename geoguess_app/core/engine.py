"""The one entry point to GeoGuess's engine, for the command line and the window alike.

``open_engine(model_dir, device)`` checks that a model is installed (at once, with a message that
says how to install one), starts loading it on its runtime's thread, warms up the place names, and
returns a Future of the ``Engine``. Photos can be decoded while it loads (``predictor_while_loading``).
This is the only module above ``core.model`` that names a runtime.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

from .errors import ModelError
from .geo.places import shared_places
from .model import store
from .model.classifier import Classifier, ModelInfo, missing_files
from .model.mxnet.locationnet import LocationNet, cuda_available
from .model.mxnet.synth import synthesize
from .model.mxnet.thread import mxnet_worker
from .predict.cache import PredictionCache
from .predict.pipeline import Predictor

__all__ = [
    "Engine",
    "ModelMissing",
    "check_loads",
    "import_model",
    "model_installed",
    "open_engine",
    "predictor_while_loading",
    "synthesize",
]


class ModelMissing(ModelError):
    """No complete model in the folder GeoGuess was pointed at."""

    def __init__(self, folder: Path):
        self.folder = folder
        super().__init__(
            f"no complete model in {folder}. Install it with 'geoguess model download', or "
            "'geoguess model import FOLDER' if you have the files; or point --model-dir at one."
        )


@dataclass(frozen=True)
class Engine:
    """A loaded model on its device, and what the window offers about devices."""

    classifier: Classifier
    gpus: int  # GPUs the runtime can use (0 without a CUDA build or a GPU, or when not counted)

    @property
    def info(self) -> ModelInfo:
        return self.classifier.info

    def predictor(self, top_k: int = 5, preview_size: int | None = None, keep: int | None = None) -> Predictor:
        return Predictor(self.classifier, top_k=top_k, preview_size=preview_size, keep=keep)


def model_installed(model_dir: str | Path) -> bool:
    folder = Path(model_dir)
    return folder.is_dir() and not missing_files(folder)


def open_engine(model_dir: str | Path, device: str = "auto", count_gpus: bool = False) -> Future[Engine]:
    """Start loading the model in ``model_dir`` on ``device`` (auto, cpu, gpu, gpu:N).

    Raises ModelMissing at once when the folder holds no complete model; every other failure
    (damaged files, a device that is not there) is the Future's exception."""
    folder = Path(model_dir)
    if not model_installed(folder):
        raise ModelMissing(folder)
    shared_places().warm_up()
    return mxnet_worker().submit(_load, folder, device, count_gpus)


def _load(folder: Path, device: str, count_gpus: bool) -> Engine:
    classifier = LocationNet.load(folder, device)
    if not count_gpus:  # asking starts the CUDA driver of a CUDA build: only for the window's Device menu
        return Engine(classifier, 0)
    has_cuda, count = cuda_available()
    return Engine(classifier, count if has_cuda else 0)


def predictor_while_loading(
    engine: Future[Engine], top_k: int = 5, keep: int | None = None, cache: PredictionCache | None = None
) -> Predictor:
    """A predictor that decodes the first photos while the engine is still loading."""
    classifier: Future[Classifier] = Future()

    def hand_over(done: Future[Engine]) -> None:
        error = done.exception()
        if error is not None:
            classifier.set_exception(error)
        else:
            classifier.set_result(done.result().classifier)

    engine.add_done_callback(hand_over)
    return Predictor(classifier, top_k=top_k, keep=keep, cache=cache)


def check_loads(folder: Path) -> None:
    """Raise the runtime's GeoGuessError if the model in ``folder`` does not load (on the CPU)."""
    LocationNet.load(folder, device="cpu")


def import_model(
    source: str | Path, target: str | Path, progress: Callable[[str, int, int | None], None] | None = None
) -> store.StoreReport:
    """Copy and verify a model folder into the store, once it is known to load."""
    return store.import_model(source, target, check_loads, progress=progress)
