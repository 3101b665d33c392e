"""Reading MXNet's parameter file (``.params``, the NDArray list format) with NumPy alone.

The format (MXNet's ``NDArray::Save``, ``src/ndarray/ndarray.cc``): a header (magic 0x112, a
reserved word, the number of arrays), each array (a per-array magic, the storage type, the shape,
the device it was saved from, the element type, the raw little-endian data), then the names
("arg:conv0_weight", "aux:bn_data_moving_mean"). Only dense arrays occur in LocationNet's file.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import ModelError

LIST_MAGIC = 0x112
V1, V2, V3 = 0xF993FAC8, 0xF993FAC9, 0xF993FACA  # array formats: with int64 shapes; + storage type; NumPy shapes
MAX_ARRAYS = 100_000  # LocationNet's file holds 514
DTYPES = {0: np.float32, 1: np.float64, 2: np.float16, 3: np.uint8, 4: np.int32, 5: np.int8, 6: np.int64}


class _Reader:
    def __init__(self, data: bytes, name: str):
        self.data, self.at, self.name = data, 0, name

    def take(self, fmt: str) -> tuple[int, ...]:
        size = struct.calcsize(fmt)
        if self.at + size > len(self.data):
            raise ModelError(f"{self.name} is truncated (it ends inside its header)")
        values = struct.unpack_from(fmt, self.data, self.at)
        self.at += size
        return values

    def array(self, dtype: npt.DTypeLike, shape: tuple[int, ...]) -> npt.NDArray[np.generic]:
        count = 1
        for size in shape:  # Python integers: a damaged shape cannot overflow into a small number
            count *= size
        size = count * np.dtype(dtype).itemsize
        if self.at + size > len(self.data):
            raise ModelError(f"{self.name} is truncated (an array's data ends early)")
        out = np.frombuffer(self.data, dtype=np.dtype(dtype).newbyteorder("<"), count=count, offset=self.at)
        self.at += size
        return out.reshape(shape).astype(dtype, copy=True)


def read_params(path: str | Path) -> dict[str, npt.NDArray[np.generic]]:
    """Every array of an MXNet .params file by its saved name ("arg:...", "aux:...")."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ModelError(f"cannot read {path}: {e.strerror or e}") from None
    r = _Reader(data, path.name)
    magic, _reserved = r.take("<QQ")
    if magic != LIST_MAGIC:
        raise ModelError(f"{path.name} is not an MXNet parameter file")
    (count,) = r.take("<Q")
    if count > MAX_ARRAYS:
        raise ModelError(f"{path.name} is damaged (it says it holds {count} arrays)")
    arrays = [_one(r) for _ in range(count)]
    (names_count,) = r.take("<Q")
    if names_count != count:
        raise ModelError(f"{path.name} holds {count} arrays but {names_count} names")
    names = []
    for _ in range(names_count):
        (length,) = r.take("<Q")
        if r.at + length > len(data):
            raise ModelError(f"{path.name} is truncated (it ends inside its names)")
        names.append(data[r.at : r.at + length].decode("utf-8", "replace"))
        r.at += length
    return dict(zip(names, arrays))


def _one(r: _Reader) -> npt.NDArray[np.generic]:
    (magic,) = r.take("<I")
    if magic in (V2, V3):
        (storage,) = r.take("<i")
        if storage != 0:
            raise ModelError(f"{r.name} holds a sparse array, which LocationNet does not use")
        (ndim,) = r.take("<i")
        if ndim > 32:
            raise ModelError(f"{r.name} is damaged (an array says it has {ndim} dimensions)")
        shape = r.take(f"<{ndim}q") if ndim > 0 else ()
        # V2: no dimensions means no array; V3 (NumPy shapes): -1 means none, 0 a scalar with its data
        if ndim < 0 or (ndim == 0 and magic == V2):
            return np.zeros((0,), np.float32)
    elif magic == V1:
        (ndim,) = r.take("<I")
        if ndim > 32:
            raise ModelError(f"{r.name} is damaged (an array says it has {ndim} dimensions)")
        shape = r.take(f"<{ndim}q")
        if ndim == 0:
            return np.zeros((0,), np.float32)
    else:  # the oldest format: the magic is the number of dimensions, with 32-bit sizes
        ndim = magic
        if ndim > 32:
            raise ModelError(f"{r.name} is damaged (an array says it has {ndim} dimensions)")
        shape = r.take(f"<{ndim}I")
        if ndim == 0:
            return np.zeros((0,), np.float32)
    if any(size < 0 for size in shape):
        raise ModelError(f"{r.name} is damaged (an array has a negative size)")
    _dev_type, _dev_id, type_flag = r.take("<iii")
    dtype = DTYPES.get(type_flag)
    if dtype is None:
        raise ModelError(f"{r.name} holds an array of unknown type {type_flag}")
    return r.array(dtype, tuple(int(s) for s in shape))


def write_params(path: str | Path, arrays: Mapping[str, npt.NDArray[Any]]) -> None:
    """An MXNet .params file of ``arrays`` ("arg:...", "aux:..." names), as MXNet 1.x writes one
    (dense arrays, the storage-type format, saved from the CPU): MXNet and ``read_params`` read it."""
    flags: dict[np.dtype[Any], int] = {np.dtype(t): flag for flag, t in DTYPES.items()}
    with open(path, "wb") as f:
        f.write(struct.pack("<QQQ", LIST_MAGIC, 0, len(arrays)))
        for array in arrays.values():
            array = np.ascontiguousarray(array)
            if array.dtype not in flags:
                raise ModelError(f"arrays of type {array.dtype} cannot be saved in an MXNet parameter file")
            f.write(struct.pack(f"<Iii{array.ndim}q", V2, 0, array.ndim, *array.shape))
            f.write(struct.pack("<iii", 1, 0, flags[array.dtype]))  # the CPU, device 0
            f.write(array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes())
        f.write(struct.pack("<Q", len(arrays)))
        for name in arrays:
            encoded = name.encode("utf-8")
            f.write(struct.pack("<Q", len(encoded)) + encoded)
