"""LocationNet as an ONNX graph, made from the published symbol and parameters without MXNet.

The published symbol (MXNet 0.9.4 JSON) uses nine operators; each maps onto standard ONNX
operators (opset 13): Convolution -> Conv, BatchNorm -> BatchNormalization (with ``fix_gamma``,
MXNet ignores the stored gamma and uses 1, and so does the graph), Activation(relu) -> Relu,
elemwise_add -> Add, Pooling -> MaxPool / AveragePool / GlobalAveragePool, Flatten -> Flatten,
FullyConnected -> Gemm, SoftmaxOutput -> Softmax. The parameters come from ``model.params``.

The graph records which files it was made from (their md5 sums) and by which version of this
converter, and GeoGuess keeps a record of the graphs it made (by their own md5): ``ensure_onnx``
uses only such a graph, made from the files there now, and makes it again otherwise.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from ...errors import ModelError
from ...geo.cells import CellGrid
from ...threads import background
from ..classifier import complete_folder
from ..files import GRIDS_FILE, PARAMS_FILE, SYMBOL_FILE
from ..params import read_params
from ..recipe import SIZE
from ..store import cache_path, cached_md5, files_verified, read_record, write_record
from ..symbol import attrs, ints, parameter_shapes, read_symbol, true

ONNX_FILE = "RN101-5k500.onnx"
CONVERTER = "geoguess-onnx-2"  # changes whenever the graph it makes would change
OPSET = 13
INPUT, OUTPUT = "data", "probabilities"
RECORD = "onnx-graphs.json"  # in the user cache folder: the graphs GeoGuess made


def build_graph(
    symbol: dict[str, Any],
    params: dict[str, npt.NDArray[np.generic]],
    batch_statistics: bool = False,
    also: Sequence[str] = (),
) -> Any:
    """An onnx ModelProto computing what the symbol computes, with ``params`` as its initializers.

    ``batch_statistics``: every BatchNorm normalises with its input's own mean and variance over
    the batch (as in training) and the graph also gives them (outputs ``NAME.mean``, ``NAME.var``,
    shape 1 x C x 1 x 1); this is how the stand-in's statistics are calibrated. ``also``: symbol
    nodes whose values are outputs too."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes_json = symbol.get("nodes")
    if not isinstance(nodes_json, list) or "heads" not in symbol:
        raise ModelError(f"{SYMBOL_FILE} is not an MXNet symbol file (no nodes/heads)")
    shapes = parameter_shapes(symbol, SIZE)  # what each weight must be, checked as MXNet checks it
    names: list[str] = []  # the ONNX value name of each symbol node's output
    initializers: dict[str, Any] = {}
    nodes: list[Any] = []
    extra = list(also)

    def value(entry: list[int]) -> str:
        return names[entry[0]]

    def param(name: str, array: npt.NDArray[np.generic]) -> str:
        initializers[name] = numpy_helper.from_array(np.ascontiguousarray(array, np.float32), name)
        return name

    for n in nodes_json:
        op, name, a = n["op"], n["name"], attrs(n)
        inputs = [value(e) for e in n.get("inputs", [])]
        names.append(name)
        if op == "null":
            if name == INPUT or name.endswith("_label"):
                continue
            array = params.get("arg:" + name)
            if array is None:
                array = params.get("aux:" + name)
            if array is None:
                raise ModelError(f"{PARAMS_FILE} does not match {SYMBOL_FILE}: {name} is missing")
            needed = shapes.get("arg:" + name, shapes.get("aux:" + name))
            if needed is not None and tuple(array.shape) != needed:
                raise ModelError(
                    f"{PARAMS_FILE} does not match {SYMBOL_FILE}: {name} has shape {tuple(array.shape)}, "
                    f"the model needs {needed}"
                )
            param(name, array)
        elif op == "Convolution":
            kernel = ints(a.get("kernel"), (1, 1))
            pad = ints(a.get("pad"), (0,) * len(kernel))
            nodes.append(
                helper.make_node(
                    "Conv",
                    inputs[:2] if true(a.get("no_bias")) else inputs[:3],
                    [name],
                    name=name,
                    kernel_shape=kernel,
                    strides=ints(a.get("stride"), (1,) * len(kernel)),
                    pads=pad + pad,
                    dilations=ints(a.get("dilate"), (1,) * len(kernel)),
                    group=int(a.get("num_group", "1")),
                )
            )
        elif op == "BatchNorm":
            gamma = inputs[1]
            if true(a.get("fix_gamma", "True")):  # MXNet uses 1 whatever is stored
                gamma = param(name + "_fixed_gamma", np.ones_like(params.get("arg:" + gamma, np.ones(1))))
            eps = float(a.get("eps", "0.001"))
            if batch_statistics:
                nodes += _batch_norm(helper, inputs[0], gamma, inputs[2], eps, name, initializers)
                extra += [name + ".mean", name + ".var"]
            else:
                nodes.append(
                    helper.make_node(
                        "BatchNormalization",
                        [inputs[0], gamma, inputs[2], inputs[3], inputs[4]],
                        [name],
                        name=name,
                        epsilon=eps,
                    )
                )
        elif op == "Activation":
            kind = a.get("act_type", "relu")
            onnx_op = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh"}.get(kind)
            if onnx_op is None:
                raise ModelError(f"{SYMBOL_FILE}: activation {kind!r} is not supported")
            nodes.append(helper.make_node(onnx_op, inputs[:1], [name], name=name))
        elif op in ("elemwise_add", "_Plus", "_plus", "broadcast_add"):
            nodes.append(helper.make_node("Add", inputs[:2], [name], name=name))
        elif op == "Pooling":
            nodes.append(_pooling(helper, a, inputs[0], name))
        elif op == "Flatten":
            nodes.append(helper.make_node("Flatten", inputs[:1], [name], name=name, axis=1))
        elif op == "FullyConnected":
            if not true(a.get("flatten", "True")):
                raise ModelError(f"{SYMBOL_FILE}: FullyConnected without flatten is not supported")
            flat = name + "_flat"
            nodes.append(helper.make_node("Flatten", inputs[:1], [flat], name=flat, axis=1))
            gemm_inputs = [flat, *inputs[1:2]] if true(a.get("no_bias")) else [flat, *inputs[1:3]]
            nodes.append(helper.make_node("Gemm", gemm_inputs, [name], name=name, transB=1))
        elif op == "SoftmaxOutput":
            nodes.append(helper.make_node("Softmax", inputs[:1], [name], name=name, axis=1))
        else:
            raise ModelError(f"{SYMBOL_FILE}: operator {op!r} is not supported by the ONNX converter")
    used = {i for node in nodes for i in node.input}  # a fixed gamma's stored values are not
    initializers = {k: v for k, v in initializers.items() if k in used}
    head = names[symbol["heads"][0][0]]
    nodes.append(helper.make_node("Identity", [head], [OUTPUT], name=OUTPUT))
    fc = next((n for n in reversed(nodes_json) if n["op"] == "FullyConnected"), None)
    classes = int(attrs(fc).get("num_hidden", "0")) if fc else 0
    graph = helper.make_graph(
        nodes,
        "LocationNet",
        [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, ["N", 3, 224, 224])],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, ["N", classes])]
        + [helper.make_tensor_value_info(e, TensorProto.FLOAT, None) for e in extra],  # any shape
        initializer=list(initializers.values()),
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="GeoGuess")
    model.ir_version = 8  # read by every current ONNX Runtime and OpenVINO
    if not extra:  # the checker wants a shape for every output; graphs with more are never kept
        onnx.checker.check_model(model, full_check=False)
    return model


def _batch_norm(
    helper: Any, x: str, gamma: str, beta: str, eps: float, name: str, initializers: dict[str, Any]
) -> list[Any]:
    """A BatchNorm over the batch's own statistics, giving them as ``name.mean`` and ``name.var``."""
    from onnx import numpy_helper

    def shaped(value: str) -> str:  # C -> C x 1 x 1, to broadcast over N x C x H x W
        array = numpy_helper.to_array(initializers[value]).reshape(-1, 1, 1)
        initializers[value + ".c11"] = numpy_helper.from_array(array.astype(np.float32), value + ".c11")
        return value + ".c11"

    initializers[name + ".eps"] = numpy_helper.from_array(np.array(eps, np.float32), name + ".eps")
    mean, var, centred = name + ".mean", name + ".var", name + ".centred"
    axes = {"axes": [0, 2, 3], "keepdims": 1}
    return [
        helper.make_node("ReduceMean", [x], [mean], **axes),
        helper.make_node("Sub", [x, mean], [centred]),
        helper.make_node("Mul", [centred, centred], [name + ".squared"]),
        helper.make_node("ReduceMean", [name + ".squared"], [var], **axes),  # biased, as MXNet's training pass
        helper.make_node("Add", [var, name + ".eps"], [name + ".var_eps"]),
        helper.make_node("Sqrt", [name + ".var_eps"], [name + ".std"]),
        helper.make_node("Div", [centred, name + ".std"], [name + ".unit"]),
        helper.make_node("Mul", [name + ".unit", shaped(gamma)], [name + ".scaled"]),
        helper.make_node("Add", [name + ".scaled", shaped(beta)], [name]),
    ]


def _pooling(helper: Any, a: dict[str, str], x: str, name: str) -> Any:
    kind = a.get("pool_type", "max")
    if true(a.get("global_pool")):
        op = {"avg": "GlobalAveragePool", "max": "GlobalMaxPool"}.get(kind)
        if op is None:
            raise ModelError(f"{SYMBOL_FILE}: global {kind} pooling is not supported")
        return helper.make_node(op, [x], [name], name=name)
    kernel = ints(a.get("kernel"), (1, 1))
    pad = ints(a.get("pad"), (0,) * len(kernel))
    if a.get("pooling_convention", "valid") != "valid":  # runtimes round "full" differently
        raise ModelError(f"{SYMBOL_FILE}: pooling convention {a.get('pooling_convention')!r} is not supported")
    options = {"kernel_shape": kernel, "strides": ints(a.get("stride"), (1,) * len(kernel)), "pads": pad + pad}
    if kind == "max":
        return helper.make_node("MaxPool", [x], [name], name=name, **options)
    if kind == "avg":
        include = true(a.get("count_include_pad", "True"))
        return helper.make_node("AveragePool", [x], [name], name=name, count_include_pad=int(include), **options)
    raise ModelError(f"{SYMBOL_FILE}: {kind} pooling is not supported")


def sources(folder: Path) -> dict[str, str]:
    """What an ONNX graph of this folder is made from: the converter and the files' md5 sums."""
    return {"converter": CONVERTER, **{name: cached_md5(folder / name) for name in (SYMBOL_FILE, PARAMS_FILE)}}


def ensure_onnx(folder: str | Path) -> Path:
    """The ONNX graph of the model in ``folder``: one GeoGuess itself made from these very files
    (its record of the graphs it made, in the user cache folder, says so; a graph's own metadata is
    not trusted), else made now: written atomically beside the model, or in the user cache folder
    when the model folder cannot be written."""
    folder = Path(folder)
    wanted = sources(folder)
    candidates = [folder / ONNX_FILE, _cache_path(wanted)]
    made = read_record(cache_path(RECORD))  # the graphs GeoGuess made: their md5, and their sources
    for path in candidates:
        if path.is_file() and made.get(cached_md5(path)) == wanted:
            return path
    symbol = read_symbol(folder / SYMBOL_FILE)
    try:
        model = build_graph(symbol, read_params(folder / PARAMS_FILE))
    except ModelError:
        raise
    except Exception as e:  # noqa: BLE001 - a damaged symbol: said as such, never a traceback
        raise ModelError(
            f"{SYMBOL_FILE} cannot be made into an ONNX graph ({type(e).__name__}: {str(e)[:120]})"
        ) from None
    entry = model.metadata_props.add()
    entry.key, entry.value = "geoguess.sources", json.dumps(wanted, sort_keys=True)
    data = model.SerializeToString()
    for path in candidates:
        if _write(path, data):
            made[cached_md5(path)] = wanted
            write_record(cache_path(RECORD), made)
            return path
    raise ModelError(f"the ONNX form of the model could not be written beside it or in the cache ({folder})")


def _write(path: Path, data: bytes) -> bool:
    """``data`` into ``path`` atomically, readable as the umask allows; temporary files a killed run
    left there over an hour ago are removed first."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        for stale in path.parent.glob(".geoguess-onnx-*.tmp"):
            with contextlib.suppress(OSError):
                if time.time() - stale.stat().st_mtime > 3600:
                    stale.unlink()
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".geoguess-onnx-", suffix=".tmp")
    except OSError:
        return False
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        return True
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        return False


def _cache_path(wanted: dict[str, str]) -> Path:
    key = wanted[PARAMS_FILE][:16] + "-" + wanted[SYMBOL_FILE][:8] + "-" + wanted["converter"]
    return cache_path("onnx") / f"{key}.onnx"


class Prepared(NamedTuple):
    """What every runtime of the ONNX graph starts from."""

    folder: Path
    grid: CellGrid
    graph: Path
    verified: Future[bool]  # the published files? (md5, computed beside the loading)


def prepare(folder: str | Path) -> Prepared:
    """A complete model folder, its cells, its ONNX graph (made when needed) and its verification."""
    folder = complete_folder(folder)
    verified = background(files_verified, folder, name="geoguess-verify")
    return Prepared(folder, CellGrid.from_file(folder / GRIDS_FILE), ensure_onnx(folder), verified)
