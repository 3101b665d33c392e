"""Seconds per photo of each installed runtime on the same photos, and how far their answers differ.

    python bench/bench_runtimes.py [--model-dir DIR] [--photos N]

Without --model-dir a full-size UNTRAINED stand-in is synthesized first (random weights: the
differences say nothing of the trained model's, only of the runtimes' arithmetic). Each runtime
classifies the same N corpus photos (decoded once, beforehand) in its own batch size, after one
warm-up batch; the ratios are against MXNet in the same run.
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
    results, times = {}, {}
    for runtime in available_runtimes():
        classifier = open_engine(folder, "cpu", runtime=runtime).result().classifier
        classifier.probabilities(batch[: classifier.batch_size])  # warm up
        start = time.perf_counter()
        results[runtime] = classifier.probabilities(batch)
        times[runtime] = (time.perf_counter() - start) / len(batch)
    print(f"{len(batch)} photos, CPU, {os.cpu_count()} cores; UNTRAINED stand-in (random weights)")
    reference = results.get("mxnet")
    for runtime, seconds in times.items():
        line = f"  {runtime:<12} {seconds:.4f} s/photo"
        if reference is not None and runtime != "mxnet":
            same = sum((np.argsort(-a)[:5] == np.argsort(-b)[:5]).all() for a, b in zip(results[runtime], reference))
            line += (
                f"  {times['mxnet'] / seconds:.2f}x MXNet's speed; top 5 as MXNet on {same}/{len(batch)};"
                f" largest probability difference {np.abs(results[runtime] - reference).max():.1e}"
            )
        print(line)


if __name__ == "__main__":
    main()
