"""Throughput of `geoguess batch predict` (Ray) against `geoguess predict` on this machine, the
scaling from 1 to 2 model actors, and the figures of the cost model in docs/scale.md.

Prints, in one run, on copies of the corpus's 10-14 megapixel JPEGs and the full-size untrained
LocationNet:

- `geoguess predict` (no cache) and `geoguess batch predict` with 1 and 2 actors on a local Ray,
  each as a whole process (wall seconds, photos/s) and, for batch, its own time without starting
  Ray (so the overhead of Ray's start and of the pipeline show apart);
- the cost model's parts, measured in this process: CPU seconds to decode one photo (EXIF and the
  published recipe), seconds of one forward pass of a batch of 8, bytes read per photo and bytes
  of Parquet written per photo.

    python bench/bench_batch.py [--model-dir DIR] [--copies N] [--cpus N]

Needs the cluster extra (Ray). Timings on a shared 2-core machine are noisy: compare the ratios.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_predict import model_for_bench, photo_folder, run_timed  # noqa: E402

CLI = [sys.executable, "-m", "geoguess_app.cli"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-dir", type=Path)
    parser.add_argument("--copies", type=int, default=10, help="copies of each 12-megapixel JPEG (default 10)")
    parser.add_argument("--cpus", type=int, default=os.cpu_count() or 2, help="CPUs of the local Ray")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        model = model_for_bench(args.model_dir, work)
        folder = photo_folder(work / "photos", args.copies)
        photos = sorted(folder.iterdir())
        n = len(photos)
        print(f"{n} photos of 10-14 megapixels, full-size UNTRAINED stand-in, {args.cpus} CPUs\n")

        wall, _, _ = run_timed(
            [*CLI, "predict", str(folder), "--json", "--no-cache", "--no-progress", "--model-dir", str(model)]
        )
        print(f"{'geoguess predict':<34} {wall:7.2f} s  {n / wall:6.2f} photos/s  1.00x")
        base = wall
        for workers in (1, 2):
            out = work / f"out-{workers}"
            env = dict(os.environ, RAY_AUTH_MODE="disabled")
            cmd = [*CLI, "batch", "predict", str(folder), "--out", str(out), "--model-dir", str(model)]
            cmd += ["--workers", str(workers), "--num-cpus", str(args.cpus), "--no-progress"]
            start = time.perf_counter()
            done = subprocess.run(cmd, capture_output=True, text=True, env=env)
            wall = time.perf_counter() - start
            if done.returncode not in (0, 1):
                raise SystemExit(done.stderr[-2000:])
            inner = float(re.search(r"; ([0-9.]+) s, [0-9.]+ photos/s", done.stderr).group(1))
            print(
                f"{f'batch predict, {workers} actor(s)':<34} {wall:7.2f} s  {n / wall:6.2f} photos/s  {base / wall:.2f}x"
                f"   (after Ray's start: {inner:.2f} s, {n / inner:.2f} photos/s, {base / inner:.2f}x)"
            )
        parquet = sum(p.stat().st_size for p in (work / "out-1").glob("part-*.parquet"))

        # the cost model's parts
        import numpy as np

        from geoguess_app.core.engine import open_engine
        from geoguess_app.core.predict.pipeline import decode

        cpu = []
        tensors = []
        for p in photos[: min(n, 20)]:
            t = time.process_time()
            _, tensor = decode(p)
            cpu.append(time.process_time() - t)
            tensors.append(tensor)
        engine = open_engine(model, "cpu").result()
        classifier = engine.predictor().classifier
        batch = np.stack(tensors[:8])
        classifier.probabilities(batch)  # warm up
        forward = []
        for _ in range(3):
            t = time.perf_counter()
            classifier.probabilities(batch)
            forward.append(time.perf_counter() - t)
        read = statistics.mean(p.stat().st_size for p in photos)
        print()
        print(f"decode, CPU seconds per photo (median of {len(cpu)}): {statistics.median(cpu):.3f}")
        print(
            f"forward pass of a batch of 8 on this CPU ({engine.info.runtime}), median of 3: {statistics.median(forward):.3f} s"
        )
        print(f"bytes read per photo: {read / 1e6:.2f} MB; Parquet written per photo: {parquet / n / 1e3:.1f} kB")


if __name__ == "__main__":
    main()
