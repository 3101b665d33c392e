"""Seconds per photo of each installed runtime on the same photos, and how far their answers differ.

    python bench/bench_runtimes.py [--model-dir DIR] [--photos N]

Without --model-dir a full-size UNTRAINED stand-in is synthesized first (random weights: the
differences say nothing of the trained model's, only of the runtimes' arithmetic). Each runtime
classifies the same N corpus photos (decoded once, beforehand) in its own batch size, after one
warm-up batch; the ratios are against MXNet in the same run. Each is also compared with the same
network computed in float64 (by MXNet), which every float32 runtime only approximates.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from geoguess_app.core.engine import available_runtimes, open_engine, synthesize  # noqa: E402
from geoguess_app.core.photos.decode import list_photos  # noqa: E402
from geoguess_app.core.predict.pipeline import decode  # noqa: E402

SHARED = Path(os.environ.get("GEOGUESS_SHARED", ROOT.parent / "shared"))


def float64_reference(folder: Path, batch: np.ndarray) -> np.ndarray:
    """The same network in float64 (MXNet, slow): what each float32 runtime approximates."""
    from geoguess_app.core.model.mxnet.importer import mxnet

    mx = mxnet()
    symbol = mx.sym.load(str(folder / "RN101-5k500-symbol.json"))
    params = mx.nd.load(str(folder / "RN101-5k500-0012.params"))
    args = {k[4:]: v.astype("float64") for k, v in params.items() if k.startswith("arg:")}
    aux = {k[4:]: v.astype("float64") for k, v in params.items() if k.startswith("aux:")}
    out = []
    for i in range(0, len(batch), 8):
        part = batch[i : i + 8]
        args["data"] = mx.nd.array(part, dtype="float64")
        args["softmax_label"] = mx.nd.zeros((len(part),), dtype="float64")
        executor = symbol.bind(mx.cpu(), args=args, aux_states=aux, grad_req="null")
        executor.forward(is_train=False)
        out.append(executor.outputs[0].asnumpy())
    return np.concatenate(out)


def setups() -> list[tuple[str, str]]:
    """(runtime, precision) of every installed runtime, and OpenVINO's fast precision where the CPU has it."""
    found = [(runtime, "exact") for runtime in available_runtimes()]
    if "openvino" in available_runtimes():
        from geoguess_app.core.model.onnx.runtime_ov import fast_available

        if fast_available():
            found.append(("openvino", "fast"))
    return found


def forward_passes(folder: Path, batch: np.ndarray) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Each runtime's answers for ``batch`` and its seconds per photo (after one warm-up batch)."""
    results, times = {}, {}
    for runtime, precision in setups():
        classifier = open_engine(folder, "cpu", runtime=runtime, precision=precision).result().classifier
        name = "openvino-bf16" if precision == "fast" else runtime
        classifier.probabilities(batch[: classifier.batch_size])  # warm up
        start = time.perf_counter()
        results[name] = classifier.probabilities(batch)
        times[name] = (time.perf_counter() - start) / len(batch)
    return results, times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir")
    parser.add_argument("--photos", type=int, default=40)
    args = parser.parse_args()
    folder = Path(args.model_dir) if args.model_dir else None
    if folder is None:
        folder = Path(tempfile.mkdtemp(prefix="geoguess-bench-")) / "model"
        print("synthesizing a full-size UNTRAINED stand-in ...", file=sys.stderr)
        synthesize(folder, SHARED / "locationnet", seed=3)
    paths = list_photos([SHARED / "exif-corpus"], recursive=True)
    tensors = []
    for p in paths:
        tensor = decode(p)[1]
        if tensor is not None:
            tensors.append(tensor)
        if len(tensors) == args.photos:
            break
    batch = np.stack(tensors)
    results, times = forward_passes(folder, batch)
    exact = float64_reference(folder, batch) if "mxnet" in results else None
    print(f"{len(batch)} photos, CPU, {os.cpu_count()} cores; UNTRAINED stand-in (random weights)")
    reference = results.get("mxnet")
    for runtime, seconds in times.items():
        line = f"  {runtime:<12} {seconds:.4f} s/photo"
        if exact is not None:
            line += f"  off float64 by {np.abs(results[runtime] - exact).max():.1e}"
        if reference is not None and runtime != "mxnet":
            same = sum((np.argsort(-a)[:5] == np.argsort(-b)[:5]).all() for a, b in zip(results[runtime], reference))
            top1 = int(np.sum(results[runtime].argmax(axis=1) == reference.argmax(axis=1)))
            line += (
                f"  {times['mxnet'] / seconds:.2f}x MXNet's speed; top guess as MXNet on {top1}/{len(batch)},"
                f" top 5 on {same}/{len(batch)};"
                f" largest probability difference {np.abs(results[runtime] - reference).max():.1e}"
            )
        print(line)


if __name__ == "__main__":
    main()
