"""Loading LocationNet with MXNet as published, checked, on CPU or GPU.

The published 0.9.4 symbol is loaded as it is (MXNet 1.x upgrades it), bound without a label: its
``SoftmaxOutput`` gives the softmax over the classes in inference. Before binding, every parameter
the symbol needs must be in the .params file with the shape the symbol wants, and the number of
classes must equal the number of lines of grids.txt. Everything here runs on the MXNet thread.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import DeviceError, ModelError
from ...geo.cells import CellGrid
from ...threads import background
from ..classifier import ModelInfo, check_classes, complete_folder, describe_model, parse_device
from ..files import GRIDS_FILE, PARAMS_FILE, SYMBOL_FILE
from ..recipe import SIZE
from ..store import files_verified
from .importer import mxnet, quiet_native_stderr
from .thread import on_mxnet_thread

CUDA_HINT = (
    "install a CUDA build of MXNet in place of the CPU one, for example "
    "'pip uninstall -y mxnet && pip install mxnet-cu112==1.9.1' (needs an NVIDIA driver and CUDA 11.2)"
)


@on_mxnet_thread
def cuda_available() -> tuple[bool, int]:
    """(whether this MXNet build has CUDA, how many GPUs it sees)."""
    mx = mxnet()
    from mxnet import runtime

    if not runtime.Features().is_enabled("CUDA"):
        return False, 0
    try:
        return True, mx.context.num_gpus()
    except mx.base.MXNetError:
        return True, 0


@on_mxnet_thread
def resolve_device(spec: str):
    """The MXNet context for a device spec; a clear DeviceError when it is not there."""
    mx = mxnet()
    kind, index = parse_device(spec)
    if kind == "cpu":
        return mx.cpu()
    has_cuda, count = cuda_available()
    if kind == "auto":
        return mx.gpu(0) if has_cuda and count > 0 else mx.cpu()
    if not has_cuda:
        raise DeviceError(f"GPU requested, but this MXNet build has no CUDA support: {CUDA_HINT}")
    if count == 0:
        raise DeviceError("GPU requested, but no NVIDIA GPU is visible (check the driver with nvidia-smi)")
    if index >= count:
        raise DeviceError(f"GPU {index} requested, but only {count} GPU(s) are visible (gpu:0 to gpu:{count - 1})")
    return mx.gpu(index)


class LocationNet:
    """A LocationNet model bound on one device, ready to classify 3 x 224 x 224 tensors."""

    def __init__(self, info: ModelInfo, grid: CellGrid, executor, batch_size: int, ctx):
        self.info = info
        self.grid = grid
        self.batch_size = batch_size  # the largest batch worth forming (more photos are split)
        self._ctx = ctx
        self._executors = {1: executor}  # by batch size, all sharing the same weights

    @classmethod
    @on_mxnet_thread
    def load(cls, folder: str | Path, device: str = "auto", batch_size: int | None = None) -> LocationNet:
        mx = mxnet()
        folder = complete_folder(folder)
        ctx = resolve_device(device)
        verification = background(
            files_verified, folder, name="geoguess-verify"
        )  # md5 of the files, beside the loading
        grid = CellGrid.from_file(folder / GRIDS_FILE)
        symbol = _load_symbol(folder / SYMBOL_FILE)
        arg_shapes, aux_shapes, num_classes = _expected_shapes(symbol)
        check_classes(num_classes, grid)
        args, aux = _load_params(folder / PARAMS_FILE, arg_shapes, aux_shapes, ctx)
        if batch_size is None:
            # On a CPU a batch of 2 is about 10% faster per photo than one at a time and
            # larger ones gain nothing; on a GPU batches pay off.
            batch_size = 16 if ctx.device_type == "gpu" else 2
        args["data"] = mx.nd.zeros((1, 3, SIZE, SIZE), ctx=ctx)
        label = symbol.list_arguments()[-1]
        if label.endswith("_label"):
            args[label] = mx.nd.zeros((1,), ctx=ctx)  # bound, unused in inference
        try:
            with quiet_native_stderr():
                executor = symbol.bind(ctx, args=args, aux_states=aux, grad_req="null")
        except mx.base.MXNetError as e:
            raise ModelError(f"MXNet could not set up the model on {ctx}: {_first_line(e)}") from None
        info = describe_model(folder, num_classes, str(ctx), verification.result(), "mxnet")
        return cls(info, grid, executor, batch_size, ctx)

    @on_mxnet_thread
    def probabilities(self, batch: np.ndarray) -> np.ndarray:
        """Softmax over the classes for an (N, 3, 224, 224) float32 batch."""
        mx = mxnet()
        n = batch.shape[0]
        if n > self.batch_size:
            return np.concatenate(
                [self.probabilities(batch[i : i + self.batch_size]) for i in range(0, n, self.batch_size)]
            )
        executor = self._executor_for(n)
        executor.forward(is_train=False, data=mx.nd.array(batch, ctx=self._ctx))
        probs = executor.outputs[0].asnumpy()
        if not np.all(np.isfinite(probs)):
            raise ModelError("the model produced invalid numbers (NaN or infinity): its weights are damaged")
        return probs

    def _executor_for(self, n: int):
        executor = self._executors.get(n)
        if executor is None:
            base = self._executors[1]
            shapes = {
                name: (n, *arr.shape[1:])
                for name, arr in base.arg_dict.items()
                if name == "data" or name.endswith("_label")
            }
            with quiet_native_stderr():
                executor = base.reshape(allow_up_sizing=True, **shapes)
            self._executors[n] = executor
        return executor


def _first_line(e: BaseException) -> str:
    lines = [ln for ln in str(e).splitlines() if ln.strip()]
    for ln in lines:
        if "Check failed" in ln or "Error" in ln:
            return ln.strip()[:200]
    return (lines[-1] if lines else type(e).__name__)[:200]


def _load_symbol(path: Path):
    mx = mxnet()
    try:
        text = path.read_text(encoding="utf-8")
        graph = json.loads(text)
    except (OSError, UnicodeDecodeError, ValueError):
        raise ModelError(f"{path.name} is not an MXNet symbol file (not valid JSON)") from None
    if not isinstance(graph, dict) or "nodes" not in graph or "heads" not in graph:
        raise ModelError(f"{path.name} is not an MXNet symbol file (no nodes/heads)")
    try:
        with quiet_native_stderr():  # MXNet logs a notice when it upgrades the 0.9.4 format
            symbol = mx.sym.load_json(text)
    except mx.base.MXNetError as e:
        raise ModelError(f"{path.name} could not be read by MXNet: {_first_line(e)}") from None
    if len(symbol.list_outputs()) != 1 or "data" not in symbol.list_arguments():
        raise ModelError(f"{path.name} is not a classifier with one output and a 'data' input")
    return symbol


def _expected_shapes(symbol):
    mx = mxnet()
    try:
        arg_shapes, out_shapes, aux_shapes = symbol.infer_shape(data=(1, 3, SIZE, SIZE))
    except mx.base.MXNetError as e:
        raise ModelError(f"the model does not accept 224 x 224 photos: {_first_line(e)}") from None
    if arg_shapes is None or len(out_shapes[0]) != 2:
        raise ModelError("the model's output is not one probability per class")
    args = {
        n: tuple(s) for n, s in zip(symbol.list_arguments(), arg_shapes) if n != "data" and not n.endswith("_label")
    }
    aux = {n: tuple(s) for n, s in zip(symbol.list_auxiliary_states(), aux_shapes)}
    return args, aux, int(out_shapes[0][1])


def _load_params(path: Path, arg_shapes: dict, aux_shapes: dict, ctx):
    mx = mxnet()
    try:
        loaded = mx.nd.load(str(path))
    except mx.base.MXNetError as e:
        raise ModelError(f"{path.name} is truncated or not an MXNet parameter file ({_first_line(e)})") from None
    if not isinstance(loaded, dict):
        raise ModelError(f"{path.name} holds unnamed arrays, not LocationNet parameters")
    args: dict[str, Any] = {}  # MXNet NDArrays by name
    aux: dict[str, Any] = {}
    problems: list[str] = []
    for prefix, wanted, out in (("arg:", arg_shapes, args), ("aux:", aux_shapes, aux)):
        for name, shape in wanted.items():
            array = loaded.pop(prefix + name, None)
            if array is None:
                problems.append(f"{name} is missing")
            elif tuple(array.shape) != shape:
                problems.append(f"{name} has shape {tuple(array.shape)}, the model needs {shape}")
            elif array.dtype != np.float32:
                problems.append(f"{name} is {np.dtype(array.dtype).name}, the model needs float32")
            else:
                out[name] = array if ctx.device_type == "cpu" else array.as_in_context(ctx)
    if problems:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise ModelError(f"{path.name} does not match {SYMBOL_FILE}: {shown}")
    return args, aux
