"""MXNet symbol files (the network's JSON) read and written without MXNet.

``parameter_shapes`` walks a symbol's nodes and says the shape of every weight it needs, as MXNet's
``infer_shape`` would for the operators LocationNet uses; ``tiny_symbol`` writes the small test
network the tiny stand-in uses, in the JSON format MXNet 1.x itself writes.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import ModelError
from .files import SYMBOL_FILE

Shape = tuple[int, ...]


def attrs(node: dict[str, Any]) -> dict[str, str]:
    """A node's attributes, under whichever key its MXNet version wrote them."""
    return dict(node.get("attrs") or node.get("attr") or node.get("param") or {})


def ints(text: str | None, default: tuple[int, ...]) -> list[int]:
    """An MXNet tuple attribute such as "(7, 7)" (or a single number) as a list."""
    if not text:
        return list(default)
    value = ast.literal_eval(text)
    return [int(v) for v in (value if isinstance(value, (tuple, list)) else (value,))]


def true(text: str | None) -> bool:
    return str(text).strip().lower() in ("true", "1")


def read_symbol(path: str | Path) -> dict[str, Any]:
    try:
        symbol = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        raise ModelError(f"{SYMBOL_FILE} is not an MXNet symbol file (not valid JSON)") from None
    if not isinstance(symbol, dict) or not isinstance(symbol.get("nodes"), list) or "heads" not in symbol:
        raise ModelError(f"{SYMBOL_FILE} is not an MXNet symbol file (no nodes/heads)")
    return symbol


def _window(size: int, kernel: int, stride: int, pad: int, dilate: int = 1) -> int:
    return (size + 2 * pad - dilate * (kernel - 1) - 1) // stride + 1


def parameter_shapes(symbol: dict[str, Any], size: int) -> dict[str, Shape]:
    """Every weight of the symbol by its saved name ("arg:conv0_weight", "aux:bn0_moving_var"),
    with its shape for inputs of ``size`` x ``size`` pixels."""
    nodes = symbol["nodes"]
    out: dict[int, Shape] = {}
    wanted: dict[str, Shape] = {}

    def need(entry: list[int], shape: Shape, aux: bool = False) -> None:
        name = nodes[entry[0]]["name"]
        wanted[("aux:" if aux else "arg:") + name] = shape

    for i, node in enumerate(nodes):
        op, a, inputs = node["op"], attrs(node), node.get("inputs", [])
        if op == "null":
            if node["name"] == "data":
                out[i] = (1, 3, size, size)
            continue
        x = out[inputs[0][0]]
        if op == "Convolution":
            kernel = ints(a.get("kernel"), (1, 1))
            stride = ints(a.get("stride"), (1,) * len(kernel))
            pad = ints(a.get("pad"), (0,) * len(kernel))
            dilate = ints(a.get("dilate"), (1,) * len(kernel))
            filters, groups = int(a["num_filter"]), int(a.get("num_group", "1"))
            need(inputs[1], (filters, x[1] // groups, *kernel))
            if not true(a.get("no_bias")):
                need(inputs[2], (filters,))
            out[i] = (x[0], filters, *(_window(s, *w) for s, w in zip(x[2:], zip(kernel, stride, pad, dilate))))
        elif op == "BatchNorm":
            for k, entry in enumerate(inputs[1:5]):
                need(entry, (x[1],), aux=k >= 2)
            out[i] = x
        elif op in ("Activation", "elemwise_add", "_Plus", "_plus", "broadcast_add", "SoftmaxOutput"):
            out[i] = x
        elif op == "Pooling":
            if true(a.get("global_pool")):
                out[i] = (x[0], x[1], 1, 1)
            else:
                kernel = ints(a.get("kernel"), (1, 1))
                stride = ints(a.get("stride"), (1,) * len(kernel))
                pad = ints(a.get("pad"), (0,) * len(kernel))
                out[i] = (x[0], x[1], *(_window(s, *w) for s, w in zip(x[2:], zip(kernel, stride, pad))))
        elif op == "Flatten":
            flat = 1
            for s in x[1:]:
                flat *= s
            out[i] = (x[0], flat)
        elif op == "FullyConnected":
            hidden, features = int(a["num_hidden"]), 1
            for s in x[1:]:
                features *= s
            need(inputs[1], (hidden, features))
            if not true(a.get("no_bias")):
                need(inputs[2], (hidden,))
            out[i] = (x[0], hidden)
        else:
            raise ModelError(f"{SYMBOL_FILE}: operator {op!r} is not supported")
    return wanted


class _Builder:
    """Writes a symbol the way MXNet 1.9 does: nodes in order, weights as "null" nodes."""

    def __init__(self) -> None:
        self.nodes: list[dict[str, Any]] = [{"op": "null", "name": "data", "inputs": []}]
        self.outputs: list[int] = [1]  # outputs per node (BatchNorm has three)

    def _variable(self, name: str) -> list[int]:
        self.nodes.append({"op": "null", "name": name, "inputs": []})
        self.outputs.append(1)
        return [len(self.nodes) - 1, 0, 0]

    def op(
        self,
        op: str,
        name: str,
        inputs: list[list[int]],
        weights: Sequence[str] = (),
        aux: Sequence[str] = (),
        **a: str,
    ) -> list[int]:
        entries = list(inputs) + [self._variable(f"{name}_{w}") for w in weights]
        entries += [[self._variable(f"{name}_{w}")[0], 0, 1] for w in aux]  # aux states: version 1
        self.nodes.append({"op": op, "name": name, "attrs": dict(a), "inputs": entries})
        self.outputs.append(3 if op == "BatchNorm" else 1)
        return [len(self.nodes) - 1, 0, 0]

    def symbol(self, head: list[int]) -> dict[str, Any]:
        rows = [0]
        for n in self.outputs:
            rows.append(rows[-1] + n)
        return {
            "nodes": self.nodes,
            "arg_nodes": [i for i, n in enumerate(self.nodes) if n["op"] == "null"],
            "node_row_ptr": rows,
            "heads": [head],
            "attrs": {"mxnet_version": ["int", 10901]},
        }


def tiny_symbol(classes: int) -> dict[str, Any]:
    """A small network of LocationNet's own operators (BatchNorm on the input, two convolutions,
    max and global average pooling, a classifier over ``classes`` cells), for fast tests."""
    b = _Builder()
    bn = {"eps": "2e-05"}
    x = b.op(
        "BatchNorm", "bn_data", [[0, 0, 0]], ["gamma", "beta"], ["moving_mean", "moving_var"], fix_gamma="True", **bn
    )
    conv = {"no_bias": "True"}
    x = b.op(
        "Convolution", "conv0", [x], ["weight"], kernel="(7, 7)", num_filter="16", pad="(3, 3)", stride="(4, 4)", **conv
    )
    x = b.op("BatchNorm", "bn0", [x], ["gamma", "beta"], ["moving_mean", "moving_var"], fix_gamma="False", **bn)
    x = b.op("Activation", "relu0", [x], act_type="relu")
    x = b.op("Pooling", "pool0", [x], kernel="(3, 3)", pad="(1, 1)", pool_type="max", stride="(2, 2)")
    x = b.op(
        "Convolution", "conv1", [x], ["weight"], kernel="(3, 3)", num_filter="32", pad="(1, 1)", stride="(2, 2)", **conv
    )
    x = b.op("BatchNorm", "bn1", [x], ["gamma", "beta"], ["moving_mean", "moving_var"], fix_gamma="False", **bn)
    x = b.op("Activation", "relu1", [x], act_type="relu")
    x = b.op("Pooling", "pool1", [x], global_pool="True", kernel="(7, 7)", pool_type="avg")
    x = b.op("Flatten", "flatten0", [x])
    x = b.op("FullyConnected", "fc1", [x], ["weight", "bias"], num_hidden=str(classes))
    label = b._variable("softmax_label")
    return b.symbol(b.op("SoftmaxOutput", "softmax", [x, label]))
