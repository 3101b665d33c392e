"""Decoding on every core, and what the fast (reduced) decode changes (a benchmark, not a test).

Prints, in one run on this machine:
1. decoding alone (the pipeline's first stage: file, EXIF and the recipe's tensor) of 12-megapixel
   JPEGs of the corpus, in photos/s: one thread (GeoGuess before: the published recipe's pixels,
   decoded by one thread), the worker pool in threads and in processes on every core, and the
   reduced decode (JPEG DCT scaling, the fast precision's) in the pool;
2. how often the reduced decode and the whole fast precision (reduced decode and bfloat16, where
   the CPU has it) agree with the exact precision on up to N photos of the corpus (JPEGs of every
   size): the same top guess, the same top five, and the largest difference of a probability.

    python bench/bench_decoding.py [--model-dir DIR] [--photos 100] [--copies 6]

With the untrained stand-in (the default without --model-dir), agreement figures are those of a
random network: they say how much the input changes, not how LocationNet's answers would.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import numpy as np  # noqa: E402
from bench_predict import CORPUS, model_for_bench, twelve_megapixel_jpegs  # noqa: E402

from geoguess_app.core.engine import agreement_counts  # noqa: E402
from geoguess_app.core.predict.decoding import DecodePlan, OrderedDecoder, decode_plan  # noqa: E402
from geoguess_app.core.predict.pipeline import decode  # noqa: E402


def _decode_exact(path: str):
    return decode(path)


def _decode_reduced(path: str):
    return decode(path, reduced=True)


def throughput(plan: DecodePlan, paths: list[str]) -> float:
    """Photos per second through the pool (its start included: a folder pays it too)."""
    task = _decode_reduced if plan.reduced else _decode_exact
    start = time.perf_counter()
    decoder = OrderedDecoder(plan, task, paths, lambda p, e: None, ahead=2 * plan.workers + 2)
    try:
        while not decoder.exhausted():
            decoder.take()
    finally:
        decoder.close()
    return len(paths) / (time.perf_counter() - start)


def corpus_jpegs(limit: int) -> list[str]:
    """JPEGs of the corpus that decode, of every size, in a fixed order."""
    with open(CORPUS / "MANIFEST.tsv", newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f, delimiter="\t") if r["format"] == "JPEG" and r["pil_load"] == "ok"]
    rows.sort(key=lambda r: r["path"])
    step = max(1, len(rows) // limit)
    return [str(CORPUS / r["path"]) for r in rows[::step][:limit]]


def agreement(exact: np.ndarray, other: np.ndarray) -> str:
    n = len(exact)
    top1, top5 = agreement_counts(exact, other)
    diff = float(np.abs(exact - other).max())
    return f"top guess {top1}/{n}, same top 5 {top5}/{n}, largest probability difference {diff:.4f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-dir", type=Path)
    parser.add_argument("--photos", type=int, default=100, help="corpus JPEGs for the agreement (default 100)")
    parser.add_argument("--copies", type=int, default=6, help="copies of the 12-megapixel JPEGs for the speed")
    args = parser.parse_args()

    from geoguess_app.core.engine import fast_arithmetic, open_engine

    work = Path(tempfile.mkdtemp(prefix="geoguess-bench-decoding-"))
    try:
        model_dir = model_for_bench(args.model_dir, work)
        paths = [str(p) for p in twelve_megapixel_jpegs()] * args.copies
        cores = os.cpu_count() or 1
        print(f"decoding alone: {len(paths)} JPEGs of 10-14 megapixels, {cores} cores")
        plans = {
            "1 thread, exact (GeoGuess before)": decode_plan(workers=1),
            f"{cores} threads, exact": DecodePlan(cores, False, decode_plan().budget),
            f"{cores} processes, exact": DecodePlan(cores, True, decode_plan().budget),
            f"{cores} threads, reduced decode": DecodePlan(cores, False, decode_plan().budget, reduced=True),
            f"{cores} processes, reduced decode": DecodePlan(cores, True, decode_plan().budget, reduced=True),
        }
        throughput(plans["1 thread, exact (GeoGuess before)"], paths[:4])  # page cache and imports: untimed
        base = None
        for name, plan in plans.items():
            rate = throughput(plan, paths)
            base = base or rate
            print(f"  {name:38} {rate:7.1f} photos/s  {rate / base:5.2f}x")

        photos = corpus_jpegs(args.photos)
        exact_in = [decode(p) for p in photos]
        reduced_in = [decode(p, reduced=True) for p in photos]
        keep = [i for i, ((_, a), (_, b)) in enumerate(zip(exact_in, reduced_in)) if a is not None and b is not None]
        reduced_count = sum("reduced" in reduced_in[i][0].source_image for i in keep)
        exact_batch = np.stack([exact_in[i][1] for i in keep])
        reduced_batch = np.stack([reduced_in[i][1] for i in keep])
        exact_net = open_engine(model_dir, "cpu", runtime="onnxruntime").result().classifier
        exact = exact_net.probabilities(exact_batch)
        print()
        print(
            f"agreement with the exact precision on {len(keep)} corpus JPEGs ({reduced_count} large enough to reduce):"
        )
        print(f"  reduced decode, float32:            {agreement(exact, exact_net.probabilities(reduced_batch))}")
        arithmetic = fast_arithmetic("cpu")
        if arithmetic != "float32":
            fast_net = open_engine(model_dir, "cpu", precision="fast").result().classifier
            print(f"  {arithmetic}, exact decode:{'':13}{agreement(exact, fast_net.probabilities(exact_batch))}")
            label = f"fast precision (reduced, {arithmetic}):"
            print(f"  {label:36}{agreement(exact, fast_net.probabilities(reduced_batch))}")
        else:
            print("  (this CPU has no bfloat16: the fast precision here is the reduced decode in float32, above)")
        print("(an UNTRAINED stand-in: how much the fast paths change a random network's answers, not LocationNet's)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
