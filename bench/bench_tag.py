"""What writing costs: `geoguess tag --write` against `geoguess predict` on the same folder.

    python bench/bench_tag.py [--model-dir DIR] [--copies N]

A folder of the corpus's 10-14 megapixel JPEGs (each copied N times) is predicted, then a fresh
copy of it is geotagged with --write --overwrite-gps (so that every photo is written, also the
three that have a GPS position); both run as fresh processes, timed from start to exit.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_predict import model_for_bench, photo_folder, run_timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-dir", type=Path)
    parser.add_argument("--copies", type=int, default=6)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="geoguess-bench-tag-"))
    try:
        model_dir = model_for_bench(args.model_dir, work)
        source = photo_folder(work / "source", args.copies)
        n = len(list(source.iterdir()))
        exe = Path(sys.executable).parent / "geoguess"
        common = ["--model-dir", str(model_dir), "--device", "cpu", "--no-progress"]
        predict_s, tag_s = [], []
        for r in range(args.repeat):
            predict_s.append(run_timed([str(exe), "predict", *common, str(source)])[0])
            folder = work / f"tag-{r}"
            shutil.copytree(source, folder)
            # exit status 1: some photos were refused (each is listed); that is part of the work
            wall, _, out = run_timed(
                [
                    str(exe),
                    "tag",
                    "--write",
                    "--overwrite-gps",
                    "--journal",
                    str(work / f"journal-{r}.jsonl"),
                    *common,
                    str(folder),
                ],
                ok=(0, 1),
            )
            written = sum(line.lstrip().startswith("written") for line in out.splitlines())
            tag_s.append(wall)
        p, t = statistics.median(predict_s), statistics.median(tag_s)
        print(
            f"folder of {n} JPEGs of 10-14 megapixels, full-size untrained LocationNet on the CPU "
            f"(median of {args.repeat} runs each)"
        )
        print(f"  geoguess predict          {p:7.2f} s  ({p / n:.3f} s/photo)")
        print(
            f"  geoguess tag --write      {t:7.2f} s  ({t / n:.3f} s/photo; {written} written, "
            f"{n - written} refused as unsafe)"
        )
        print(f"  writing adds              {100 * (t - p) / p:6.1f} %  (target at most 10 %)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
