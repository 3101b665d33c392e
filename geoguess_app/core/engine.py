"""The one entry point to GeoGuess's engine, for the command line and the window alike.

``open_engine(model_dir, device)`` checks that a model is installed (at once, with a message that
says how to install one), starts loading it on its runtime's thread, warms up the place names, and
returns a Future of the ``Engine``. Photos can be decoded while it loads (``predictor_while_loading``).
This is the only module above ``core.model`` that names a runtime.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ModelError
from .geo.places import shared_places
from .model import store
from .model.classifier import Classifier, ModelInfo, missing_files, parse_device
from .model.files import read_marker
from .model.mxnet.thread import mxnet_worker
from .model.onnx.cuda import GPU_INSTALL, GpuStatus, driver_found, gpu_status
from .model.standin import SYNTH_SOURCE, reference_files
from .model.standin import synthesize as _synthesize
from .model.store import ENV_MODEL_DIR, StoreReport, inspect_folder, resolve_model_dir
from .predict.cache import PredictionCache
from .predict.decoding import decode_plan
from .predict.pipeline import Predictor
from .threads import background

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = [
    "ENV_MODEL_DIR",
    "SYNTH_SOURCE",
    "Engine",
    "ModelInfo",
    "StoreReport",
    "inspect_folder",
    "read_marker",
    "reference_files",
    "resolve_model_dir",
    "ModelMissing",
    "RuntimeMissing",
    "available_runtimes",
    "fast_refused",
    "fast_arithmetic",
    "RUNTIME_NAMES",
    "fast_agreement",
    "GpuStatus",
    "gpu_status",
    "check_loads",
    "download_model",
    "import_model",
    "model_installed",
    "open_engine",
    "predictor_while_loading",
    "synthesize",
    "write_runtime_files",
]


class RuntimeMissing(ModelError):
    """The inference runtime asked for is not installed."""


class ModelMissing(ModelError):
    """No complete model in the folder GeoGuess was pointed at."""

    def __init__(self, folder: Path):
        self.folder = folder
        missing = missing_files(folder) if folder.is_dir() else []
        lacks = f" (missing {', '.join(missing)})" if missing and len(missing) < 3 else ""
        super().__init__(
            f"no complete model in {folder}{lacks}. Install it with 'geoguess model download', or "
            "'geoguess model import FOLDER' if you have the files; or point --model-dir at one."
        )


@dataclass(frozen=True)
class Engine:
    """A loaded model on its device, and what the window offers about devices."""

    classifier: Classifier
    gpus: int  # GPUs the runtime can use (0 without a CUDA build or a GPU, or when not counted)
    gpu: GpuStatus | None = None  # what was found for NVIDIA GPUs, and why not (when counted)

    @property
    def info(self) -> ModelInfo:
        return self.classifier.info

    def predictor(
        self,
        top_k: int = 5,
        preview_size: int | None = None,
        keep: int | None = None,
        decode_workers: int | None = None,
    ) -> Predictor:
        """A predictor decoding on every core, or in ``decode_workers`` (the reduced decode with the
        fast precision)."""
        plan = decode_plan(decode_workers, reduced=self.info.precision == "fast")
        return Predictor(self.classifier, top_k=top_k, preview_size=preview_size, keep=keep, decoding=plan)


def model_installed(model_dir: str | Path) -> bool:
    folder = Path(model_dir)
    return folder.is_dir() and not missing_files(folder)


#: In the order "auto" prefers them, when installed: the fastest first, all exact (bench/bench_runtimes.py:
#: the same top 5 on every photo, each as near the float64 result as MXNet's own float32).
RUNTIMES = ("openvino", "onnxruntime", "mxnet")


#: How the window and messages name each runtime, and what installs it.
RUNTIME_NAMES = {"openvino": "OpenVINO", "onnxruntime": "ONNX Runtime", "mxnet": "MXNet"}
INSTALL = {
    "onnxruntime": "pip install onnxruntime",
    "openvino": "pip install 'geoguess[openvino]' (or pip install openvino)",
    "mxnet": "pip install mxnet==1.9.1 (Python 3.11 only)",
}


def available_runtimes() -> list[str]:
    """The runtimes installed here, in the order ``auto`` prefers them."""
    return [name for name in RUNTIMES if importlib.util.find_spec(name) is not None]


def _has_cuda(runtime: str) -> bool:
    """Whether an installed runtime was built for NVIDIA GPUs (without starting CUDA)."""
    if runtime == "onnxruntime":
        import onnxruntime

        return "CUDAExecutionProvider" in onnxruntime.get_available_providers()
    if runtime == "mxnet":  # mxnet-cu112 and its kin
        return any(
            (d.metadata["Name"] or "").lower().startswith("mxnet-cu") for d in importlib.metadata.distributions()
        )
    return False


def _cuda_onnxruntime() -> bool:
    """Whether ONNX Runtime's CUDA build is installed (without starting CUDA)."""
    return "onnxruntime" in available_runtimes() and _has_cuda("onnxruntime")


def _fast_on_gpu(kind: str) -> bool:
    """Whether the fast precision runs on an NVIDIA GPU for this device kind: asked for (gpu), or
    auto where ONNX Runtime's CUDA build and NVIDIA's driver are both here (onnxruntime-gpu without
    a driver would run on the CPU, where TF32 is not: the CPU's fast precision instead)."""
    return kind == "gpu" or (kind == "auto" and _cuda_onnxruntime() and bool(driver_found()))


def choose_runtime(runtime: str = "auto", precision: str = "exact", device: str = "auto") -> str:
    """The runtime ``runtime`` names. ``auto``: for a GPU (``device`` gpu, or auto when one is
    built for), ONNX Runtime's CUDA build, else MXNet's; otherwise the fastest installed (OpenVINO,
    else ONNX Runtime, else MXNet); OpenVINO for ``precision`` fast. RuntimeMissing when it is not
    installed."""
    if runtime not in ("auto", *RUNTIMES):
        raise RuntimeMissing(f"unknown runtime {runtime!r}: use auto, {', '.join(RUNTIMES)}")
    if precision not in ("exact", "fast"):
        raise RuntimeMissing(f"unknown precision {precision!r}: use exact or fast")
    installed = available_runtimes()
    kind, _ = parse_device(device)
    if precision == "fast":
        if kind == "gpu" or (runtime in ("auto", "onnxruntime") and _fast_on_gpu(kind)):
            # on an NVIDIA GPU: TF32 through ONNX Runtime's CUDA build
            if runtime not in ("auto", "onnxruntime"):
                raise RuntimeMissing(f"--precision fast on a GPU is ONNX Runtime's (TF32), not {runtime}'s")
            if not _cuda_onnxruntime():
                raise RuntimeMissing(f"--precision fast on a GPU runs on ONNX Runtime's CUDA build: {GPU_INSTALL}")
            return "onnxruntime"
        if runtime == "mxnet":
            raise RuntimeMissing("--precision fast is offered by the openvino and onnxruntime runtimes, not by mxnet")
        if runtime != "auto":
            if runtime not in installed:
                raise RuntimeMissing(f"the {runtime} runtime is not installed: {INSTALL[runtime]}")
            return runtime
        on_cpu = [r for r in ("openvino", "onnxruntime") if r in installed]  # OpenVINO: bfloat16 where there is one
        if not on_cpu:
            raise RuntimeMissing(f"--precision fast runs on OpenVINO or ONNX Runtime: {INSTALL['onnxruntime']}")
        return on_cpu[0]
    if runtime == "auto":
        if not installed:
            raise RuntimeMissing(
                "no inference runtime is installed: 'pip install onnxruntime' (or mxnet on Python 3.11)"
            )
        if kind != "cpu":
            gpu = [r for r in ("onnxruntime", "mxnet") if r in installed and _has_cuda(r)]
            if gpu:
                return gpu[0]
            if kind == "gpu":  # none is built for a GPU: the one that says best how to get one
                return next(r for r in ("onnxruntime", "mxnet", *installed) if r in installed)
        return installed[0]
    if runtime not in installed:
        raise RuntimeMissing(f"the {runtime} runtime is not installed: {INSTALL[runtime]}")
    return runtime


def fast_refused(runtime: str = "auto") -> str | None:
    """Why the fast precision cannot run with ``runtime`` here, or None when it can."""
    if runtime == "mxnet":
        return "The fast precision runs on OpenVINO or ONNX Runtime, not on MXNet: choose Auto"
    if not {"openvino", "onnxruntime"} & set(available_runtimes()):
        return f"the fast precision runs on OpenVINO or ONNX Runtime: {INSTALL['onnxruntime']}"
    return None


def fast_arithmetic(device: str = "cpu") -> str:
    """What the fast precision computes in on ``device``: TF32 on an NVIDIA GPU, bfloat16 on a CPU
    with AMX or AVX512-BF16 (through OpenVINO), else float32 (then only the decode is reduced)."""
    if _fast_on_gpu(parse_device(device)[0]) and _cuda_onnxruntime():
        return "TF32"
    if "openvino" in available_runtimes():
        from .model.onnx.runtime_ov import fast_available

        if fast_available():
            return "bfloat16"
    return "float32"


def open_engine(
    model_dir: str | Path,
    device: str = "auto",
    count_gpus: bool = False,
    runtime: str = "auto",
    precision: str = "exact",
) -> Future[Engine]:
    """Start loading the model in ``model_dir`` on ``device`` (auto, cpu, gpu, gpu:N) with
    ``runtime`` (auto, openvino, onnxruntime, mxnet).

    Raises ModelMissing at once when the folder holds no complete model, RuntimeMissing when the
    runtime is not installed; every other failure (damaged files, a device that is not there) is
    the Future's exception."""
    folder = Path(model_dir)
    if not model_installed(folder):
        raise ModelMissing(folder)
    chosen = choose_runtime(runtime, precision, device)
    shared_places().warm_up()
    if chosen == "mxnet":
        return mxnet_worker().submit(_load_mxnet, folder, device, count_gpus)
    # ONNX Runtime and OpenVINO need no thread of their own: a loading thread is enough
    return background(_load_onnx, folder, device, count_gpus, chosen, precision, name="geoguess-load")


def _load_onnx(folder: Path, device: str, count_gpus: bool, runtime: str, precision: str) -> Engine:
    if runtime == "openvino":
        from .model.onnx.runtime_ov import OpenVinoNet

        return Engine(OpenVinoNet.load(folder, device, precision=precision), 0, _gpu_status(count_gpus))
    from .model.onnx.runtime_ort import OnnxRuntimeNet, gpu_count

    net = OnnxRuntimeNet.load(folder, device, precision=precision)
    return Engine(net, gpu_count() if count_gpus else 0, _gpu_status(count_gpus))


def _gpu_status(wanted: bool) -> GpuStatus | None:
    if not wanted or "onnxruntime" not in available_runtimes():
        return None
    return gpu_status()


def _load_mxnet(folder: Path, device: str, count_gpus: bool) -> Engine:
    from .model.mxnet.locationnet import LocationNet, cuda_available

    classifier = LocationNet.load(folder, device)
    if not count_gpus:  # asking starts the CUDA driver of a CUDA build: only for the window's Device menu
        return Engine(classifier, 0)
    has_cuda, count = cuda_available()
    return Engine(classifier, count if has_cuda else 0, _gpu_status(True))


def predictor_while_loading(
    engine: Future[Engine],
    top_k: int = 5,
    keep: int | None = None,
    cache: PredictionCache | None = None,
    precision: str = "exact",
    decode_workers: int | None = None,
) -> Predictor:
    """A predictor that decodes the first photos (on every core, or ``decode_workers``; reduced
    with the fast ``precision``) while the engine is still loading."""
    classifier: Future[Classifier] = Future()

    def hand_over(done: Future[Engine]) -> None:
        error = done.exception()
        if error is not None:
            classifier.set_exception(error)
        else:
            classifier.set_result(done.result().classifier)

    engine.add_done_callback(hand_over)
    plan = decode_plan(decode_workers, reduced=precision == "fast")
    return Predictor(classifier, top_k=top_k, keep=keep, cache=cache, decoding=plan)


def check_loads(folder: Path) -> None:
    """Raise the runtime's GeoGuessError if the model in ``folder`` does not load (on the CPU)."""
    open_engine(folder, "cpu").result()


def download_model(target: str | Path, *args: Any, **kwargs: Any) -> Path:
    """Download and verify the published files into ``target`` (``store.download``'s arguments),
    then make their runtime-neutral form."""
    folder = store.download(target, *args, **kwargs)
    write_runtime_files(folder)
    return folder


def import_model(
    source: str | Path, target: str | Path, progress: Callable[[str, int, int | None], None] | None = None
) -> store.StoreReport:
    """Copy and verify a model folder into the store, once it is known to load; then make its
    runtime-neutral form."""
    report = store.import_model(source, target, check_loads, progress=progress)
    write_runtime_files(Path(target))
    return report


def synthesize(out_dir: str | Path, source: str | Path, tiny: bool = False, seed: int = 0) -> Path:
    """An untrained stand-in model folder, with its ONNX form."""
    out = _synthesize(out_dir, source, tiny=tiny, seed=seed)
    write_runtime_files(out)
    return out


def write_runtime_files(folder: Path) -> None:
    """The ONNX graph of the model in ``folder`` (made from its own files), where the onnx package is
    installed; without it, runtimes other than MXNet are not available anyway."""
    if importlib.util.find_spec("onnx") is not None:
        from .model.onnx.convert import ensure_onnx

        ensure_onnx(folder)


FAST_CHECK_PHOTOS = 50


def agreement_counts(exact: npt.NDArray[Any], other: npt.NDArray[Any]) -> tuple[int, int]:
    """Of two (photos, cells) probability arrays: on how many photos the top guess is the same,
    and on how many the top five cells are (in any order)."""
    import numpy as np

    top1 = int(np.sum(exact.argmax(axis=1) == other.argmax(axis=1)))
    top5 = sum(set(np.argsort(-a)[:5]) == set(np.argsort(-b)[:5]) for a, b in zip(exact, other))
    return top1, int(top5)


def fast_agreement(engine: Engine, paths: Sequence[str | Path]) -> str | None:
    """For a fast-precision engine: how often its answers (reduced decode, and its arithmetic) agree
    with the exact precision's (the published recipe in float32, on the CPU) on up to 50 of these
    photos (the person's own), as a sentence. Measured the first time a model is used fast, then
    remembered (in the user cache folder)."""
    import numpy as np

    from .predict.cache import model_key
    from .predict.pipeline import decode

    info = engine.info
    if info.precision == "exact":
        return None
    record = store.cache_path("fast-precision.json")
    key = f"{model_key(info)}:{info.runtime}:{info.arithmetic}:reduced-decode"
    known = store.read_record(record)
    earlier = known.get(key)
    if isinstance(earlier, dict) and isinstance(earlier.get("text"), str):
        counted = int(earlier.get("photos", 0))
        if counted >= FAST_CHECK_PHOTOS or len(paths) <= counted:  # measured on as many photos as there are now
            return str(earlier["text"])
    exact_in, fast_in = [], []
    for path in paths:
        exact_tensor, fast_tensor = decode(path)[1], decode(path, reduced=True)[1]
        if exact_tensor is not None and fast_tensor is not None and exact_tensor.ndim == 3:  # photos, not videos
            exact_in.append(exact_tensor)
            fast_in.append(fast_tensor)
        if len(exact_in) == FAST_CHECK_PHOTOS:
            break
    if not exact_in:
        return None
    exact_net = open_engine(info.folder, "cpu", runtime=info.runtime).result().classifier
    exact = exact_net.probabilities(np.stack(exact_in))
    fast = engine.classifier.probabilities(np.stack(fast_in))
    n = len(exact)
    top1, top5 = agreement_counts(exact, fast)
    text = (
        f"fast ({info.arithmetic}, reduced decode) agreed with exact on {top1} of {n} photos (top guess) "
        f"and {top5} of {n} (the same top 5)"
    )
    if info.untrained:
        text += "; an UNTRAINED stand-in: this says nothing about LocationNet's own error at this precision"
    known[key] = {"text": text, "photos": n}
    store.write_record(record, known)  # when it cannot be written: measured again next time
    return text
