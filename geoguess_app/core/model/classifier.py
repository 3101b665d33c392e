"""What every inference runtime offers the rest of GeoGuess: the ``Classifier`` protocol.

A classifier turns a batch of photos, already made into input tensors by the recipe
(``model.recipe``), into one probability per cell of its grid. Prediction, the window and the
command line only see this protocol and ``ModelInfo``; which runtime runs the network (MXNet,
ONNX Runtime or OpenVINO, see ``core.engine.RUNTIMES``) is chosen in one place, ``core.engine``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from ..errors import DeviceError, ModelError
from ..geo.cells import CellGrid
from .files import GRIDS_FILE, MODEL_FILES, MODEL_NAME, read_marker

UNVERIFIED_NOTE = "UNVERIFIED: its files are not the published ones (md5 differs), so its answers are not LocationNet's"


@dataclass(frozen=True)
class ModelInfo:
    """Which model answered, and how far its answers can be trusted."""

    name: str
    folder: str
    untrained: bool
    variant: str  # "official", "full" or "tiny"
    num_classes: int
    device: str
    verified: bool = False  # all three files are the published ones (md5)
    runtime: str = "mxnet"  # what runs the network: mxnet, onnxruntime or openvino
    precision: str = "exact"  # or "fast" (photos decoded reduced; bfloat16 or TF32 where there is one): opt-in
    arithmetic: str = "float32"  # what the network ran in: float32, bfloat16 (a CPU with AMX) or TF32 (a GPU)

    def as_dict(self) -> dict[str, Any]:
        """What the command line's JSON says about the model."""
        return {
            "name": self.name,
            "untrained": self.untrained,
            "verified": self.verified,
            "num_classes": self.num_classes,
            "precision": self.precision,
            "arithmetic": self.arithmetic,
            "runtime": self.runtime,
        }

    def to_dict(self) -> dict[str, Any]:
        """Everything, for results that travel (``from_dict`` reads it back)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelInfo:
        return cls(**data)

    @property
    def warning(self) -> str | None:
        """What a person must be told about this model before trusting its answers, or None."""
        if self.untrained:
            return self.name  # it says that its predictions mean nothing
        if not self.verified:
            return f"the model in {self.folder} is {UNVERIFIED_NOTE}"
        return None

    @property
    def short_name(self) -> str:
        """A few words for a status bar."""
        if self.untrained:
            return "LocationNet (stand-in)"
        return self.name if self.verified else "LocationNet (unverified files)"


class Classifier(Protocol):
    """A loaded model, ready to classify (N, 3, 224, 224) float32 batches made by the recipe."""

    info: ModelInfo
    grid: CellGrid  # the cells, in class order
    batch_size: int  # the largest batch worth forming (larger ones are split)

    def probabilities(self, batch: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """(N, classes) float32: the softmax over the cells for each photo of the batch."""
        ...


def describe_model(
    folder: Path,
    num_classes: int,
    device: str,
    verified: bool,
    runtime: str,
    precision: str = "exact",
    arithmetic: str = "float32",
) -> ModelInfo:
    """What a loaded model is: untrained (its marker says so), the published files, or unverified."""
    marker = read_marker(folder)
    how = (runtime, precision, arithmetic)
    if marker is not None:
        name = f"{MODEL_NAME} - {marker.description}"
        return ModelInfo(name, str(folder), True, marker.variant, num_classes, device, verified, *how)
    if verified:
        return ModelInfo(MODEL_NAME, str(folder), False, "official", num_classes, device, True, *how)
    name = f"{MODEL_NAME} - UNVERIFIED"
    return ModelInfo(name, str(folder), False, "unverified", num_classes, device, False, *how)


def parse_device(spec: str) -> tuple[str, int]:
    """'auto' | 'cpu' | 'gpu' | 'gpu:N' -> (kind, index)."""
    m = re.fullmatch(r"\s*(auto|cpu|gpu)(?::(\d+))?\s*", spec.lower())
    if not m or (m.group(2) is not None and m.group(1) != "gpu"):
        raise DeviceError(f"unknown device {spec!r}: use auto, cpu, gpu or gpu:N")
    return m.group(1), int(m.group(2) or 0)


def in_batches(
    batch: npt.NDArray[np.float32],
    batch_size: int,
    run: Callable[[npt.NDArray[np.float32]], npt.NDArray[np.float32]],
) -> npt.NDArray[np.float32]:
    """``run`` on batches of at most ``batch_size`` photos; ModelError when the numbers are not finite."""
    parts = [run(np.ascontiguousarray(batch[i : i + batch_size], np.float32)) for i in range(0, len(batch), batch_size)]
    probs = np.concatenate(parts) if len(parts) != 1 else parts[0]
    if not np.all(np.isfinite(probs)):
        raise ModelError("the model produced invalid numbers (NaN or infinity): its weights are damaged")
    return probs


def check_classes(classes: int, grid: CellGrid) -> None:
    """ModelError unless the network has one class per cell of grids.txt."""
    if classes != len(grid):
        raise ModelError(
            f"the model has {classes} classes but {GRIDS_FILE} lists {len(grid)} cells: the files do not belong together"
        )


def complete_folder(folder: str | Path) -> Path:
    """The model folder, checked: it exists and holds the three files (ModelError saying which not)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelError(f"no model folder at {folder}")
    missing = missing_files(folder)
    if missing:
        raise ModelError(f"the model folder {folder} is incomplete: missing {', '.join(missing)}")
    return folder


def missing_files(folder: Path) -> list[str]:
    """The model files that are not in ``folder``."""
    return [name for name in MODEL_FILES if not (Path(folder) / name).is_file()]
