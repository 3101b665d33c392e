"""The packaged app against the source install (a benchmark, not a test).

Starts the built `dist/GeoGuess/geoguess-app` and the source install's `geoguess-app` in turn, each
in its headless check mode on the same 10-14 megapixel photo with the full-size untrained
LocationNet, and prints the time from launch to the first prediction shown (photo, rows and map
markers), the median of several alternating runs, with the ratio. Also prints the folder's size
on disk and the largest parts of it. Build the folder first (packaging/build.sh). Run:

    python bench/bench_packaged.py [--dist dist/GeoGuess] [--model-dir DIR] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "packaging"))


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def main() -> None:
    from bench_predict import model_for_bench, twelve_megapixel_jpegs
    from smoke_test import bare_environment, check_mode

    def first_prediction(app: Path) -> float:
        return check_mode(app, photo, model, work / "shot.png", env, work)[1]

    parser = argparse.ArgumentParser()
    parser.add_argument("--dist", type=Path, default=ROOT / "dist" / "GeoGuess")
    parser.add_argument("--model-dir", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    built = args.dist.resolve() / "geoguess-app"
    source = Path(sys.executable).parent / "geoguess-app"
    for app in (built, source):
        if not os.access(app, os.X_OK):
            raise SystemExit(f"{app} is missing (build with packaging/build.sh; install with pip install -e .)")
    work = Path(tempfile.mkdtemp(prefix="geoguess-bench-packaged-"))
    try:
        model = model_for_bench(args.model_dir, work)
        photo = work / "photo.jpg"
        shutil.copy(twelve_megapixel_jpegs()[0], photo)
        env = bare_environment(work / "home")
        times: dict[str, list[float]] = {"packaged": [], "source": []}
        first_prediction(built)  # warm the disk cache for both, untimed
        first_prediction(source)
        for _ in range(args.runs):
            times["packaged"].append(first_prediction(built))
            times["source"].append(first_prediction(source))
        packaged, from_source = statistics.median(times["packaged"]), statistics.median(times["source"])
        which = "full-size untrained LocationNet" if args.model_dir is None else f"the model in {args.model_dir}"
        print(
            f"model: {which}, CPU, {os.cpu_count()} cores; photo: {photo.stat().st_size:,} "
            f"byte JPEG of 10-14 megapixels; offscreen; median of {args.runs} alternating runs after a warm-up"
        )
        print(
            f"launch to first prediction shown: packaged {packaged:.2f} s "
            f"({', '.join(f'{t:.2f}' for t in times['packaged'])}), source install {from_source:.2f} s "
            f"({', '.join(f'{t:.2f}' for t in times['source'])}); packaged/source = {packaged / from_source:.2f}"
        )
        total = folder_size(args.dist)
        print(f"{args.dist}: {total / 2**20:,.0f} MiB in files")
        parts = {}
        for path in args.dist.rglob("*"):
            if path.is_file() and not path.is_symlink():
                rel = path.relative_to(args.dist).parts
                key = "/".join(rel[:4]) if rel[:3] == ("_internal", "PySide6", "Qt") else "/".join(rel[:2])
                parts[key] = parts.get(key, 0) + path.stat().st_size
        for key, size in sorted(parts.items(), key=lambda kv: -kv[1])[:8]:
            print(f"  {size / 2**20:7,.0f} MiB  {key}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
